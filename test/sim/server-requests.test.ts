import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identify, KubeClient } from '../../src/kube/client.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { Informer } from '../../src/runtime/informer.ts';
import { type SimCluster, startSimCluster } from '../../src/sim/index.ts';
import { clientOf, requestVerb } from '../../src/sim/server/requests.ts';
import { eventually } from '../helpers/kubeconfig.ts';
import { kubectl } from '../helpers/kubectl.ts';

let sim: SimCluster;
beforeAll(async () => {
  sim = await startSimCluster({ speed: 0.001 });
});
afterAll(async () => {
  await sim.stop();
});

describe('the simulated API server counts requests', () => {
  it('names verbs as the API does', () => {
    const q = (s: string) => new URLSearchParams(s);
    expect(requestVerb('GET', true, q(''))).toBe('get');
    expect(requestVerb('GET', false, q('labelSelector=a'))).toBe('list');
    expect(requestVerb('GET', false, q('watch=true'))).toBe('watch');
    expect(requestVerb('GET', false, q('watch=1'))).toBe('watch');
    expect(requestVerb('GET', false, q('watch=false'))).toBe('list');
    expect(requestVerb('POST', false, q(''))).toBe('create');
    expect(requestVerb('PUT', true, q(''))).toBe('update');
    expect(requestVerb('PATCH', true, q(''))).toBe('patch');
    expect(requestVerb('DELETE', true, q(''))).toBe('delete');
    expect(requestVerb('DELETE', false, q(''))).toBe('deletecollection');
    expect(clientOf('kubectl/v1.34.4 (linux/amd64) kubernetes/abc')).toBe('kubectl');
    expect(clientOf('fractale-operator (linux/x64) node/24.1.0')).toBe('fractale-operator');
    expect(clientOf(undefined)).toBe('unknown');
  });

  it('by client, verb, resource, subresource and code, for our client, its watches and kubectl', async () => {
    const config = new KubeConfig();
    config.loadFromFile(sim.kubeconfigPath);
    const client = new KubeClient(identify(config, 'counting-test'));
    const mine = (filter: Record<string, unknown>) =>
      sim.requests.total({ client: 'fractale-counting-test', ...filter });
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'counted', namespace: 'default' },
      data: { a: '1' },
    };
    const created = await client.create(RESOURCES.configMaps, cm as never);
    await client.get(RESOURCES.configMaps, 'default', 'counted');
    await client.find(RESOURCES.configMaps, 'default', 'absent');
    await client.list(RESOURCES.configMaps, 'default');
    await client.replace(RESOURCES.configMaps, { ...(created as object), data: { a: '2' } } as never);
    await client.patch(RESOURCES.configMaps, 'default', 'counted', { data: { b: '3' } });
    await client.delete(RESOURCES.configMaps, 'default', 'counted');
    // A watch is counted when it opens (it is answered only when it ends).
    const informer = new Informer(config, { resource: RESOURCES.configMaps, namespace: 'default' });
    await informer.start();
    await eventually(() => mine({ verb: 'watch', resource: 'configmaps' }) >= 1, 30_000);
    informer.stop();
    await eventually(() => mine({ verb: 'delete' }) === 1, 30_000);
    expect(mine({ verb: 'create', resource: 'configmaps', code: 201 })).toBe(1);
    expect(mine({ verb: 'get', resource: 'configmaps', code: 200 })).toBe(1);
    expect(mine({ verb: 'get', resource: 'configmaps', code: 404 })).toBe(1);
    expect(mine({ verb: 'list', resource: 'configmaps' })).toBe(2); // ours and the informer's
    expect(mine({ verb: 'update', resource: 'configmaps', code: 200 })).toBe(1);
    expect(mine({ verb: 'patch', resource: 'configmaps', code: 200 })).toBe(1);
    expect(mine({ verb: 'delete', resource: 'configmaps', code: 200 })).toBe(1);

    const before = sim.requests.total({ client: 'kubectl', resource: 'nodes', verb: 'list' });
    const result = await kubectl(sim.kubeconfigPath, ['get', 'nodes']);
    expect(result.code, result.stderr).toBe(0);
    await eventually(
      () => sim.requests.total({ client: 'kubectl', resource: 'nodes', verb: 'list' }) > before,
      30_000,
    );
    expect(sim.requests.total({ client: 'kubectl', resource: '(discovery)' })).toBeGreaterThan(0);
  });
});
