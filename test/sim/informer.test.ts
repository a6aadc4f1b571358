import { BatchV1Api, CoreV1Api, KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimCluster, startSimCluster } from '../../src/sim/index.ts';

let cluster: SimCluster;
let config: KubeConfig;

beforeAll(async () => {
  cluster = await startSimCluster({
    speed: 0.001,
    behaviors: {
      pullable: ['docker.io/library/.*'],
      pods: [{ command: 'sleep', outcome: 'Hang', log: 'waiting' }],
    },
  });
  config = new KubeConfig();
  config.loadFromFile(cluster.kubeconfigPath);
});

afterAll(async () => {
  await cluster?.stop();
});

/** Informer callbacks, recorded; `until` resolves once a predicate holds after some callback. */
class Recorder {
  readonly seen: { verb: string; name: string; phase?: string }[] = [];
  #waiters: { check: () => boolean; resolve: () => void }[] = [];

  push(entry: { verb: string; name: string; phase?: string }): void {
    this.seen.push(entry);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.check()) return true;
      waiter.resolve();
      return false;
    });
  }

  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ check, resolve }));
  }
}

describe('client-node informers against the simulated cluster', () => {
  it('see the pods a Job creates being added, updated and deleted', async () => {
    const core = config.makeApiClient(CoreV1Api);
    const batch = config.makeApiClient(BatchV1Api);
    const selector = 'job-name=watched';
    const informer = makeInformer<V1Pod>(
      config,
      '/api/v1/namespaces/default/pods',
      () => core.listNamespacedPod({ namespace: 'default', labelSelector: selector }),
      selector,
    );
    const recorder = new Recorder();
    const seen = recorder.seen;
    informer.on('add', (pod) =>
      recorder.push({ verb: 'add', name: pod.metadata?.name ?? '', phase: pod.status?.phase }),
    );
    informer.on('update', (pod) =>
      recorder.push({ verb: 'update', name: pod.metadata?.name ?? '', phase: pod.status?.phase }),
    );
    informer.on('delete', (pod) => recorder.push({ verb: 'delete', name: pod.metadata?.name ?? '' }));
    const errors: unknown[] = [];
    informer.on('error', (error) => errors.push(error));
    await informer.start();
    try {
      await batch.createNamespacedJob({
        namespace: 'default',
        body: {
          metadata: { name: 'watched' },
          spec: {
            parallelism: 2,
            completions: 2,
            template: {
              spec: {
                restartPolicy: 'Never',
                containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'] }],
              },
            },
          },
        },
      });
      await recorder.until(
        () => seen.filter((entry) => entry.verb === 'update' && entry.phase === 'Running').length >= 2,
      );
      const added = seen.filter((entry) => entry.verb === 'add').map((entry) => entry.name);
      expect(added).toHaveLength(2);
      for (const name of added) expect(name).toMatch(/^watched-[a-z0-9]{5}$/);
      expect(informer.list('default').map((pod) => pod.status?.phase)).toEqual(['Running', 'Running']);

      // kubectl's default: the pods go with the job.
      await batch.deleteNamespacedJob({
        namespace: 'default',
        name: 'watched',
        propagationPolicy: 'Background',
      });
      await recorder.until(() => seen.filter((entry) => entry.verb === 'delete').length >= 2);
      expect(
        seen
          .filter((entry) => entry.verb === 'delete')
          .map((entry) => entry.name)
          .sort(),
      ).toEqual([...added].sort());
      expect(informer.list('default')).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });

  it('reads a running container log through pods/log', async () => {
    const core = config.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'logger' },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'busybox:1.36', args: ['sleep', '60'] }],
        },
      },
    });
    if (!cluster.logs.has('default', 'logger', 'main')) {
      await new Promise<void>((resolve) =>
        cluster.logs.follow('default', 'logger', 'main', () => resolve(), resolve),
      );
    }
    expect(await core.readNamespacedPodLog({ namespace: 'default', name: 'logger', container: 'main' })).toBe(
      'waiting\n',
    );
  });
});
