// The real lane of the scale benchmark: a real kube-apiserver, etcd and kube-controller-manager
// (scripts/control-plane.ts, built from Kubernetes' sources) with the simulated world attached for
// what no control plane has (kubelets, Kaniko, a registry), in this process, driven over IPC by
// bench/scale/harness.ts as bench/scale/sim-process.ts is. The API server's audit log counts the
// operator's requests (by User-Agent, verb, resource, subresource and code); plans, progress and
// the footprint go through the API as `fractale-bench`, which the counts leave out. The latency is
// measured from this process's watches: a Job's terminal condition → its step's next status; and
// apart, the real Job controller's lag from a pod's end to its Job's condition.
//
//   node bench/scale/real-process.ts --speed 0.01 --nodes 10   (forked; not a command for people)

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startControlPlane } from '../../scripts/control-plane.ts';
import { LABELS } from '../../src/api/names.ts';
import { identify, KubeClient, type KubeObject } from '../../src/kube/client.ts';
import { RESOURCES, type Resource } from '../../src/kube/resources.ts';
import { Informer } from '../../src/runtime/informer.ts';
import { miniClusterCrdPath, projectCrdPaths } from '../../src/sim/index.ts';
import { clientOf, RequestCounts } from '../../src/sim/server/requests.ts';
import { attachWorld } from '../../src/sim/world/index.ts';
import { chaosBehaviors } from '../chaos/scenarios.ts';
import { processMemory } from './proc.ts';
import { type Footprint, SCALE_NAMESPACE, type SimRequest, type SimStats } from './protocol.ts';

const SERVICE_ACCOUNTS: Resource = {
  group: '',
  version: 'v1',
  plural: 'serviceaccounts',
  kind: 'ServiceAccount',
  namespaced: true,
};

const { values } = parseArgs({
  options: { speed: { type: 'string', default: '0.01' }, nodes: { type: 'string', default: '10' } },
});

