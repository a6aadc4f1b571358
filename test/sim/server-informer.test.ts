import * as k8s from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LogStore } from '../../src/sim/logs.ts';
import { type ApiServer, startApiServer } from '../../src/sim/server/index.ts';
import { Store } from '../../src/sim/store.ts';

let store: Store;
let server: ApiServer;
let kc: k8s.KubeConfig;
const informers: k8s.Informer<k8s.V1ConfigMap>[] = [];

beforeAll(async () => {
  // A small watch window, so that missed events expire resourceVersions quickly.
  store = new Store({ watchWindow: 5 });
  server = await startApiServer({ store, logs: new LogStore(), port: 0 });
  kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sim', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'sim', token: 'dummy' }],
    contexts: [{ name: 'sim', cluster: 'sim', user: 'sim', namespace: 'default' }],
    currentContext: 'sim',
  });
});

afterEach(async () => {
  for (const informer of informers.splice(0)) await informer.stop();
});

afterAll(async () => {
  await server?.close();
});

function configMap(name: string, data: Record<string, string> = {}) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
}

/** An informer on configmaps in `namespace`, recording what it sees. */
async function startInformer(namespace: string) {
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${namespace}/configmaps`, () =>
    api.listNamespacedConfigMap({ namespace }),
  );
  informers.push(informer);
  const seen: string[] = [];
  const errors: unknown[] = [];
  const waiters: (() => void)[] = [];
  const record = (verb: string) => (o: k8s.V1ConfigMap) => {
    // Every namespace holds kube-root-ca.crt, as on a real cluster; the tests follow their own.
    if (o.metadata?.name === 'kube-root-ca.crt') return;
    seen.push(`${verb} ${o.metadata?.name} ${JSON.stringify(o.data ?? {})}`);
    for (const w of waiters.splice(0)) w();
  };
  informer.on('add', record('add'));
  informer.on('update', record('update'));
  informer.on('delete', record('delete'));
  informer.on('error', (err) => errors.push(err));
  await informer.start();
  const until = async (pattern: string) => {
    while (!seen.includes(pattern)) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return { informer, seen, errors, until };
}

describe('client-node informers against the simulated API server', () => {
  it('sees adds, updates and deletes', async () => {
    store.create('v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'inf-a' } });
    store.create('v1/configmaps', {
      ...configMap('before', { a: '1' }),
      metadata: { name: 'before', namespace: 'inf-a' },
    });
    const i = await startInformer('inf-a');
    expect(i.seen).toEqual(['add before {"a":"1"}']);
    store.create('v1/configmaps', {
      ...configMap('x', { v: '1' }),
      metadata: { name: 'x', namespace: 'inf-a' },
    });
    await i.until('add x {"v":"1"}');
    store.patch('v1/configmaps', 'inf-a', 'x', 'merge', { data: { v: '2' } });
    await i.until('update x {"v":"2"}');
    store.delete('v1/configmaps', 'inf-a', 'x');
    await i.until('delete x {"v":"2"}');
    expect(i.informer.list().map((o) => o.metadata?.name)).toEqual(['before', 'kube-root-ca.crt']);
    expect(i.errors).toEqual([]);
  });

  it('re-watches after the server closes the watch, and relists after 410 Gone', async () => {
    store.create('v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'inf-b' } });
    const i = await startInformer('inf-b');
    store.create('v1/configmaps', { ...configMap('first'), metadata: { name: 'first', namespace: 'inf-b' } });
    await i.until('add first {}');

    // The watch ends; the informer watches again from its resourceVersion and misses nothing.
    server.closeWatches();
    store.create('v1/configmaps', {
      ...configMap('after-close'),
      metadata: { name: 'after-close', namespace: 'inf-b' },
    });
    await i.until('add after-close {}');

    // Changes the informer cannot see while disconnected push its resourceVersion out of the window:
    // the re-watch gets an ERROR 410 event, and the informer lists again.
    server.closeWatches();
    for (let n = 0; n < 20; n++) {
      store.create('v1/configmaps', {
        ...configMap(`burst-${n}`),
        metadata: { name: `burst-${n}`, namespace: 'inf-b' },
      });
    }
    store.delete('v1/configmaps', 'inf-b', 'first');
    await i.until('add burst-19 {}');
    await i.until('delete first {}');
    // Its own 21 and the namespace's kube-root-ca.crt.
    expect(i.informer.list()).toHaveLength(22);
    expect(i.errors).toEqual([]);
  });
});
