/**
 * The default scheduler: binds pending pods to a node that fits (resources, nodeSelector, affinity,
 * taints), or marks them Unschedulable with a FailedScheduling event. Unschedulable pods are tried
 * again when the cluster changes (a node changes, a pod finishes or goes away), as the scheduler's
 * queue moves them back on such events.
 */
import type { INode } from 'kubernetes-models/v1/Node';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { WatchEvent } from '../store.ts';
import { setPodCondition } from '../world/cluster.ts';
import { podRequests, type ResourceAmounts, schedule } from './fit.ts';
import { objectKey, splitKey, timestamp, WorkQueue, type WorldContext } from './runtime.ts';

const source = { component: 'default-scheduler' };

function isTerminal(pod: IPod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export class Scheduler {
  readonly #ctx: WorldContext;
  readonly #queue: WorkQueue;
  readonly #unschedulable = new Set<string>();
  readonly #unwatch: (() => void)[] = [];

  constructor(ctx: WorldContext) {
    this.#ctx = ctx;
    this.#queue = new WorkQueue((key) => this.#sync(key));
  }

  start(): void {
    this.#unwatch.push(
      this.#ctx.cluster.watch('v1/pods', (event) => this.#onPod(event)),
      this.#ctx.cluster.watch('v1/nodes', () => this.#retryUnschedulable()),
    );
  }

  stop(): void {
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
    this.#queue.stop();
  }

  #onPod(event: WatchEvent): void {
    const pod = event.object as unknown as IPod;
    const key = objectKey(event.object);
    if (event.type === 'DELETED' || isTerminal(pod)) {
      this.#unschedulable.delete(key);
      // Resources came free: pods that did not fit may fit now.
      if (pod.spec?.nodeName) this.#retryUnschedulable();
      return;
    }
    if (pod.spec?.nodeName || pod.metadata?.deletionTimestamp) return;
    if ((pod.spec?.schedulerName ?? 'default-scheduler') !== 'default-scheduler') return;
    if (event.type === 'MODIFIED' && this.#unschedulable.has(key)) return;
    this.#queue.add(key);
  }

  #retryUnschedulable(): void {
    for (const key of this.#unschedulable) this.#queue.add(key);
    this.#unschedulable.clear();
  }

  #sync(key: string): void {
    const { cluster, clock, events } = this.#ctx;
    const { namespace, name } = splitKey(key);
    const object = cluster.get('v1/pods', namespace, name);
    if (!object) return;
    const pod = object as unknown as IPod;
    if (!pod.spec || pod.spec.nodeName || pod.metadata?.deletionTimestamp || isTerminal(pod)) return;
    const nodes = cluster.list('v1/nodes') as unknown as INode[];
    const usage = new Map<string, ResourceAmounts>();
    for (const other of cluster.list('v1/pods') as unknown as IPod[]) {
      const node = other.spec?.nodeName;
      if (!node || isTerminal(other) || !other.spec) continue;
      const used = usage.get(node) ?? { cpuMillis: 0, memoryBytes: 0, pods: 0 };
      const request = podRequests(other.spec);
      usage.set(node, {
        cpuMillis: used.cpuMillis + request.cpuMillis,
        memoryBytes: used.memoryBytes + request.memoryBytes,
        pods: used.pods + 1,
      });
    }
    const decision = schedule(pod.spec, nodes, usage);
    const now = timestamp(clock());
    if ('node' in decision) {
      const nodeName = decision.node.metadata?.name ?? '';
      // The binding subresource sets spec.nodeName and PodScheduled=True in one write.
      cluster.bind(object, nodeName);
      events.record(
        object,
        'Normal',
        'Scheduled',
        `Successfully assigned ${namespace}/${name} to ${nodeName}`,
        source,
      );
      return;
    }
    this.#unschedulable.add(key);
    object['status'] = { ...((object['status'] ?? {}) as Record<string, unknown>), phase: 'Pending' };
    setPodCondition(object, {
      type: 'PodScheduled',
      status: 'False',
      lastProbeTime: null,
      lastTransitionTime: now,
      reason: 'Unschedulable',
      message: decision.message,
    });
    cluster.updateStatus('v1/pods', object);
    events.record(object, 'Warning', 'FailedScheduling', decision.message, source);
  }
}