// Every request, at Metadata level: who asked what, and the answer's code; no bodies.
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
`;

const controlPlane = await startControlPlane({
  log: () => {},
  apiserverArgs: (dir) => {
    writeFileSync(join(dir, 'audit-policy.yaml'), AUDIT_POLICY);
    return [
      `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`,
      `--audit-log-path=${join(dir, 'audit.log')}`,
      '--audit-log-format=json',
      '--audit-log-mode=blocking',
      '--audit-log-maxsize=0',
    ];
  },
});
const auditLog = join(controlPlane.dir, 'audit.log');
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(controlPlane.kubeconfig);
identify(kubeConfig, 'bench');
const client = new KubeClient(kubeConfig);

for (const path of [...projectCrdPaths(), miniClusterCrdPath()])
  await client.create(RESOURCES.crds, parse(readFileSync(path, 'utf8')));
for (const path of [...projectCrdPaths(), miniClusterCrdPath()]) {
  const name = parse(readFileSync(path, 'utf8')).metadata.name as string;
  for (;;) {
    const crd = await client.get<
      KubeObject & { status?: { conditions?: { type: string; status: string }[] } }
    >(RESOURCES.crds, undefined, name);
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
await client.create(RESOURCES.namespaces, {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: SCALE_NAMESPACE },
} as KubeObject);
// The Job controller's pods run as the namespace's default ServiceAccount: wait for it.
for (;;) {
  if (await client.find(SERVICE_ACCOUNTS, SCALE_NAMESPACE, 'default')) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}

const nodes = Array.from({ length: Number(values.nodes) }, (_, i) => ({
  name: `scale-node-${i}`,
  cpu: '2000',
  memory: '8Ti',
  pods: 5000,
  instanceType: 'sim-huge',
}));
const worldConfig = new KubeConfig();
worldConfig.loadFromFile(controlPlane.kubeconfig);
const world = await attachWorld({
  kubeConfig: worldConfig,
  behaviors: chaosBehaviors(),
  nodes,
  speed: Number(values.speed),
});

// Reaction latency, from this process's watches.
const terminalSince = new Map<string, number>();
const reactionMs: number[] = [];
const seenTerminal = new Set<string>();
const isTerminal = (job: KubeObject) =>
  ((job as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? []).some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
const jobs = new Informer(kubeConfig, { resource: RESOURCES.jobs, namespace: SCALE_NAMESPACE });
jobs.on((event, job) => {
  const key = `${job.metadata.name}/${job.metadata.uid}`;
  if (event === 'delete' || seenTerminal.has(key) || !isTerminal(job)) return;
  seenTerminal.add(key);
  const step = job.metadata.labels?.[LABELS.step];
  if (!step) return;
  const podEnd = podEndedAt.get(step);
  if (podEnd !== undefined) jobControllerLagMs.push(performance.now() - podEnd);
  podEndedAt.delete(step);
  if (!terminalSince.has(step)) terminalSince.set(step, performance.now());
});
// The real Job controller marks a Job finished a while after its pod ended (the sim's does at once):
// that lag, pod ended → Job terminal, is measured apart, as the Job controller's and not ours.
const podEndedAt = new Map<string, number>();
const jobControllerLagMs: number[] = [];
const pods = new Informer(kubeConfig, { resource: RESOURCES.pods, namespace: SCALE_NAMESPACE });
pods.on((event, pod) => {
  const phase = (pod as { status?: { phase?: string } }).status?.phase;
  const key = `pod/${pod.metadata.uid}`;
  if (event === 'delete' || seenTerminal.has(key) || (phase !== 'Succeeded' && phase !== 'Failed')) return;
  seenTerminal.add(key);
  const step = pod.metadata.labels?.[LABELS.step];
  if (step && !podEndedAt.has(step)) podEndedAt.set(step, performance.now());
});
const steps = new Informer(kubeConfig, { resource: RESOURCES.agentSteps, namespace: SCALE_NAMESPACE });
steps.on((event, step) => {
  const since = terminalSince.get(step.metadata.name!);
  if (since === undefined || event !== 'update') return;
  terminalSince.delete(step.metadata.name!);
  reactionMs.push(performance.now() - since);
});
await Promise.all([jobs.start(), pods.start(), steps.start()]);

/** The audit log's requests, from `offset` on (watches counted when they start). */
let counted = new RequestCounts();
let auditOffset = 0;
function readAudit(): void {
  const text = readFileSync(auditLog, 'utf8');
  const lines = text.slice(auditOffset).split('\n');
  const last = lines.pop() ?? '';
  auditOffset = text.length - last.length;
  for (const line of lines) {
    if (!line) continue;
    const event = JSON.parse(line) as {
      stage: string;
      verb: string;
      userAgent?: string;
      objectRef?: { resource?: string; subresource?: string };
      responseStatus?: { code?: number };
    };
    const watch = event.verb === 'watch';
    if (watch ? event.stage !== 'ResponseStarted' : event.stage !== 'ResponseComplete') continue;
    counted.record({
      client: clientOf(event.userAgent),
      verb: (event.verb as never) ?? 'other',
      resource: event.objectRef?.resource ?? '(discovery)',
      subresource: event.objectRef?.subresource ?? '',
      code: event.responseStatus?.code ?? 0,
    });
  }
}

type Status = {
  phase?: string;
  history?: { tokens?: number; modelCalls?: number; outcome?: string; reason?: string; message?: string }[];
};
const statusOf = (o: KubeObject) => ((o as { status?: Status }).status ?? {}) as Status;
const TERMINAL = new Set(['Succeeded', 'Failed']);
const FOOTPRINT: Resource[] = [
  RESOURCES.agentPlans,
  RESOURCES.agentSteps,
  RESOURCES.jobs,
  RESOURCES.pods,
  RESOURCES.configMaps,
  RESOURCES.events,
  RESOURCES.miniClusters,
];

async function footprint(): Promise<Footprint> {
  const objects: Footprint['objects'] = {};
  let largest = { resource: '', name: '', bytes: 0 };
  for (const resource of FOOTPRINT) {
    const list = await client.list(resource, SCALE_NAMESPACE);
    for (const object of list.items) {
      if (object.metadata.name === 'kube-root-ca.crt') continue;
      const bytes = Buffer.byteLength(JSON.stringify(object));
      const entry = objects[resource.plural] ?? { count: 0, bytes: 0 };
      entry.count++;
      entry.bytes += bytes;
      objects[resource.plural] = entry;
      if (bytes > largest.bytes) largest = { resource: resource.plural, name: object.metadata.name!, bytes };
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

async function stats(): Promise<SimStats> {
  readAudit();
  const plans = (await client.list(RESOURCES.agentPlans, SCALE_NAMESPACE)).items.map((p) => ({
    name: p.metadata.name!,
    ...(statusOf(p).phase ? { phase: statusOf(p).phase } : {}),
  }));
  const stepObjects = (await client.list(RESOURCES.agentSteps, SCALE_NAMESPACE)).items;
  const failures: SimStats['failures'] = {};
  for (const s of stepObjects)
    for (const h of statusOf(s).history ?? [])
      if (h.outcome === 'Failed') {
        const known = failures[h.reason ?? ''] ?? { count: 0, message: (h.message ?? '').slice(0, 200) };
        known.count++;
        failures[h.reason ?? ''] = known;
      }
  return {
    failures,
    requests: counted.all(),
    reactionMs: [...reactionMs],
    jobControllerLagMs: [...jobControllerLagMs],
    unanswered: terminalSince.size,
    plans,
    steps: stepObjects.map((s) => {
      const history = statusOf(s).history ?? [];
      return {
        name: s.metadata.name!,
        ...(statusOf(s).phase ? { phase: statusOf(s).phase } : {}),
        attempts: history.length,
        tokens: history.reduce((sum, h) => sum + (h.tokens ?? 0), 0),
        modelCalls: history.reduce((sum, h) => sum + (h.modelCalls ?? 0), 0),
      };
    }),
    jobs: [...seenTerminal].filter((k) => !k.startsWith('pod/')).length,
    footprint: await footprint(),
    memory: processMemory(process.pid),
  };
}

async function answer(request: SimRequest): Promise<unknown> {
  switch (request.op) {
    case 'apply':
      for (const plan of request.plans) await client.create(RESOURCES.agentPlans, plan as KubeObject);
      return { applied: request.plans.length };
    case 'progress': {
      const plans = (await client.list(RESOURCES.agentPlans, SCALE_NAMESPACE)).items;
      return {
        total: plans.length,
        done: plans.filter((p) => TERMINAL.has(statusOf(p).phase ?? '')).length,
        failed: plans.filter((p) => statusOf(p).phase === 'Failed').length,
      };
    }
    case 'reset-requests':
      readAudit();
      counted = new RequestCounts();
      return {};
    case 'stats':
      return stats();
    case 'delete-plans': {
      for (const plan of (await client.list(RESOURCES.agentPlans, SCALE_NAMESPACE)).items)
        await client.delete(RESOURCES.agentPlans, SCALE_NAMESPACE, plan.metadata.name!);
      const until = Date.now() + request.timeoutMs;
      const owned = [RESOURCES.agentPlans, RESOURCES.agentSteps, RESOURCES.jobs, RESOURCES.pods];
      for (;;) {
        let left = 0;
        for (const r of owned) left += (await client.list(r, SCALE_NAMESPACE)).items.length;
        if (left === 0 || Date.now() > until) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      return footprint();
    }
    case 'stop':
      jobs.stop();
      pods.stop();
      steps.stop();
      await world.stop();
      await controlPlane.stop();
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
process.on('disconnect', () => {
  void controlPlane.stop().finally(() => process.exit(0));
});
process.send?.({ ready: { kubeconfigPath: controlPlane.kubeconfig, url: controlPlane.server } });
