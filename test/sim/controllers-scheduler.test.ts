import type { IPod } from 'kubernetes-models/v1/Pod';
import { afterEach, describe, expect, it } from 'vitest';
import { type NodeSpec, startSimControllers, waitFor } from '../../src/sim/index.ts';
import { LogStore } from '../../src/sim/logs.ts';
import { type KubeObject, Store } from '../../src/sim/store.ts';

let stop: (() => void) | undefined;
afterEach(() => stop?.());

function cluster(nodes?: Partial<NodeSpec>[]) {
  const store = new Store();
  const logs = new LogStore();
  const sim = startSimControllers({
    store,
    logs,
    speed: 0.001,
    nodes: nodes?.map((node, index) => ({ name: `node-${index + 1}`, ...node })),
    behaviors: { pullable: ['docker.io/library/.*'], pods: [{ command: 'sleep', outcome: 'Hang' }] },
  });
  stop = sim.stop;
  return { store, sim };
}

function pod(name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { restartPolicy: 'Never', ...spec },
  };
}

const asPod = (object: KubeObject | undefined) => object as unknown as IPod | undefined;
const scheduledCondition = (object: KubeObject | undefined) =>
  asPod(object)?.status?.conditions?.find((condition) => condition.type === 'PodScheduled');

function failedScheduling(store: Store, name: string) {
  return store
    .list('v1/events', 'default')
    .items.filter(
      (event) =>
        event['reason'] === 'FailedScheduling' && (event['involvedObject'] as { name: string }).name === name,
    );
}

describe('the simulated scheduler', () => {
  it('registers the default nodes with the usual labels and capacity', () => {
    const { store } = cluster();
    const nodes = store.list('v1/nodes').items;
    expect(nodes.map((node) => node.metadata.name)).toEqual(['sim-worker-1', 'sim-worker-2']);
    expect(nodes[0]?.metadata.labels).toMatchObject({
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/hostname': 'sim-worker-1',
      'node.kubernetes.io/instance-type': 'sim-standard-4',
    });
    expect(nodes[0]?.['status']).toMatchObject({
      allocatable: { cpu: '4', memory: '16Gi' },
      capacity: { cpu: '4' },
    });
  });

  it('leaves a pod that fits nowhere Pending with PodScheduled=False and a FailedScheduling event', async () => {
    const { store } = cluster();
    store.create(
      'v1/pods',
      pod('big', {
        containers: [
          { name: 'main', image: 'busybox:1.36', resources: { requests: { cpu: '6', memory: '1Gi' } } },
        ],
      }),
    );
    const pending = await waitFor(
      store,
      'v1/pods',
      'default',
      'big',
      (object) => scheduledCondition(object)?.status === 'False',
    );
    const message =
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.';
    expect(scheduledCondition(pending)).toMatchObject({ reason: 'Unschedulable', message });
    expect(asPod(pending)?.status?.phase).toBe('Pending');
    expect(asPod(pending)?.spec?.nodeName).toBeUndefined();
    const [event] = failedScheduling(store, 'big');
    expect(event).toMatchObject({ type: 'Warning', message, source: { component: 'default-scheduler' } });
  });

  it('binds an unschedulable pod once a finished pod frees the resources', async () => {
    const { store } = cluster([{ cpu: '4' }]);
    const requests = { requests: { cpu: '3' } };
    store.create(
      'v1/pods',
      pod('first', {
        containers: [{ name: 'main', image: 'busybox:1.36', args: ['sleep'], resources: requests }],
      }),
    );
    await waitFor(
      store,
      'v1/pods',
      'default',
      'first',
      (object) => asPod(object)?.status?.phase === 'Running',
    );
    store.create(
      'v1/pods',
      pod('second', { containers: [{ name: 'main', image: 'busybox:1.36', resources: requests }] }),
    );
    const pending = await waitFor(
      store,
      'v1/pods',
      'default',
      'second',
      (object) => scheduledCondition(object)?.status === 'False',
    );
    expect(scheduledCondition(pending)?.message).toBe(
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    );
    store.delete('v1/pods', 'default', 'first');
    const bound = await waitFor(
      store,
      'v1/pods',
      'default',
      'second',
      (object) => asPod(object)?.status?.phase === 'Succeeded',
    );
    expect(asPod(bound)?.spec?.nodeName).toBe('node-1');
    expect(scheduledCondition(bound)?.status).toBe('True');
  });

  it('honours nodeSelector against the nodes file labels', async () => {
    const { store } = cluster([{ arch: 'amd64' }, { arch: 'arm64', instanceType: 'sim-arm-4' }]);
    store.create(
      'v1/pods',
      pod('arm', {
        nodeSelector: { 'kubernetes.io/arch': 'arm64' },
        containers: [{ name: 'main', image: 'busybox:1.36' }],
      }),
    );
    store.create(
      'v1/pods',
      pod('gpu', {
        nodeSelector: { accelerator: 'nvidia' },
        containers: [{ name: 'main', image: 'busybox:1.36' }],
      }),
    );
    const placed = await waitFor(
      store,
      'v1/pods',
      'default',
      'arm',
      (object) => asPod(object)?.status?.phase === 'Succeeded',
    );
    expect(asPod(placed)?.spec?.nodeName).toBe('node-2');
    const pending = await waitFor(
      store,
      'v1/pods',
      'default',
      'gpu',
      (object) => scheduledCondition(object)?.status === 'False',
    );
    expect(scheduledCondition(pending)?.message).toBe(
      "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
  });
});
