/**
 * The default scheduler's filters, as pure functions: which nodes can take a pod, and the
 * FailedScheduling message when none can ("0/2 nodes are available: 2 Insufficient cpu. ...").
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { INode } from 'kubernetes-models/v1/Node';
import type { INodeSelectorRequirement } from 'kubernetes-models/v1/NodeSelectorRequirement';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { ITaint } from 'kubernetes-models/v1/Taint';
import type { IToleration } from 'kubernetes-models/v1/Toleration';
import { bytes, cpuMillis } from './quantity.ts';

export interface ResourceAmounts {
  cpuMillis: number;
  memoryBytes: number;
  pods: number;
}

function containerRequest(container: IContainer, resource: 'cpu' | 'memory'): number {
  // The API server defaults a missing request to the limit.
  const value = container.resources?.requests?.[resource] ?? container.resources?.limits?.[resource];
  if (value === undefined) return 0;
  return resource === 'cpu' ? cpuMillis(value) : bytes(value);
}

/**
 * What a pod asks of a node: the larger of the sum of its containers' requests and any single init
 * container's request, plus the pod overhead (Kubernetes' effective request).
 */
export function podRequests(spec: IPodSpec): ResourceAmounts {
  const sum = (resource: 'cpu' | 'memory') =>
    spec.containers.reduce((total, container) => total + containerRequest(container, resource), 0);
  const initMax = (resource: 'cpu' | 'memory') =>
    (spec.initContainers ?? []).reduce(
      (largest, container) => Math.max(largest, containerRequest(container, resource)),
      0,
    );
  const overhead = (resource: 'cpu' | 'memory') => {
    const value = spec.overhead?.[resource];
    if (value === undefined) return 0;
    return resource === 'cpu' ? cpuMillis(value) : bytes(value);
  };
  return {
    cpuMillis: Math.max(sum('cpu'), initMax('cpu')) + overhead('cpu'),
    memoryBytes: Math.max(sum('memory'), initMax('memory')) + overhead('memory'),
    pods: 1,
  };
}

export function nodeAllocatable(node: INode): ResourceAmounts {
  const allocatable = node.status?.allocatable ?? node.status?.capacity ?? {};
  return {
    cpuMillis: allocatable['cpu'] === undefined ? 0 : cpuMillis(allocatable['cpu']),
    memoryBytes: allocatable['memory'] === undefined ? 0 : bytes(allocatable['memory']),
    pods: allocatable['pods'] === undefined ? 110 : Number(allocatable['pods']),
  };
}

function matchesRequirement(labels: Record<string, string>, requirement: INodeSelectorRequirement): boolean {
  const value = labels[requirement.key];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/** nodeSelector and required node affinity (terms are ORed, expressions within a term ANDed). */
export function matchesNodeSelection(spec: IPodSpec, node: INode): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(spec.nodeSelector ?? {})) {
    if (labels[key] !== value) return false;
  }
  const terms =
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length === 0) return true;
  return terms.some((term) => {
    const fields: Record<string, string> = { 'metadata.name': node.metadata?.name ?? '' };
    const expressions = term.matchExpressions ?? [];
    const fieldExpressions = term.matchFields ?? [];
    if (expressions.length === 0 && fieldExpressions.length === 0) return false;
    return (
      expressions.every((requirement) => matchesRequirement(labels, requirement)) &&
      fieldExpressions.every((requirement) => matchesRequirement(fields, requirement))
    );
  });
}

function tolerates(toleration: IToleration, taint: ITaint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.operator === 'Exists') return !toleration.key || toleration.key === taint.key;
  return toleration.key === taint.key && (toleration.value ?? '') === (taint.value ?? '');
}

