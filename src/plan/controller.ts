// Wires the AgentPlan reconciler: AgentPlans, and the AgentSteps they own (by owner reference).
import { RESOURCES } from '../kube/resources.ts';
import { ResultsWriter } from '../results/writer.ts';
import { Controller, ownerKeyByReference } from '../runtime/controller.ts';
import type { Manager } from '../runtime/manager.ts';
import { BackgroundTasks } from '../runtime/tasks.ts';
import {
  type AgentPlanObject,
  type AgentStepObject,
  PlanReconciler,
  type PlanReconcilerDeps,
} from './reconcile.ts';

export type PlanControllerDeps = Pick<PlanReconcilerDeps, 'client' | 'model' | 'now'> & {
  concurrency: number;
  resyncMs?: number;
};

export function planController(manager: Manager, deps: PlanControllerDeps): Controller {
  const plans = manager.informer<AgentPlanObject>(RESOURCES.agentPlans);
  const steps = manager.informer<AgentStepObject>(RESOURCES.agentSteps);
  let controller: Controller | undefined;
  const tasks = new BackgroundTasks((key) => controller?.enqueue(key, 'task'));
  const reconciler = new PlanReconciler({
    ...deps,
    plans,
    steps,
    tasks,
    results: new ResultsWriter(deps.client, deps.now),
    events: manager.events,
    metrics: manager.metrics,
    logger: manager.logger.child({ controller: 'agentplan' }),
  });
  controller = new Controller({
    name: 'agentplan',
    primary: plans,
    owned: [{ informer: steps, ownerKey: ownerKeyByReference('AgentPlan') }],
    reconcile: (key) => reconciler.reconcile(key),
    concurrency: deps.concurrency,
    ...(deps.resyncMs ? { resyncMs: deps.resyncMs } : {}),
    logger: manager.logger,
    metrics: manager.metrics,
  });
  manager.add(controller);
  return controller;
}
