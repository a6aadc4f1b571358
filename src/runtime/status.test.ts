import { describe, expect, it } from 'vitest';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { RESOURCES } from '../kube/resources.ts';
import { canonicalJson, StatusWriter } from './status.ts';

/** A client whose status writes answer as a real server does: a new resourceVersion only on change. */
function fakeClient() {
  const writes: KubeObject[] = [];
  const client = {
    async replaceStatus(_: unknown, object: KubeObject & { status?: unknown }) {
      writes.push(object);
      const stored = stored_[object.metadata.name!];
      const changed = canonicalJson(stored?.status) !== canonicalJson(object.status);
      const resourceVersion = changed
        ? String(Number(object.metadata.resourceVersion) + 1)
        : object.metadata.resourceVersion;
      stored_[object.metadata.name!] = { status: object.status };
      return { ...object, metadata: { ...object.metadata, resourceVersion } };
    },
  };
  const stored_: Record<string, { status?: unknown }> = {};
  return { client: client as unknown as KubeClient, writes, stored: stored_ };
}

const plan = (status: unknown): KubeObject & { status?: unknown } => ({
  apiVersion: 'fractale.dev/v1alpha1',
  kind: 'AgentPlan',
  metadata: { name: 'p', namespace: 'default', resourceVersion: '7' },
  status,
});

describe('StatusWriter', () => {
  it('does not write a status that differs only in key order (a real server sorts the keys of custom resources)', async () => {
    const { client, writes } = fakeClient();
    const writer = new StatusWriter(client, RESOURCES.agentPlans);
    const cached = plan({ currentStep: 'build', phase: 'Running' });
    expect(await writer.write('default/p', cached, { phase: 'Running', currentStep: 'build' })).toBe(false);
    expect(writes).toHaveLength(0);
    expect(writer.isStale('default/p', cached)).toBe(false);
  });

  it('marks the cache stale after a write that changed the object, until a newer version arrives', async () => {
    const { client } = fakeClient();
    const writer = new StatusWriter(client, RESOURCES.agentPlans);
    const cached = plan({ phase: 'Running' });
    expect(await writer.write('default/p', cached, { phase: 'Succeeded' })).toBe(true);
    expect(writer.isStale('default/p', cached)).toBe(true);
    expect(
      writer.isStale('default/p', { ...cached, metadata: { ...cached.metadata, resourceVersion: '8' } }),
    ).toBe(false);
  });

  it('does not wait for a newer version after a write the server found unchanged', async () => {
    const { client, stored } = fakeClient();
    stored['p'] = { status: { phase: 'Running', pruned: undefined } };
    const writer = new StatusWriter(client, RESOURCES.agentPlans);
    // The cache lags (it lacks a field the server has), so the write goes out but changes nothing.
    const cached = plan({});
    expect(await writer.write('default/p', cached, { phase: 'Running' })).toBe(true);
    expect(writer.isStale('default/p', cached)).toBe(false);
  });
});
