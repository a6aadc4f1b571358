import type { INode } from 'kubernetes-models/v1/Node';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { describe, expect, it } from 'vitest';
import { defaultNodes, nodeObject, nodeSpecSchema } from '../nodes.ts';
import { podRequests, type ResourceAmounts, schedule } from './fit.ts';

const now = new Date('2026-01-01T00:00:00Z');
const twoNodes = defaultNodes().map((spec, index) => nodeObject(spec, index, now) as INode);

function podSpec(requests: Record<string, string>, extra: Partial<IPodSpec> = {}): IPodSpec {
  return { containers: [{ name: 'c', image: 'busybox', resources: { requests } }], ...extra };
}

describe('podRequests', () => {
  it('sums containers and takes the larger init container', () => {
    const spec: IPodSpec = {
      containers: [
        { name: 'a', image: 'x', resources: { requests: { cpu: '500m', memory: '1Gi' } } },
        { name: 'b', image: 'x', resources: { limits: { cpu: '1', memory: '512Mi' } } },
      ],
      initContainers: [{ name: 'i', image: 'x', resources: { requests: { cpu: '2' } } }],
    };
    expect(podRequests(spec)).toEqual({ cpuMillis: 2000, memoryBytes: 1.5 * 2 ** 30, pods: 1 });
  });
});

describe('schedule', () => {
  const idle = new Map<string, ResourceAmounts>();

  it('binds a pod that fits to the least allocated node', () => {
    const usage = new Map([['sim-worker-1', { cpuMillis: 3000, memoryBytes: 0, pods: 1 }]]);
    const decision = schedule(podSpec({ cpu: '1' }), twoNodes, usage);
    expect('node' in decision && decision.node.metadata?.name).toBe('sim-worker-2');
  });

  it('words an insufficient cpu failure like the scheduler', () => {
    const decision = schedule(podSpec({ cpu: '8' }), twoNodes, idle);
    expect(decision).toEqual({
      message:
        '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
    });
  });

  it('counts each shortage on each node', () => {
    const decision = schedule(podSpec({ cpu: '5', memory: '20Gi' }), twoNodes, idle);
    expect('message' in decision && decision.message).toBe(
      '0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
    );
  });

  it('explains a nodeSelector nobody matches', () => {
    const decision = schedule(
      podSpec({}, { nodeSelector: { 'kubernetes.io/arch': 'arm64' } }),
      twoNodes,
      idle,
    );
    expect('message' in decision && decision.message).toBe(
      "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
  });

  it('mixes reasons from different nodes, sorted', () => {
    const arm = nodeObject(nodeSpecSchema.parse({ name: 'arm-1', arch: 'arm64', cpu: '1' }), 3, now) as INode;
    const decision = schedule(
      podSpec({ cpu: '2' }, { nodeSelector: { 'kubernetes.io/arch': 'arm64' } }),
      [...twoNodes, arm],
      idle,
    );
    expect('message' in decision && decision.message).toBe(
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
    );
  });

  it('honours taints and tolerations', () => {
    const tainted = nodeObject(
      nodeSpecSchema.parse({ name: 'gpu-1', taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] }),
      0,
      now,
    ) as INode;
    expect(schedule(podSpec({}), [tainted], idle)).toEqual({
      message:
        '0/1 nodes are available: 1 node(s) had untolerated taint {gpu: true}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    });
    const tolerating = podSpec(
      {},
      { tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }] },
    );
    expect('node' in schedule(tolerating, [tainted], idle)).toBe(true);
  });

  it('selects by required node affinity', () => {
    const spec = podSpec(
      {},
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: 'kubernetes.io/hostname', operator: 'In', values: ['sim-worker-2'] },
                  ],
                },
              ],
            },
          },
        },
      },
    );
    const decision = schedule(spec, twoNodes, idle);
    expect('node' in decision && decision.node.metadata?.name).toBe('sim-worker-2');
  });
});
