// Wires the AgentExperiment reconciler: AgentExperiments, and the AgentPlans they own (by owner reference).
import { RESOURCES } from '../kube/resources.ts';
import { Controller, ownerKeyByReference } from '../runtime/controller.ts';
import type { Manager } from '../runtime/manager.ts';
import { ExperimentResults } from './aggregate.ts';
import {
  type AgentExperimentObject,
  type AgentPlanObject,
  ExperimentReconciler,
  type ExperimentReconcilerDeps,
} from './reconcile.ts';

export type ExperimentControllerDeps = Pick<ExperimentReconcilerDeps, 'client' | 'now'> & {
  concurrency: number;
  resyncMs?: number;
};

export function experimentController(manager: Manager, deps: ExperimentControllerDeps): Controller {
  const experiments = manager.informer<AgentExperimentObject>(RESOURCES.agentExperiments);
  const plans = manager.informer<AgentPlanObject>(RESOURCES.agentPlans);
  const reconciler = new ExperimentReconciler({
    ...deps,
    experiments,
    plans,
    results: new ExperimentResults(deps.client),
    events: manager.events,
    logger: manager.logger.child({ controller: 'agentexperiment' }),
  });
  const controller = new Controller({
    name: 'agentexperiment',
    primary: experiments,
    owned: [{ informer: plans, ownerKey: ownerKeyByReference('AgentExperiment') }],
    reconcile: (key) => reconciler.reconcile(key),
    concurrency: deps.concurrency,
    ...(deps.resyncMs ? { resyncMs: deps.resyncMs } : {}),
    logger: manager.logger,
    metrics: manager.metrics,
  });
  manager.add(controller);
  return controller;
}
