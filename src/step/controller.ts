// Wires the AgentStep reconciler to its informers: AgentSteps, and the Jobs, pods and MiniClusters
// the steps own (selected by the managed-by label), each mapped back to its step by label.
import { LABELS, MANAGED_BY } from '../api/names.ts';
import { RESOURCES } from '../kube/resources.ts';
import { Controller, ownerKeyByLabel } from '../runtime/controller.ts';
import { LabelIndex } from '../runtime/informer.ts';
import type { Manager } from '../runtime/manager.ts';
import { BackgroundTasks } from '../runtime/tasks.ts';
import { type AgentStepObject, StepReconciler, type StepReconcilerDeps } from './reconcile.ts';

export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;

export type StepControllerDeps = Omit<
  StepReconcilerDeps,
  'steps' | 'world' | 'tasks' | 'events' | 'metrics' | 'logger'
> & {
  concurrency: number;
  resyncMs?: number;
  miniClusterInstalled: () => Promise<boolean>;
};

export function stepController(manager: Manager, deps: StepControllerDeps): Controller {
  const steps = manager.informer<AgentStepObject>(RESOURCES.agentSteps);
  const jobs = manager.informer(RESOURCES.jobs, MANAGED_SELECTOR);
  const pods = manager.informer(RESOURCES.pods, MANAGED_SELECTOR);
  const podsByJob = new LabelIndex(pods, 'job-name');
  let controller: Controller | undefined;
  const tasks = new BackgroundTasks((key) => controller?.enqueue(key, 'task'));
  const reconciler = new StepReconciler({
    ...deps,
    steps,
    tasks,
    world: {
      client: deps.client,
      jobs,
      pods,
      podsOfJob: (namespace, job) => podsByJob.get(namespace, job),
      miniClusterInstalled: deps.miniClusterInstalled,
    },
    events: manager.events,
    metrics: manager.metrics,
    logger: manager.logger.child({ controller: 'agentstep' }),
  });
  const byStepLabel = ownerKeyByLabel(LABELS.step);
  controller = new Controller({
    name: 'agentstep',
    primary: steps,
    owned: [
      { informer: jobs, ownerKey: byStepLabel },
      { informer: pods, ownerKey: byStepLabel },
    ],
    reconcile: (key) => reconciler.reconcile(key),
    concurrency: deps.concurrency,
    ...(deps.resyncMs ? { resyncMs: deps.resyncMs } : {}),
    logger: manager.logger,
    metrics: manager.metrics,
  });
  manager.add(controller);
  return controller;
}
