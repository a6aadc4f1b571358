import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../kube/client.ts';
import { ClusterFactsReader } from './cluster.ts';

/** A client whose reads wait until released, counting them. */
function slowClient() {
  const calls = { list: 0, find: 0 };
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const client = {
    list: async () => {
      calls.list++;
      await gate;
      return {
        metadata: {},
        items: [
          {
            metadata: { name: 'n1', labels: { 'kubernetes.io/arch': 'amd64' } },
            status: { allocatable: { cpu: '4', memory: '16Gi' } },
          },
        ],
      };
    },
    find: async () => {
      calls.find++;
      await gate;
      return undefined;
    },
  } as unknown as KubeClient;
  return { client, calls, release };
}

describe('ClusterFactsReader', () => {
  it('steps that start together share one read of the nodes and the MiniCluster CRD', async () => {
    const { client, calls, release } = slowClient();
    const reader = new ClusterFactsReader(client);
    const reads = [reader.facts('build'), reader.facts('kubernetes-job'), reader.miniClusterInstalled()];
    release();
    const [build, job, installed] = await Promise.all(reads);
    expect(calls).toEqual({ list: 1, find: 1 });
    expect(build).toEqual({ nodes: '1 node(s); each about 4 CPU, 16Gi memory, amd64' });
    expect(job).toEqual(build);
    expect(installed).toBe(false);
    // Within the TTL, from the cache.
    await reader.facts('build');
    expect(calls).toEqual({ list: 1, find: 1 });
  });

  it('reads again once the TTL has passed', async () => {
    const { client, calls, release } = slowClient();
    release();
    const reader = new ClusterFactsReader(client, 0);
    await reader.facts('build');
    await reader.facts('build');
    expect(calls.list).toBe(2);
  });
});
