/**
 * The controller runtime in the simulated cluster: how long from a Job's status change (written to the
 * API server) to the reconciler seeing it through its informer, and the runtime's memory with 1,000
 * watched objects. The seed polled every 5 s; the targets are p50 ≤ 20 ms and p99 ≤ 200 ms.
 *
 *   node --expose-gc bench/runtime-latency.ts [--objects 1000] [--changes 300] [--rounds 5]
 *
 * Prints p50/p99 per round and the medians over rounds.
 */
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { RESOURCES } from '../src/kube/resources.ts';
import { Controller } from '../src/runtime/controller.ts';
import { Informer } from '../src/runtime/informer.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { LogStore } from '../src/sim/logs.ts';
import { startApiServer } from '../src/sim/server/index.ts';
import { Store } from '../src/sim/store.ts';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '1000' },
    changes: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '5' },
  },
});
const objects = Number(values.objects);
const changes = Number(values.changes);
const rounds = Number(values.rounds);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

const store = new Store();
const server = await startApiServer({ store, logs: new LogStore(), port: 0 });
const kubeConfig = new KubeConfig();
kubeConfig.loadFromOptions({
  clusters: [{ name: 'bench', server: server.url, skipTLSVerify: true }],
  users: [{ name: 'bench', token: 'bench' }],
  contexts: [{ name: 'bench', cluster: 'bench', user: 'bench' }],
  currentContext: 'bench',
});
store.create('v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
for (let i = 0; i < objects; i++) {
  store.create('batch/v1/jobs', {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: `job-${i}`,
      namespace: 'bench',
      labels: { 'app.kubernetes.io/managed-by': 'fractale' },
    },
    // Suspended, so no simulated controller would act on them (none runs here anyway).
    spec: {
      suspend: true,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
    },
  });
}

gc();
const before = process.memoryUsage();
const informer = new Informer(kubeConfig, {
  resource: RESOURCES.jobs,
  namespace: 'bench',
  labelSelector: 'app.kubernetes.io/managed-by=fractale',
});
const waiting = new Map<string, { marker: number; resolve: (seenAt: number) => void }>();
const controller = new Controller({
  name: 'bench',
  primary: informer,
  concurrency: 8,
  logger: silentLogger(),
  reconcile: async (key) => {
    const wanted = waiting.get(key);
    if (!wanted) return;
    const [namespace, name] = key.split('/');
    const job = informer.get(namespace, name!) as { status?: { active?: number } } | undefined;
    if (job?.status?.active === wanted.marker) {
      waiting.delete(key);
      wanted.resolve(performance.now());
    }
  },
});
await informer.start();
await controller.start();
gc();
const after = process.memoryUsage();
console.log(
  `runtime memory with ${objects} watched Jobs: heap +${mb(after.heapUsed - before.heapUsed)}, RSS ${mb(after.rss)} (API server and store in the same process)`,
);

const p50s: number[] = [];
const p99s: number[] = [];
let marker = 0;
for (let round = 1; round <= rounds; round++) {
  const latencies: number[] = [];
  for (let i = 0; i < changes; i++) {
    const name = `job-${(i * 7919) % objects}`;
    const key = `bench/${name}`;
    marker++;
    const seen = new Promise<number>((resolve) => waiting.set(key, { marker, resolve }));
    const job = store.get('batch/v1/jobs', 'bench', name)!;
    const started = performance.now();
    store.updateStatus('batch/v1/jobs', { ...job, status: { active: marker } });
    latencies.push((await seen) - started);
  }
  latencies.sort((a, b) => a - b);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  p50s.push(p50);
  p99s.push(p99);
  console.log(
    `round ${round}: ${changes} status changes, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`,
  );
}
console.log(
  `median over ${rounds} rounds: p50 ${median(p50s).toFixed(2)} ms (target ≤ 20), p99 ${median(p99s).toFixed(2)} ms (target ≤ 200)`,
);
await controller.stop();
informer.stop();
await server.close();
