/**
 * Watch delivery latency and memory of the simulated API server: 5,000 objects, 200 watches held open
 * over HTTP by a separate client process, updates written at a steady rate. Each update carries its
 * write time; the client measures how long each of the 200 copies took to arrive.
 *
 *   node bench/sim-watch.ts [--objects 5000] [--watches 200] [--updates 300] [--rounds 5] [--rate 100]
 *
 * Prints p50/p99 per round and the medians over rounds, with the server's RSS.
 */
import { fork } from 'node:child_process';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { LogStore } from '../src/sim/logs.ts';
import { startApiServer } from '../src/sim/server/index.ts';
import { Store } from '../src/sim/store.ts';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '5000' },
    watches: { type: 'string', default: '200' },
    updates: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '5' },
    rate: { type: 'string', default: '100' },
    client: { type: 'string' },
  },
  allowPositionals: true,
});

const NAMESPACE = 'bench';
const WRITTEN_AT = /"bench\/written-at":"([0-9.]+)"/;
const now = () => performance.timeOrigin + performance.now();

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The client process: opens the watches, reports latencies of the updates it is told to expect. */
async function client(url: string, watches: number): Promise<void> {
  let latencies: number[] = [];
  let opened = 0;
  for (let i = 0; i < watches; i++) {
    const req = request(
      `${url}/api/v1/namespaces/${NAMESPACE}/configmaps?watch=true&resourceVersion=${process.argv.at(-1)}`,
      {
        agent: false,
      },
    );
    req.on('response', (res) => {
      opened++;
      if (opened === watches) process.send?.({ ready: true });
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl = buffer.indexOf('\n');
        while (nl >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          nl = buffer.indexOf('\n');
          // The write time is read without parsing the whole event, so that the client's own JSON work
          // (200 streams in one process) weighs as little as possible on what is measured.
          const written = WRITTEN_AT.exec(line)?.[1];
          if (written) latencies.push(now() - Number(written));
        }
      });
    });
    req.end();
  }
  process.on('message', (m: { collect?: boolean }) => {
    if (m.collect) {
      process.send?.({ latencies });
      latencies = [];
    }
  });
}

async function main(): Promise<void> {
  if (values.client) {
    await client(values.client, Number(values.watches));
    return;
  }
  const objects = Number(values.objects);
  const watches = Number(values.watches);
  const updates = Number(values.updates);
  const rounds = Number(values.rounds);
  const rate = Number(values.rate);

  const store = new Store();
  const server = await startApiServer({ store, logs: new LogStore(), port: 0 });
  store.create('v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  for (let i = 0; i < objects; i++) {
    store.create('v1/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${i}`, namespace: NAMESPACE, labels: { shard: String(i % 10) } },
      data: { value: String(i), payload: 'x'.repeat(200) },
    });
  }
  const rssLoaded = process.memoryUsage().rss;

  const child = fork(
    import.meta.filename,
    ['--client', server.url, '--watches', String(watches), store.resourceVersion()],
    { stdio: 'inherit' },
  );
  const messages: ((m: { ready?: boolean; latencies?: number[] }) => void)[] = [];
  child.on('message', (m: { ready?: boolean; latencies?: number[] }) => messages.shift()?.(m));
  const next = () =>
    new Promise<{ ready?: boolean; latencies?: number[] }>((resolve) => messages.push(resolve));
  await next();
  console.log(
    `objects=${objects} watches=${watches} (open: ${store.watchCount()}) updates/round=${updates} rate=${rate}/s`,
  );

  const p50s: number[] = [];
  const p99s: number[] = [];
  let rssPeak = process.memoryUsage().rss;
  // Round 0 warms up the JIT and the sockets and is not counted.
  for (let round = 0; round <= rounds; round++) {
    const writeTimes: number[] = [];
    for (let u = 0; u < updates; u++) {
      const i = Math.floor(Math.random() * objects);
      const started = performance.now();
      store.patch('v1/configmaps', NAMESPACE, `cm-${i}`, 'merge', {
        metadata: { annotations: { 'bench/written-at': String(now()) } },
        data: { value: `${round}-${u}` },
      });
      writeTimes.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 1000 / rate));
    }
    // Let the last events drain before collecting.
    await new Promise((resolve) => setTimeout(resolve, 200));
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    child.send({ collect: true });
    const { latencies = [] } = await next();
    latencies.sort((a, b) => a - b);
    if (round === 0) continue;
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    p50s.push(p50);
    p99s.push(p99);
    console.log(
      `round ${round}: deliveries=${latencies.length} (expected ${updates * watches}) p50=${p50.toFixed(2)}ms p99=${p99.toFixed(2)}ms max=${latencies.at(-1)?.toFixed(2)}ms; server time per write (patch + ${watches} stream writes) median=${median(writeTimes).toFixed(2)}ms`,
    );
  }
  const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
  console.log(
    `median over ${rounds} rounds: p50=${median(p50s).toFixed(2)}ms p99=${median(p99s).toFixed(2)}ms; server RSS loaded=${mb(rssLoaded)}MB peak=${mb(rssPeak)}MB`,
  );
  child.kill();
  await server.close();
}

await main();
