// The attempt ConfigMaps and conversations are read once and then known from the operator's own
// writes: counted by the simulated API server, a step's reads and writes cost no GET after the first,
// a write of what is already stored costs nothing, and a ConfigMap deleted by hand is made again.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identify, KubeClient } from '../../src/kube/client.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { ConversationStore } from '../../src/llm/history.ts';
import { type SimCluster, startSimCluster } from '../../src/sim/index.ts';
import { AttemptConfigMaps, type ConfigMap } from '../../src/step/attempts.ts';

let sim: SimCluster;
let config: KubeConfig;
let client: KubeClient;
beforeAll(async () => {
  sim = await startSimCluster({ speed: 0.001 });
  config = new KubeConfig();
  config.loadFromFile(sim.kubeconfigPath);
  client = new KubeClient(identify(config, 'attempts-test'));
});
afterAll(async () => {
  await sim.stop();
});

const mine = (filter: Record<string, unknown>) =>
  sim.requests.total({ client: 'fractale-attempts-test', resource: 'configmaps', ...filter });
const template = (name: string): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', labels: { 'fractale.dev/attempt': '1' } },
});

describe('AttemptConfigMaps', () => {
  it('reads once, then answers from its own writes; a repeated write is no request', async () => {
    sim.requests.reset();
    const attempts = new AttemptConfigMaps(client);
    expect(await attempts.get('default', 'a-1')).toBeUndefined();
    expect(mine({ verb: 'get', code: 404 })).toBe(1);
    await attempts.write(template('a-1'), { answer: 'x' });
    await attempts.write(template('a-1'), { artifact: 'FROM ubuntu' });
    expect((await attempts.get('default', 'a-1'))?.data).toEqual({ answer: 'x', artifact: 'FROM ubuntu' });
    await attempts.write(template('a-1'), { artifact: 'FROM ubuntu' }); // nothing new
    expect(mine({ verb: 'get' })).toBe(1);
    expect(mine({ verb: 'create', code: 201 })).toBe(1);
    expect(mine({ verb: 'patch', code: 200 })).toBe(1);
    // What the API server holds is what was written.
    const stored = await client.get<ConfigMap>(RESOURCES.configMaps, 'default', 'a-1');
    expect(stored.data).toEqual({ answer: 'x', artifact: 'FROM ubuntu' });
  });

  it('a new attempt marked absent needs no GET; one deleted by hand is created again', async () => {
    sim.requests.reset();
    const attempts = new AttemptConfigMaps(client);
    attempts.markAbsent('default', 'b-1');
    expect(await attempts.get('default', 'b-1')).toBeUndefined();
    await attempts.write(template('b-1'), { answer: 'y' });
    expect(mine({ verb: 'get' })).toBe(0);
    await client.delete(RESOURCES.configMaps, 'default', 'b-1');
    await attempts.write(template('b-1'), { log: 'z' });
    const stored = await client.get<ConfigMap>(RESOURCES.configMaps, 'default', 'b-1');
    expect(stored.data).toEqual({ log: 'z' });
    expect(mine({ verb: 'patch', code: 404 })).toBe(1);
    // An existing ConfigMap not known yet (another replica wrote it) is merged into, not lost.
    const other = new AttemptConfigMaps(client);
    other.markAbsent('default', 'b-1');
    await other.write(template('b-1'), { diagnostics: 'd' });
    expect((await client.get<ConfigMap>(RESOURCES.configMaps, 'default', 'b-1')).data).toEqual({
      log: 'z',
      diagnostics: 'd',
    });
    attempts.forget('default', 'b');
    expect(attempts.size).toBe(0);
  });
});

describe('ConversationStore requests', () => {
  it('a new step appends with one write per call and no read; a restarted store reads once', async () => {
    sim.requests.reset();
    const store = new ConversationStore(identify(config, 'attempts-test'));
    const ref = { namespace: 'default', step: 'conv-step' };
    store.markNew(ref);
    for (let i = 0; i < 3; i++)
      await store.append(ref, [
        { role: 'user', text: `ask ${i}` },
        { role: 'model', text: `answer ${i}` },
      ]);
    expect(mine({ verb: 'get' })).toBe(0);
    expect(mine({ verb: 'create' }) + mine({ verb: 'update' })).toBe(3);
    const restarted = new ConversationStore(identify(config, 'attempts-test'));
    expect(await restarted.load(ref)).toHaveLength(6);
    await restarted.append(ref, [{ role: 'user', text: 'ask 3' }]);
    expect(mine({ verb: 'get' })).toBe(1);
    // The first store's version is older now: its write conflicts, and it reads again.
    await store.append(ref, [{ role: 'model', text: 'answer 3' }]);
    expect(mine({ verb: 'update', code: 409 })).toBe(1);
    expect(await new ConversationStore(config).load(ref)).toHaveLength(8);
  });
});
