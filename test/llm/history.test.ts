// ConversationStore against the simulated cluster's API server, through the real client-node.

import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS } from '../../src/api/index.ts';
import { CONVERSATION_KEY, ConversationStore, conversationConfigMapName } from '../../src/llm/history.ts';
import type { ChatTurn } from '../../src/llm/index.ts';
import { type SimCluster, startSimCluster } from '../../src/sim/index.ts';
import { kubeConfigFor } from '../helpers/kubeconfig.ts';

let sim: SimCluster;
let kc: KubeConfig;
let core: CoreV1Api;

beforeAll(async () => {
  sim = await startSimCluster({ port: 0 });
  kc = kubeConfigFor(sim.url);
  core = kc.makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await sim?.stop();
});

const user = (text: string): ChatTurn => ({ role: 'user', text });
const model = (text: string): ChatTurn => ({ role: 'model', text });

describe('ConversationStore', () => {
  it('starts empty, creates <step>-conversation on the first append, and adds to it after', async () => {
    const store = new ConversationStore(kc);
    const ref = {
      namespace: 'default',
      step: 'lammps-build',
      plan: 'lammps',
      ownerReference: {
        apiVersion: 'fractale.dev/v1alpha1',
        kind: 'AgentStep',
        name: 'lammps-build',
        uid: '0f8d5c1e-0000-4000-8000-000000000001',
        controller: true,
      },
    };
    expect(await store.load(ref)).toEqual([]);

    await store.append(ref, [user('Write a Dockerfile for LAMMPS'), model('FROM ubuntu:24.04')]);
    const created = await core.readNamespacedConfigMap({
      name: 'lammps-build-conversation',
      namespace: 'default',
    });
    expect(created.metadata?.labels).toMatchObject({
      [LABELS.managedBy]: 'fractale',
      [LABELS.step]: 'lammps-build',
      [LABELS.plan]: 'lammps',
    });
    expect(created.metadata?.ownerReferences?.[0]?.uid).toBe(ref.ownerReference.uid);

    await store.append(ref, [user('cmake: not found'), model('RUN apt-get install -y cmake')]);
    const updated = await core.readNamespacedConfigMap({
      name: 'lammps-build-conversation',
      namespace: 'default',
    });
    expect(updated.metadata?.resourceVersion).not.toBe(created.metadata?.resourceVersion);

    // A new store (an operator that restarted) reads what the first one wrote.
    expect(await new ConversationStore(kc).load(ref)).toEqual([
      user('Write a Dockerfile for LAMMPS'),
      model('FROM ubuntu:24.04'),
      user('cmake: not found'),
      model('RUN apt-get install -y cmake'),
    ]);
  });

  it('truncates to its budget, oldest turns first, and counts what it dropped', async () => {
    const store = new ConversationStore(kc, { budgetTokens: 25 });
    const ref = { namespace: 'default', step: 'budgeted' };
    const ten = (tag: string) => tag.padEnd(40, '.');
    const kept = await store.append(ref, [
      user(ten('u1')),
      model(ten('m1')),
      user(ten('u2')),
      model(ten('m2')),
    ]);
    expect(kept.map((turn) => turn.text.slice(0, 2))).toEqual(['u2', 'm2']);
    const stored = await core.readNamespacedConfigMap({
      name: conversationConfigMapName('budgeted'),
      namespace: 'default',
    });
    expect(JSON.parse(stored.data?.[CONVERSATION_KEY] ?? '{}').droppedTurns).toBe(2);
  });

  it('re-reads and re-applies when another writer changed the ConfigMap in between (409)', async () => {
    const ref = { namespace: 'default', step: 'contended' };
    await new ConversationStore(kc).append(ref, [user('first')]);

    // A proxy that, before forwarding the first replace, lets another client write the ConfigMap:
    // the replace then carries a stale resourceVersion and the API server answers 409.
    let interfered = false;
    const proxy = createHttpServer((req, res) => {
      const forward = () => {
        const upstream = httpRequest(
          `${sim.url}${req.url}`,
          { method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        req.pipe(upstream);
      };
      if (req.method === 'PUT' && !interfered) {
        interfered = true;
        new ConversationStore(kc).append(ref, [model('from the other writer')]).then(forward, forward);
      } else {
        forward();
      }
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const through = kubeConfigFor(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
      const turns = await new ConversationStore(through).append(ref, [user('second')]);
      expect(interfered).toBe(true);
      expect(turns).toEqual([user('first'), model('from the other writer'), user('second')]);
      expect(await new ConversationStore(kc).load(ref)).toEqual(turns);
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('keeps every turn when several writers append at once', async () => {
    const ref = { namespace: 'default', step: 'concurrent' };
    const texts = Array.from({ length: 6 }, (_, i) => `turn ${i}`);
    await Promise.all(
      texts.map((text) => new ConversationStore(kc, { maxConflictRetries: 10 }).append(ref, [user(text)])),
    );
    const stored = await new ConversationStore(kc).load(ref);
    expect(stored.map((turn) => turn.text).sort()).toEqual(texts);
  });

  it('replaces with save, reads a hand-edited ConfigMap as empty, and forgets on clear', async () => {
    const store = new ConversationStore(kc);
    const ref = { namespace: 'default', step: 'edited' };
    await store.save(ref, [user('a'), model('b')]);
    await store.save(ref, [user('c')]);
    expect(await store.load(ref)).toEqual([user('c')]);

    const name = conversationConfigMapName('edited');
    const current = await core.readNamespacedConfigMap({ name, namespace: 'default' });
    await core.replaceNamespacedConfigMap({
      name,
      namespace: 'default',
      body: { ...current, data: { [CONVERSATION_KEY]: 'not json' } },
    });
    expect(await store.load(ref)).toEqual([]);
    expect(await store.append(ref, [user('fresh')])).toEqual([user('fresh')]);

    await store.clear(ref);
    expect(await store.load(ref)).toEqual([]);
    await store.clear(ref);
  });
});
