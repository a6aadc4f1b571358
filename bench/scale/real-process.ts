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
import { footprintOf, planFigures, progressOf, ReactionClock, stepFigures } from './figures.ts';
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
const clock = new ReactionClock();
// The real Job controller marks a Job finished a while after its pod ended (the sim's does at once):
// that lag, pod ended → Job terminal, is measured apart, as the Job controller's and not ours.
const podEndedAt = new Map<string, number>();
const endedPods = new Set<string>();
const jobControllerLagMs: number[] = [];
const jobs = new Informer(kubeConfig, { resource: RESOURCES.jobs, namespace: SCALE_NAMESPACE });
jobs.on((event, job) => {
  const step = event === 'delete' ? undefined : clock.job(job);
  const podEnd = step === undefined ? undefined : podEndedAt.get(step);
  if (podEnd === undefined) return;
  jobControllerLagMs.push(performance.now() - podEnd);
  podEndedAt.delete(step!);
});
const pods = new Informer(kubeConfig, { resource: RESOURCES.pods, namespace: SCALE_NAMESPACE });
pods.on((event, pod) => {
  const phase = (pod as { status?: { phase?: string } }).status?.phase;
  const uid = pod.metadata.uid ?? '';
  if (event === 'delete' || endedPods.has(uid) || (phase !== 'Succeeded' && phase !== 'Failed')) return;
  endedPods.add(uid);
  const step = pod.metadata.labels?.[LABELS.step];
  if (step && !podEndedAt.has(step)) podEndedAt.set(step, performance.now());
});
const steps = new Informer(kubeConfig, { resource: RESOURCES.agentSteps, namespace: SCALE_NAMESPACE });
steps.on((event, step) => {
  if (event === 'update') clock.step(step.metadata.name!);
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

const FOOTPRINT: Resource[] = [
  RESOURCES.agentPlans,
  RESOURCES.agentSteps,
  RESOURCES.jobs,
  RESOURCES.pods,
  RESOURCES.configMaps,
  RESOURCES.events,
  RESOURCES.miniClusters,
];
const list = async (resource: Resource) => (await client.list(resource, SCALE_NAMESPACE)).items;

async function footprint(): Promise<Footprint> {
  const lists: [string, KubeObject[]][] = [];
  for (const resource of FOOTPRINT) lists.push([resource.plural, await list(resource)]);
  return footprintOf(lists);
}

async function stats(): Promise<SimStats> {
  readAudit();
  return {
    ...stepFigures(await list(RESOURCES.agentSteps)),
    requests: counted.all(),
    reactionMs: [...clock.samplesMs],
    jobControllerLagMs: [...jobControllerLagMs],
    unanswered: clock.unanswered,
    plans: planFigures(await list(RESOURCES.agentPlans)),
    jobs: clock.endedJobs.size,
    footprint: await footprint(),
    memory: processMemory(process.pid),
  };
}

async function answer(request: SimRequest): Promise<unknown> {
  switch (request.op) {
    case 'apply':
      for (const plan of request.plans) await client.create(RESOURCES.agentPlans, plan as KubeObject);
      return { applied: request.plans.length };
    case 'progress':
      return progressOf(await list(RESOURCES.agentPlans));
    case 'reset-requests':
      readAudit();
      counted = new RequestCounts();
      return {};
    case 'stats':
      return stats();
    case 'delete-plans': {
      for (const plan of await list(RESOURCES.agentPlans))
        await client.delete(RESOURCES.agentPlans, SCALE_NAMESPACE, plan.metadata.name!);
      const until = Date.now() + request.timeoutMs;
      const owned = [RESOURCES.agentPlans, RESOURCES.agentSteps, RESOURCES.jobs, RESOURCES.pods];
      for (;;) {
        let left = 0;
        for (const r of owned) left += (await list(r)).length;
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
