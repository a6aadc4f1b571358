// Events, health and metrics endpoints of the runtime, against the simulated API server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, type KubeObject } from '../../src/kube/client.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { EventRecorder } from '../../src/runtime/events.ts';
import { serveEndpoints } from '../../src/runtime/health.ts';
import { createLogger, silentLogger } from '../../src/runtime/logger.ts';
import { Metrics } from '../../src/runtime/metrics.ts';
import { LogStore } from '../../src/sim/logs.ts';
import { startApiServer } from '../../src/sim/server/index.ts';
import { Store } from '../../src/sim/store.ts';
import { kubeConfigFor } from '../helpers/kubeconfig.ts';

let server: Awaited<ReturnType<typeof startApiServer>>;
beforeAll(async () => {
  server = await startApiServer({ store: new Store(), logs: new LogStore(), port: 0 });
});
afterAll(() => server.close());

describe('EventRecorder', () => {
  it('creates an Event on the object and folds repeats into its count', async () => {
    const kc = kubeConfigFor(server.url);
    const client = new KubeClient(kc);
    const cm = await client.create<KubeObject>(RESOURCES.configMaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'subject', namespace: 'default' },
    });
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const recorder = new EventRecorder(kc, {
      component: 'fractale-operator',
      logger: silentLogger(),
      now: () => new Date(clock),
    });
    await recorder.record(cm, 'Normal', 'Started', 'Attempt 1 started');
    clock += 1000;
    await recorder.record(cm, 'Normal', 'Started', 'Attempt 1 started');
    await recorder.record(cm, 'Warning', 'BuildFailed', 'The build failed');
    const events = await client.list<
      KubeObject & {
        reason: string;
        count: number;
        involvedObject: { uid: string; name: string; namespace: string };
      }
    >(RESOURCES.events, 'default', { fieldSelector: 'involvedObject.name=subject' });
    const byReason = Object.fromEntries(events.items.map((e) => [e.reason, e]));
    expect(events.items).toHaveLength(2);
    expect(byReason['Started']).toMatchObject({
      count: 2,
      lastTimestamp: '2026-01-01T00:00:01Z',
      type: 'Normal',
    });
    expect(byReason['Started']!.involvedObject.uid).toBe(cm.metadata.uid);
    expect(byReason['BuildFailed']).toMatchObject({ count: 1, type: 'Warning' });
  });
});

describe('health and metrics endpoints', () => {
  it('serve /healthz, /readyz and /metrics', async () => {
    const metrics = new Metrics();
    let ready = false;
    const endpoints = await serveEndpoints({
      healthPort: 0,
      metricsPort: 0,
      metrics,
      probes: { healthy: () => true, ready: () => ready },
    });
    try {
      const get = (port: number, path: string) => fetch(`http://127.0.0.1:${port}${path}`);
      expect((await get(endpoints.healthPort, '/healthz')).status).toBe(200);
      expect((await get(endpoints.healthPort, '/readyz')).status).toBe(503);
      ready = true;
      expect((await get(endpoints.healthPort, '/readyz')).status).toBe(200);
      metrics.recordModelCall('gemini', 'build', 'ok', 1.5, { promptTokens: 100, outputTokens: 20 });
      metrics.queueDepth.set({ controller: 'agentstep' }, 3);
      metrics.reconcileDuration.observe({ controller: 'agentstep' }, 0.02);
      const text = await (await get(endpoints.metricsPort, '/metrics')).text();
      expect(text).toContain('fractale_model_calls_total{provider="gemini",agent="build",outcome="ok"} 1');
      expect(text).toContain(
        'fractale_model_tokens_total{provider="gemini",agent="build",kind="prompt"} 100',
      );
      expect(text).toContain('fractale_queue_depth{controller="agentstep"} 3');
      expect(text).toContain('fractale_reconcile_duration_seconds_bucket');
      // Without `process`, only the operator's own metrics.
      expect(text).not.toContain('process_resident_memory_bytes');
    } finally {
      await endpoints.close();
    }
  });

  it("serve the process's memory, CPU and heap when asked", async () => {
    const metrics = new Metrics({ process: true });
    const text = await metrics.registry.metrics();
    const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(text)?.[1]);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_heap_size_used_bytes');
  });
});

describe('logger', () => {
  it('writes JSON lines and redacts secrets by key', () => {
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (line: string) => lines.push(line) } as never });
    logger.info(
      {
        plan: 'p',
        step: 'p-build',
        attempt: 2,
        apiKey: 'AIza-secret',
        headers: { authorization: 'Bearer x' },
      },
      'Started attempt',
    );
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ plan: 'p', step: 'p-build', attempt: 2, msg: 'Started attempt' });
    expect(lines[0]).not.toContain('AIza-secret');
    expect(lines[0]).not.toContain('Bearer x');
  });
});
