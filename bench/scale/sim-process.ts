// The simulated cluster of the scale benchmark, in its own process (as a real API server is), driven
// over IPC by bench/scale/harness.ts. Plans are created in the store directly, so the harness adds no
// API requests to the ones counted; what the operator asks is counted by the sim's API server
// (src/sim/server/requests.ts). It also measures, where the clock is the store's own: the time from
// a Job's terminal condition to the next status write of the AgentStep that owns it.
//
//   node bench/scale/sim-process.ts --speed 0.01 --nodes 10   (forked; not a command for people)

import { parseArgs } from 'node:util';
import { startSimCluster } from '../../src/sim/index.ts';
import type { KubeObject } from '../../src/sim/server/types.ts';
import { chaosBehaviors } from '../chaos/scenarios.ts';
import { footprintOf, planFigures, progressOf, ReactionClock, stepFigures } from './figures.ts';
import { processMemory } from './proc.ts';
import { type Footprint, SCALE_NAMESPACE, type SimRequest, type SimStats } from './protocol.ts';

const { values } = parseArgs({
  options: { speed: { type: 'string', default: '0.01' }, nodes: { type: 'string', default: '10' } },
});

const nodes = Array.from({ length: Number(values.nodes) }, (_, i) => ({
  name: `scale-node-${i}`,
  // Big nodes: the benchmark measures the operator, so the cluster's capacity must not be the limit.
  cpu: '2000',
  memory: '8Ti',
  pods: 5000,
  instanceType: 'sim-huge',
}));
const sim = await startSimCluster({ behaviors: chaosBehaviors(), speed: Number(values.speed), nodes });
sim.store.create('v1/namespaces', {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: SCALE_NAMESPACE },
} as KubeObject);

// Reaction latency, on the store's own clock: a Job turns Complete or Failed; when is its step's
// status written next?
const clock = new ReactionClock();
const unwatch = [
  sim.store.watch(
    'batch/v1/jobs',
    (event) => {
      if (event.type !== 'DELETED') clock.job(event.object);
    },
    { namespace: SCALE_NAMESPACE },
  ),
  sim.store.watch(
    'fractale.dev/v1alpha1/agentsteps',
    (event) => {
      if (event.type === 'MODIFIED') clock.step(event.object.metadata.name!);
    },
    { namespace: SCALE_NAMESPACE },
  ),
];

const list = (resource: string) => sim.store.listRaw(resource, SCALE_NAMESPACE).items;

function stats(): SimStats {
  return {
    ...stepFigures(list('fractale.dev/v1alpha1/agentsteps')),
    requests: sim.requests.all(),
    reactionMs: [...clock.samplesMs],
    unanswered: clock.unanswered,
    plans: planFigures(list('fractale.dev/v1alpha1/agentplans')),
    jobs: clock.endedJobs.size,
    footprint: footprint(),
    memory: processMemory(process.pid),
  };
}

function footprint(): Footprint {
  return footprintOf(
    sim.store
      .resources()
      .filter((type) => type.namespaced)
      .map((type) => [type.plural, list(type.name)]),
  );
}

async function deletePlans(timeoutMs: number): Promise<Footprint> {
  for (const plan of sim.store.listRaw('fractale.dev/v1alpha1/agentplans', SCALE_NAMESPACE).items)
    sim.store.delete('fractale.dev/v1alpha1/agentplans', SCALE_NAMESPACE, plan.metadata.name!);
  // Owned objects go by garbage collection (and the operator's finalizers): wait until they have.
  const owned = [
    'fractale.dev/v1alpha1/agentsteps',
    'batch/v1/jobs',
    'v1/pods',
    'fractale.dev/v1alpha1/agentplans',
  ];
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && owned.some((resource) => list(resource).length > 0))
    await new Promise((resolve) => setTimeout(resolve, 100));
  return footprint();
}

async function answer(request: SimRequest): Promise<unknown> {
  switch (request.op) {
    case 'apply':
      for (const plan of request.plans)
        sim.store.create('fractale.dev/v1alpha1/agentplans', plan as KubeObject);
      return { applied: request.plans.length };
    case 'progress':
      return progressOf(list('fractale.dev/v1alpha1/agentplans'));
    case 'reset-requests':
      sim.requests.reset();
      return {};
    case 'stats':
      return stats();
    case 'delete-plans':
      return deletePlans(request.timeoutMs);
    case 'stop':
      for (const stop of unwatch) stop();
      await sim.stop();
      setImmediate(() => process.exit(0));
      return {};
  }
}

process.on('message', (request: SimRequest) => {
  answer(request).then(
    (value) => process.send?.({ id: request.id, value }),
    (error: unknown) => process.send?.({ id: request.id, error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: { kubeconfigPath: sim.kubeconfigPath, url: sim.url } });
