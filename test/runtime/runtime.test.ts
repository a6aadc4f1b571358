// The controller runtime against the lane's API server (the sim's, or a real kube-apiserver):
// informers, controllers, leader election.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, type KubeObject } from '../../src/kube/client.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { Controller } from '../../src/runtime/controller.ts';
import { Informer } from '../../src/runtime/informer.ts';
import { silentLogger } from '../../src/runtime/logger.ts';
import { Manager } from '../../src/runtime/manager.ts';
import { BackgroundTasks } from '../../src/runtime/tasks.ts';
import { LogStore } from '../../src/sim/logs.ts';
import { startApiServer } from '../../src/sim/server/index.ts';
import { Store } from '../../src/sim/store.ts';
import { LANE, simOnly } from '../helpers/cluster.ts';
import { eventually, kubeConfigFor as simKubeConfigFor } from '../helpers/kubeconfig.ts';
import { type CuttableProxy, startProxy } from '../helpers/proxy.ts';
import { realKubeConfig } from '../real/cluster.ts';

let store: Store;
let server: Awaited<ReturnType<typeof startApiServer>> | undefined;
let proxy: CuttableProxy;
const cleanups: (() => unknown)[] = [];
/** The lane's API server: the sim's, or the real control plane's. */
const api = { url: '' };
/** A KubeConfig for the lane's API server reached at `url` (itself, or the proxy in front of it). */
let kubeConfigFor: (url: string) => KubeConfig;

beforeAll(async () => {
  if (LANE === 'sim') {
    store = new Store({ watchWindow: 50 });
    server = await startApiServer({ store, logs: new LogStore(), port: 0 });
    api.url = server.url;
    kubeConfigFor = (url) => simKubeConfigFor(url);
  } else {
    const real = realKubeConfig();
    api.url = real.getCurrentCluster()!.server;
    kubeConfigFor = (url) => {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: real.clusters.map((c) => ({ ...c, server: url })),
        users: real.users,
        contexts: real.contexts,
        currentContext: real.currentContext,
      });
      return kc;
    };
  }
  proxy = await startProxy(api.url);
});
afterAll(async () => {
  await proxy.close();
  await server?.close();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// The tests' own ConfigMaps: every namespace also holds kube-root-ca.crt (published by
// kube-controller-manager, and by the sim likewise), which the informers leave out.
const OURS = 'fractale.dev/test=runtime';
const configMap = (namespace: string, name: string, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, labels: { 'fractale.dev/test': 'runtime' } },
  data,
});

/**
 * How long a test waits for what it expects. Generous: on a loaded 2-core machine timers fire late and
 * requests queue, and a passing test returns as soon as its condition holds, so the bound costs nothing.
 */
const PATIENCE_MS = 20_000;

