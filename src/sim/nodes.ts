/**
 * The simulated cluster's nodes: a small YAML list (or the default of two 4-CPU, 16Gi amd64 nodes)
 * turned into Node objects with the labels, capacity and conditions a kubelet would report.
 */
import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { fieldPath } from './behaviors.ts';
import { parseQuantity } from './controllers/quantity.ts';

const quantity = z.union([z.string(), z.number()]).refine(
  (value) => {
    try {
      parseQuantity(value);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a Kubernetes quantity (e.g. 4, 500m, 16Gi)' },
);

export const nodeSpecSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'not a valid node name'),
  cpu: quantity.default('4'),
  memory: quantity.default('16Gi'),
  pods: z.number().int().positive().default(110),
  arch: z.string().default('amd64'),
  os: z.string().default('linux'),
  instanceType: z.string().default('sim-standard-4'),
  labels: z.record(z.string(), z.string()).default({}),
  taints: z
    .array(
      z.strictObject({
        key: z.string(),
        value: z.string().optional(),
        effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
      }),
    )
    .default([]),
  unschedulable: z.boolean().default(false),
});

export type NodeSpec = z.infer<typeof nodeSpecSchema>;
export type NodeSpecInput = z.input<typeof nodeSpecSchema>;

const nodesFileSchema = z.union([
  z.array(nodeSpecSchema),
  z.strictObject({ nodes: z.array(nodeSpecSchema) }).transform((file) => file.nodes),
]);

export function defaultNodes(): NodeSpec[] {
  return [1, 2].map((index) => nodeSpecSchema.parse({ name: `sim-worker-${index}` }));
}

/** Parses a nodes file: a list of nodes, or `{nodes: [...]}`; errors name the line and field. */
export function parseNodes(text: string, source = 'nodes.yaml'): NodeSpec[] {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  if (document.errors.length > 0) {
    throw new Error(`Invalid nodes file ${source}: ${document.errors[0]?.message}`);
  }
  const result = nodesFileSchema.safeParse(document.toJS());
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      let line: number | undefined;
      for (let depth = issue.path.length; depth > 0 && line === undefined; depth--) {
        const node = document.getIn(issue.path.slice(0, depth), true);
        if (isNode(node) && node.range) line = lineCounter.linePos(node.range[0]).line;
      }
      return `  ${source}${line ? `:${line}` : ''}: ${fieldPath(issue.path)}: ${issue.message}`;
    });
    throw new Error(`Invalid nodes file ${source}:\n${lines.join('\n')}`);
  }
  const names = new Set<string>();
  for (const node of result.data) {
    if (names.has(node.name))
      throw new Error(`Invalid nodes file ${source}: node "${node.name}" is listed twice`);
    names.add(node.name);
  }
  return result.data;
}

export function loadNodes(path: string): NodeSpec[] {
  return parseNodes(readFileSync(path, 'utf8'), path);
}

/** The Node object a kubelet registers for this node (status included). */
export function nodeObject(spec: NodeSpec, index: number, now: Date) {
  const cpu = String(spec.cpu);
  const memory = String(spec.memory);
  // A real kubelet reserves a little for the system; the sim keeps whole numbers for readable tests.
  const capacity = { cpu, memory, pods: String(spec.pods), 'ephemeral-storage': '100Gi' };
  const time = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: time,
    lastTransitionTime: time,
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: {
        'beta.kubernetes.io/arch': spec.arch,
        'beta.kubernetes.io/os': spec.os,
        'kubernetes.io/arch': spec.arch,
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': spec.os,
        'node.kubernetes.io/instance-type': spec.instanceType,
        ...spec.labels,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: {
      podCIDR: `10.244.${index}.0/24`,
      podCIDRs: [`10.244.${index}.0/24`],
      providerID: `sim://${spec.name}`,
      ...(spec.taints.length > 0 ? { taints: spec.taints } : {}),
      ...(spec.unschedulable ? { unschedulable: true } : {}),
    },
    status: {
      capacity,
      allocatable: capacity,
      conditions: [
        condition(
          'MemoryPressure',
          'False',
          'KubeletHasSufficientMemory',
          'kubelet has sufficient memory available',
        ),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: `172.18.0.${index + 2}` },
        { type: 'Hostname', address: spec.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: `sim${index}`.padEnd(32, '0'),
        systemUUID: `sim-${spec.name}`,
        bootID: `sim-boot-${index}`,
        kernelVersion: '6.8.0-sim',
        osImage: 'Simulated Linux',
        containerRuntimeVersion: 'containerd://2.1.0',
        kubeletVersion: 'v1.34.0',
        kubeProxyVersion: '',
        operatingSystem: spec.os,
        architecture: spec.arch,
      },
      images: [],
    },
  };
}
