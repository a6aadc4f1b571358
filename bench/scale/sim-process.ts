// The simulated cluster of the scale benchmark, in its own process (as a real API server is), driven
// over IPC by bench/scale/harness.ts. Plans are created in the store directly, so the harness adds no
// API requests to the ones counted; what the operator asks is counted by the sim's API server
// (src/sim/server/requests.ts). It also measures, where the clock is the store's own: the time from
// a Job's terminal condition to the next status write of the AgentStep that owns it.
//
//   node bench/scale/sim-process.ts --speed 0.01 --nodes 10   (forked; not a command for people)

import { parseArgs } from 'node:util';
import { LABELS } from '../../src/api/names.ts';
import { startSimCluster } from '../../src/sim/index.ts';
import type { KubeObject } from '../../src/sim/server/types.ts';
import { chaosBehaviors } from '../chaos/scenarios.ts';
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

// Reaction latency: a Job turns Complete or Failed; when is its step's status written next?
const terminalSince = new Map<string, number>();
const reactionMs: number[] = [];
const seenTerminal = new Set<string>();
const stepOf = (job: KubeObject) =>
  job.metadata.labels?.[LABELS.step] ??
  job.metadata.ownerReferences?.find((o) => o.kind === 'AgentStep')?.name;
const isTerminal = (job: KubeObject) =>
  ((job as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? []).some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
const lastStatus = new Map<string, Record<string, unknown>>();
/** The fields of the status that changed since the last event (a debugging aid: FRACTALE_SCALE_TRACE=<plan>). */
function changed(kind: string, object: KubeObject): string {
  const key = `${kind}/${object.metadata.name}`;
  const now = statusOf(object) as Record<string, unknown>;
  const before = lastStatus.get(key) ?? {};
  lastStatus.set(key, now);
  return Object.keys({ ...before, ...now })
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]))
    .map((k) => `${k}=${JSON.stringify(now[k])?.slice(0, 120)}`)
    .join(' ');
}
const unwatch = [
  sim.store.watch(
    'fractale.dev/v1alpha1/agentplans',
    (event) => {
      const name = event.object.metadata.name!;
      if (process.env['FRACTALE_SCALE_TRACE'] && name.startsWith(process.env['FRACTALE_SCALE_TRACE'])) {
        console.error(`TRACE plan ${name} ${event.type} ${changed('plan', event.object)}`);
      }
    },
    { namespace: SCALE_NAMESPACE },
  ),
  sim.store.watch(
    'batch/v1/jobs',
    (event) => {
      const job = event.object;
      const key = `${job.metadata.name}/${job.metadata.uid}`;
      if (event.type === 'DELETED' || seenTerminal.has(key) || !isTerminal(job)) return;
      seenTerminal.add(key);
      const step = stepOf(job);
      if (step && !terminalSince.has(step)) terminalSince.set(step, performance.now());
    },
    { namespace: SCALE_NAMESPACE },
  ),
  sim.store.watch(
    'fractale.dev/v1alpha1/agentsteps',
    (event) => {
      const name = event.object.metadata.name!;
      if (process.env['FRACTALE_SCALE_TRACE'] && name.startsWith(process.env['FRACTALE_SCALE_TRACE'])) {
        console.error(`TRACE step ${name} ${event.type} ${changed('step', event.object)}`);
      }
      const since = terminalSince.get(name);
      if (since === undefined || event.type !== 'MODIFIED') return;
      terminalSince.delete(name);
      reactionMs.push(performance.now() - since);
    },
    { namespace: SCALE_NAMESPACE },
  ),
];

const TERMINAL = new Set(['Succeeded', 'Failed']);
type Status = {
  phase?: string;
  history?: { tokens?: number; modelCalls?: number; outcome?: string; reason?: string; message?: string }[];
};
const statusOf = (o: KubeObject) => ((o as { status?: Status }).status ?? {}) as Status;

function footprint(): Footprint {
  const objects: Footprint['objects'] = {};
  let largest = { resource: '', name: '', bytes: 0 };
  for (const type of sim.store.resources()) {
    if (!type.namespaced) continue;
    for (const object of sim.store.listRaw(type.name, SCALE_NAMESPACE).items) {
      if (object.metadata.name === 'kube-root-ca.crt') continue;
      const bytes = Buffer.byteLength(JSON.stringify(object));
      const entry = objects[type.plural] ?? { count: 0, bytes: 0 };
      entry.count++;
      entry.bytes += bytes;
      objects[type.plural] = entry;
      if (bytes > largest.bytes) largest = { resource: type.plural, name: object.metadata.name!, bytes };
    }
  }
  const all = Object.values(objects);
  return {
    objects,
    totalBytes: all.reduce((sum, o) => sum + o.bytes, 0),
    totalObjects: all.reduce((sum, o) => sum + o.count, 0),
    largest,
  };
}

function stats(): SimStats {
  const plans = sim.store.listRaw('fractale.dev/v1alpha1/agentplans', SCALE_NAMESPACE).items.map((p) => ({
    name: p.metadata.name!,
    ...(statusOf(p).phase ? { phase: statusOf(p).phase } : {}),
  }));
  const steps = sim.store.listRaw('fractale.dev/v1alpha1/agentsteps', SCALE_NAMESPACE).items.map((s) => {
    const status = statusOf(s);
    const history = status.history ?? [];
    return {
      name: s.metadata.name!,
      ...(status.phase ? { phase: status.phase } : {}),
      attempts: history.length,
      tokens: history.reduce((sum, h) => sum + (h.tokens ?? 0), 0),
      modelCalls: history.reduce((sum, h) => sum + (h.modelCalls ?? 0), 0),
    };
  });
  const failures: SimStats['failures'] = {};
  for (const s of sim.store.listRaw('fractale.dev/v1alpha1/agentsteps', SCALE_NAMESPACE).items)
    for (const h of statusOf(s).history ?? [])
      if (h.outcome === 'Failed') {
        const known = failures[h.reason ?? ''] ?? { count: 0, message: (h.message ?? '').slice(0, 200) };
        known.count++;
        failures[h.reason ?? ''] = known;
      }
  return {
    failures,
    requests: sim.requests.all(),
    reactionMs: [...reactionMs],
    unanswered: terminalSince.size,
    plans,
    steps,
    jobs: seenTerminal.size,
    footprint: footprint(),
    memory: processMemory(process.pid),
  };
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
  while (
    Date.now() < until &&
    owned.some((resource) => sim.store.listRaw(resource, SCALE_NAMESPACE).items.length > 0)
  )
    await new Promise((resolve) => setTimeout(resolve, 100));
  return footprint();
}

async function answer(request: SimRequest): Promise<unknown> {
  switch (request.op) {
    case 'apply':
      for (const plan of request.plans)
        sim.store.create('fractale.dev/v1alpha1/agentplans', plan as KubeObject);
      return { applied: request.plans.length };
    case 'progress': {
      const plans = sim.store.listRaw('fractale.dev/v1alpha1/agentplans', SCALE_NAMESPACE).items;
      return {
        total: plans.length,
        done: plans.filter((p) => TERMINAL.has(statusOf(p).phase ?? '')).length,
        failed: plans.filter((p) => statusOf(p).phase === 'Failed').length,
      };
    }
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