let nsCounter = 0;
async function freshNamespace(client: KubeClient): Promise<string> {
  const name = `rt-${++nsCounter}`;
  await client.create(RESOURCES.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

describe('informer and controller', () => {
  it('a toy reconciler sees create, update and delete', async () => {
    const kc = kubeConfigFor(api.url);
    const client = new KubeClient(kc);
    const namespace = await freshNamespace(client);
    const informer = new Informer(kc, { resource: RESOURCES.configMaps, namespace, labelSelector: OURS });
    const seen: string[] = [];
    const controller = new Controller({
      name: 'toy',
      primary: informer,
      concurrency: 2,
      logger: silentLogger(),
      reconcile: async (key) => {
        const [ns, name] = key.split('/');
        const object = informer.get(ns, name!);
        seen.push(object ? `${name}=${(object['data'] as Record<string, string>)['v']}` : `${name} gone`);
      },
    });
    cleanups.push(
      () => informer.stop(),
      () => controller.stop(),
    );
    await informer.start();
    await controller.start();
    await client.create(RESOURCES.configMaps, configMap(namespace, 'a', { v: '1' }));
    await eventually(() => seen.includes('a=1'));
    await client.patch(RESOURCES.configMaps, namespace, 'a', { data: { v: '2' } });
    await eventually(() => seen.includes('a=2'));
    await client.delete(RESOURCES.configMaps, namespace, 'a');
    await eventually(() => seen.includes('a gone'));
    expect(seen).toEqual(['a=1', 'a=2', 'a gone']);
  });

  it('a watch dropped by the connection loses no event', async () => {
    const kc = kubeConfigFor(proxy.url);
    const client = new KubeClient(kubeConfigFor(api.url));
    const namespace = await freshNamespace(client);
    const informer = new Informer(kc, {
      resource: RESOURCES.configMaps,
      namespace,
      labelSelector: OURS,
      backoffMs: { base: 5, max: 50 },
    });
    const events: string[] = [];
    informer.on((event, object) => events.push(`${event}:${object.metadata.name}`));
    cleanups.push(() => informer.stop());
    await informer.start();
    for (let round = 0; round < 5; round++) {
      proxy.cutAll();
      // Writes while the watch is down, and right after it comes back.
      await client.create(RESOURCES.configMaps, configMap(namespace, `c${round}`));
    }
    await client.delete(RESOURCES.configMaps, namespace, 'c0');
    await eventually(() => informer.list().length === 4 && events.includes('delete:c0'));
    expect(events.filter((e) => e.startsWith('add')).sort()).toEqual([
      'add:c0',
      'add:c1',
      'add:c2',
      'add:c3',
      'add:c4',
    ]);
    expect(informer.stats.watches).toBeGreaterThan(1);
  });

  // The sim's watch window is set small to expire a resourceVersion at will; a real server's is not.
  simOnly('recovers from 410 Gone by listing again, and reports what changed meanwhile', async () => {
    const kc = kubeConfigFor(proxy.url);
    const client = new KubeClient(kubeConfigFor(api.url));
    const namespace = await freshNamespace(client);
    await client.create(RESOURCES.configMaps, configMap(namespace, 'old'));
    const informer = new Informer(kc, {
      resource: RESOURCES.configMaps,
      namespace,
      labelSelector: OURS,
      backoffMs: { base: 200, max: 200 },
    });
    const events: string[] = [];
    informer.on((event, object) => events.push(`${event}:${object.metadata.name}`));
    cleanups.push(() => informer.stop());
    await informer.start();
    expect(informer.stats.lists).toBe(1);
    // Cut the watch and write more than the server's watch window while the informer waits to
    // reconnect, so its resourceVersion has expired when it comes back.
    // The writes go to the store directly, so they all land before the informer is back.
    proxy.cutAll();
    store.delete('v1/configmaps', namespace, 'old');
    for (let i = 0; i < 400; i++) store.create('v1/configmaps', configMap(namespace, `n${i}`));
    await eventually(() => informer.list().length === 400, 8000);
    expect(informer.stats.lists).toBeGreaterThanOrEqual(2);
    expect(events).toContain('delete:old');
    expect(informer.get(namespace, 'old')).toBeUndefined();
  });

  it('200 keys waiting on a slow model call run up to the limit at once, never a key twice at once', async () => {
    const kc = kubeConfigFor(api.url);
    const client = new KubeClient(kc);
    const namespace = await freshNamespace(client);
    const informer = new Informer(kc, { resource: RESOURCES.configMaps, namespace, labelSelector: OURS });
    const limit = 16;
    let inFlight = 0;
    let maxInFlight = 0;
    const running = new Set<string>();
    let overlaps = 0;
    const reconciled = new Set<string>();
    const slowModelCall = () => new Promise((r) => setTimeout(r, 100));
    const controller = new Controller({
      name: 'slow',
      primary: informer,
      concurrency: limit,
      logger: silentLogger(),
      reconcile: async (key) => {
        if (running.has(key)) overlaps++;
        running.add(key);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await slowModelCall();
        inFlight--;
        running.delete(key);
        reconciled.add(key);
      },
    });
    cleanups.push(
      () => informer.stop(),
      () => controller.stop(),
    );
    // All 200 exist before the controller starts, so the queue holds them at once however slowly
    // the server takes the writes (a real one takes them more slowly than a reconcile lasts).
    for (let i = 0; i < 200; i++) await client.create(RESOURCES.configMaps, configMap(namespace, `k${i}`));
    await informer.start();
    await controller.start();
    // Touch every key again while its first reconcile may still run.
    for (let i = 0; i < 200; i += 3)
      await client.patch(RESOURCES.configMaps, namespace, `k${i}`, { data: { x: '1' } });
    await eventually(() => reconciled.size === 200, 45_000);
    await controller.queue.whenIdle();
    // All 16 at once is what shows they run in parallel (not a wall-clock bound, which a loaded
    // machine can miss).
    expect(maxInFlight).toBe(limit);
    expect(overlaps).toBe(0);
  }, 60_000);

  it('a model call in flight is started once however often its key is reconciled', async () => {
    let calls = 0;
    const settled: string[] = [];
    const tasks = new BackgroundTasks((key) => settled.push(key));
    const call = () => {
      calls++;
      return new Promise<string>((r) => setTimeout(() => r('answer'), 20));
    };
    for (let i = 0; i < 5; i++) expect(tasks.ensure('ns/a', 'attempt-1', call).state).toBe('running');
    await eventually(() => settled.length === 1);
    expect(tasks.get<string>('ns/a', 'attempt-1')).toMatchObject({ state: 'done', value: 'answer' });
    expect(calls).toBe(1);
  });

  it('a failing reconcile is retried with growing delays', async () => {
    const kc = kubeConfigFor(api.url);
    const client = new KubeClient(kc);
    const namespace = await freshNamespace(client);
    const informer = new Informer(kc, { resource: RESOURCES.configMaps, namespace, labelSelector: OURS });
    const times: number[] = [];
    const controller = new Controller({
      name: 'failing',
      primary: informer,
      concurrency: 1,
      backoffMs: { base: 10, max: 1000 },
      logger: silentLogger(),
      reconcile: async () => {
        times.push(performance.now());
        if (times.length < 5) throw new Error('the cluster said no');
      },
    });
    cleanups.push(
      () => informer.stop(),
      () => controller.stop(),
    );
    await informer.start();
    await controller.start();
    await client.create(RESOURCES.configMaps, configMap(namespace, 'x'));
    await eventually(() => times.length === 5, 5000);
    // The delays double: 10, 20, 40, 80 ms (timers may fire late on a busy machine, never early).
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    for (const [i, gap] of gaps.entries()) expect(gap).toBeGreaterThanOrEqual(10 * 2 ** i - 1);
  });
});

// Every wait here is on a condition (the Lease, a reconcile, isLeader) with a generous bound, never a
// fixed delay; lease durations are long wherever the test does not wait for one to run out, so late
// timers on a loaded machine never cost a leader its lease mid-test.
describe('leader election', { timeout: 60_000 }, () => {
  it('two managers with one Lease elect one leader, and the other takes over when it stops', async () => {
    const kc = kubeConfigFor(api.url);
    const client = new KubeClient(kc);
    const namespace = await freshNamespace(client);
    const reconciledBy = new Map<string, Set<string>>();
    const make = (identity: string) => {
      const manager = new Manager({
        kubeConfig: kc,
        logger: silentLogger(),
        namespaces: [namespace],
        leaderElection: {
          namespace,
          name: 'fractale-test',
          identity,
          // client-go's defaults: a loaded machine's late timers never make the leader miss its
          // deadline (which would let the other take over mid-test). No wait below depends on
          // them: the takeover follows a release.
          leaseDurationMs: 15_000,
          renewDeadlineMs: 10_000,
          retryPeriodMs: 100,
        },
      });
      const informer = manager.informer(RESOURCES.configMaps);
      manager.add(
        new Controller({
          name: `c-${identity}`,
          primary: informer,
          concurrency: 2,
          logger: silentLogger(),
          reconcile: async (key) => {
            if (!reconciledBy.has(identity)) reconciledBy.set(identity, new Set());
            reconciledBy.get(identity)!.add(key);
          },
        }),
      );
      return manager;
    };
    const a = make('a');
    const b = make('b');
    cleanups.push(
      () => a.stop(),
      () => b.stop(),
    );
    await a.start();
    await b.start();
    await eventually(() => a.isLeader || b.isLeader, PATIENCE_MS);
    // Both keep competing while the leader renews the Lease five times (counted on the Lease, not
    // by the clock): exactly one leads at every look.
    const renewals = new Set<string>();
    const leaders: number[] = [];
    await eventually(
      async () => {
        leaders.push(Number(a.isLeader) + Number(b.isLeader));
        const lease = await client.get<KubeObject & { spec: { renewTime?: string } }>(
          RESOURCES.leases,
          namespace,
          'fractale-test',
        );
        renewals.add(lease.spec.renewTime ?? '');
        return renewals.size >= 5;
      },
      PATIENCE_MS,
      50,
    );
    expect(new Set(leaders)).toEqual(new Set([1]));
    const [leader, follower, followerId] = a.isLeader ? [a, b, 'b'] : [b, a, 'a'];
    await client.create(RESOURCES.configMaps, configMap(namespace, 'one'));
    await eventually(
      () => [...reconciledBy.values()].some((keys) => keys.has(`${namespace}/one`)),
      PATIENCE_MS,
    );
    expect(reconciledBy.get(followerId)).toBeUndefined();
    await leader.stop();
    // Released on a graceful stop (no holder, a one-second duration), so the takeover does not wait
    // for the lease to expire. Checked on the Lease itself: timings on a shared machine are noisy.
    const released = await client.get<
      KubeObject & { spec: { holderIdentity?: string | null; leaseDurationSeconds: number } }
    >(RESOURCES.leases, namespace, 'fractale-test');
    // Without the release, the stopped leader would still hold it until its duration ran out.
    expect(released.spec.holderIdentity ?? null).not.toBe(followerId === 'a' ? 'b' : 'a');
    await eventually(() => follower.isLeader, PATIENCE_MS);
    await client.create(RESOURCES.configMaps, configMap(namespace, 'two'));
    await eventually(() => reconciledBy.get(followerId)?.has(`${namespace}/two`), PATIENCE_MS);
    const lease = await client.get<
      KubeObject & { spec: { holderIdentity: string; leaseTransitions: number } }
    >(RESOURCES.leases, namespace, 'fractale-test');
    expect(lease.spec.holderIdentity).toBe(followerId);
  });

  it('a leader that dies without releasing is replaced once its lease expires', async () => {
    const kc = kubeConfigFor(api.url);
    const client = new KubeClient(kc);
    const namespace = await freshNamespace(client);
    const now = new Date().toISOString().replace('Z', '000Z');
    // A lease held by a replica that is gone: it was renewed once and never again.
    await client.create(RESOURCES.leases, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'fractale-test', namespace },
      spec: {
        holderIdentity: 'dead',
        leaseDurationSeconds: 1,
        renewTime: now,
        acquireTime: now,
        leaseTransitions: 0,
      },
    });
    const manager = new Manager({
      kubeConfig: kc,
      logger: silentLogger(),
      namespaces: [namespace],
      leaderElection: {
        namespace,
        name: 'fractale-test',
        identity: 'new',
        // Its own lease, once taken, is long: only the dead holder's one second is waited for.
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 100,
      },
    });
    cleanups.push(() => manager.stop());
    const started = Date.now();
    await manager.start();
    await eventually(() => manager.isLeader, PATIENCE_MS);
    // A lower bound only (timers never fire early): the dead holder's second ran out first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const lease = await client.get<KubeObject & { spec: { leaseTransitions: number } }>(
      RESOURCES.leases,
      namespace,
      'fractale-test',
    );
    expect(lease.spec.leaseTransitions).toBe(1);
  });

  it('a leader whose lease is taken stops reconciling for good and reports itself unhealthy', async () => {
    const kc = kubeConfigFor(api.url);
    const client = new KubeClient(kc);
    const namespace = await freshNamespace(client);
    let lost = 0;
    const manager = new Manager({
      kubeConfig: kc,
      logger: silentLogger(),
      namespaces: [namespace],
      healthPort: 0,
      metricsPort: 0,
      leaderElection: {
        namespace,
        name: 'fractale-test',
        identity: 'me',
        // The test waits for this deadline after the theft; two seconds are short enough for that
        // and long enough that late timers alone never lose the lease first.
        leaseDurationMs: 4000,
        renewDeadlineMs: 2000,
        retryPeriodMs: 100,
      },
      onLostLeadership: () => lost++,
    });
    cleanups.push(() => manager.stop());
    await manager.start();
    await eventually(() => manager.isLeader, PATIENCE_MS);
    const health = () =>
      fetch(`http://127.0.0.1:${manager.endpointPorts!.health}/healthz`).then((r) => r.status);
    expect(await health()).toBe(200);
    // Another replica takes the lease over (as after a network partition). A merge patch carries no
    // resourceVersion, so the leader's renewals every 100 ms cannot make it conflict (a read and a
    // replace lost that race again and again on a loaded machine); a renewal read before it and
    // written after it conflicts instead, and the leader then sees the thief.
    await client.patch(RESOURCES.leases, namespace, 'fractale-test', {
      spec: { holderIdentity: 'thief', leaseDurationSeconds: 60 },
    });
    await eventually(() => lost === 1, PATIENCE_MS);
    expect(manager.isLeader).toBe(false);
    expect(await health()).toBe(500);
  });
});