/** The first NoSchedule/NoExecute taint the pod does not tolerate. */
export function untoleratedTaint(spec: IPodSpec, node: INode): ITaint | undefined {
  return (node.spec?.taints ?? []).find(
    (taint) =>
      (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') &&
      !(spec.tolerations ?? []).some((toleration) => tolerates(toleration, taint)),
  );
}

export interface NodeFit {
  node: INode;
  /** Why the node cannot take the pod; empty when it can. */
  reasons: string[];
  /** Whether evicting lower-priority pods could help (only for resource shortages). */
  preemptionMayHelp: boolean;
  /** Free share of the node after placing the pod (higher is better), for scoring. */
  freeShare: number;
}

/**
 * Runs the filter plugins in the default profile's order (NodeUnschedulable, TaintToleration,
 * NodeAffinity, NodeResourcesFit); as in the scheduler, the first failing plugin gives a node's reasons.
 */
export function fitNode(spec: IPodSpec, node: INode, used: ResourceAmounts): NodeFit {
  const result = (reasons: string[], preemptionMayHelp = false, freeShare = 0): NodeFit => ({
    node,
    reasons,
    preemptionMayHelp,
    freeShare,
  });
  if (node.spec?.unschedulable) {
    const tolerated = (spec.tolerations ?? []).some(
      (toleration) =>
        toleration.key === 'node.kubernetes.io/unschedulable' &&
        (toleration.operator === 'Exists' || toleration.effect === 'NoSchedule'),
    );
    if (!tolerated) return result(['node(s) were unschedulable']);
  }
  const taint = untoleratedTaint(spec, node);
  if (taint) {
    const shown = taint.value ? `${taint.key}: ${taint.value}` : taint.key;
    return result([`node(s) had untolerated taint {${shown}}`]);
  }
  if (!matchesNodeSelection(spec, node)) return result(["node(s) didn't match Pod's node affinity/selector"]);
  const request = podRequests(spec);
  const allocatable = nodeAllocatable(node);
  const reasons: string[] = [];
  if (used.pods + 1 > allocatable.pods) reasons.push('Too many pods');
  if (request.cpuMillis > 0 && used.cpuMillis + request.cpuMillis > allocatable.cpuMillis) {
    reasons.push('Insufficient cpu');
  }
  if (request.memoryBytes > 0 && used.memoryBytes + request.memoryBytes > allocatable.memoryBytes) {
    reasons.push('Insufficient memory');
  }
  if (reasons.length > 0) return result(reasons, true);
  const share = (free: number, total: number) => (total > 0 ? free / total : 0);
  const freeShare =
    (share(allocatable.cpuMillis - used.cpuMillis - request.cpuMillis, allocatable.cpuMillis) +
      share(allocatable.memoryBytes - used.memoryBytes - request.memoryBytes, allocatable.memoryBytes)) /
    2;
  return result([], false, freeShare);
}

function countedReasons(reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const reason of reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  return [...counts.entries()]
    .map(([reason, count]) => `${count} ${reason}`)
    .sort()
    .join(', ');
}

export type ScheduleDecision = { node: INode } | { message: string };

/**
 * Picks the node for a pod (least allocated wins, then name), or explains why none fits with
 * the scheduler's FitError wording followed by the preemption summary.
 */
export function schedule(
  spec: IPodSpec,
  nodes: INode[],
  usage: Map<string, ResourceAmounts>,
): ScheduleDecision {
  if (nodes.length === 0) return { message: 'no nodes available to schedule pods' };
  const fits = nodes.map((node) =>
    fitNode(spec, node, usage.get(node.metadata?.name ?? '') ?? { cpuMillis: 0, memoryBytes: 0, pods: 0 }),
  );
  const feasible = fits
    .filter((fit) => fit.reasons.length === 0)
    .sort(
      (a, b) =>
        b.freeShare - a.freeShare || (a.node.metadata?.name ?? '').localeCompare(b.node.metadata?.name ?? ''),
    );
  if (feasible[0]) return { node: feasible[0].node };
  const total = nodes.length;
  const preemption = fits.map((fit) =>
    fit.preemptionMayHelp
      ? 'No preemption victims found for incoming pod'
      : 'Preemption is not helpful for scheduling',
  );
  return {
    message:
      `0/${total} nodes are available: ${countedReasons(fits.flatMap((fit) => fit.reasons))}. ` +
      `preemption: 0/${total} nodes are available: ${countedReasons(preemption)}.`,
  };
}
