// The policy every generated manifest is held to before anything is created. The model's YAML is
// untrusted input: it is parsed, held to the expected kind, refused if it asks for host, node or
// credential access (at least Pod Security's baseline, and restricted's non-root when configured) or
// more than the configured resources, given the step's identity (namespace, name, labels, owner, image)
// and bounded in time, then checked against the Kubernetes schema. A refusal comes with one paragraph
// the model can act on: what was refused, field by field, and how to write it instead.
import * as models from '@kubernetes/client-node';
import { Ajv, type ValidateFunction } from 'ajv';
import { Job } from 'kubernetes-models/batch/v1';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { FLUX_VIEWS, MINICLUSTER_API_VERSION, MINICLUSTER_KIND } from '../agents/minicluster/views.ts';
import { listWithin, MAX_EXPLANATION_CHARS } from '../agents/parse.ts';
import type { OwnerReference } from './names.ts';
import { parseQuantity } from './quantity.ts';

export const EXPECTED = {
  Job: { apiVersion: 'batch/v1', kind: 'Job' },
  MiniCluster: { apiVersion: MINICLUSTER_API_VERSION, kind: MINICLUSTER_KIND },
} as const;
export type ManifestKind = keyof typeof EXPECTED;

/** The most retries a run may ask Kubernetes for: a failure is diagnosed, not rerun unchanged. */
export const MAX_BACKOFF_LIMIT = 1;
/** The largest manifest read; anything bigger is not a hand-written run. */
export const MAX_MANIFEST_BYTES = 256 * 1024;
/**
 * The most nodes (keys, list items, flow brackets and commas) and flow nesting a manifest may have. A
 * hand-written Job has about a hundred nodes. The YAML parser runs on the operator's one thread and
 * its time grows with the nodes, for keys and unclosed flow brackets with their square (found by
 * test/fuzz: a 100 KB answer of unclosed `[` took 40 s, 16,000 keys 5 s, 1,500 lines of 64 nested
 * brackets 5 s), so these are counted in one pass before it runs.
 */
export const MAX_MANIFEST_NODES = 3000;
export const MAX_MANIFEST_DEPTH = 32;
/** The operator's default caps on what one generated pod may request (--max-cpu-request, --max-memory-request). */
export const DEFAULT_MAX_CPU_REQUEST = '64';
export const DEFAULT_MAX_MEMORY_REQUEST = '256Gi';

export interface ManifestPolicy {
  kind: ManifestKind;
  namespace: string;
  /** The deterministic name of the attempt's object. */
  name: string;
  /** The image the build produced (or the context named): the first container runs it. */
  image: string;
  labels: Readonly<Record<string, string>>;
  ownerReference?: OwnerReference;
  /** The run's time limit (the context's maxRuntime, or the operator's default). */
  activeDeadlineSeconds: number;
  noPull?: boolean;
  /** The one service account runs may use; unset means only the namespace's default. */
  serviceAccountName?: string;
  /** Secrets the user listed for this step; every other Secret reference is refused. */
  allowedSecrets?: readonly string[];
  maxBackoffLimit?: number;
  /**
   * The most CPU and memory (Kubernetes quantities) one pod may request or be limited to, counting
   * all its containers as the scheduler does; unset: no cap.
   */
  maxRequests?: { cpu?: string; memory?: string };
  /** Refuse root (runAsUser 0, runAsNonRoot false) and set runAsNonRoot on the pod, as restricted does. */
  runAsNonRoot?: boolean;
  fluxViews?: readonly string[];
  /**
   * The MiniCluster CRD's openAPIV3Schema as installed in the cluster. When given, a MiniCluster is
   * checked against it, strictly: unknown fields are refused, as `kubectl apply --validate=strict` does.
   */
  miniclusterSchema?: Record<string, unknown>;
}

/** Why a manifest was refused, as a CamelCase reason for conditions and events. */
export type PolicyReason =
  | 'InvalidYAML'
  | 'NotOneDocument'
  | 'WrongKind'
  | 'TooLarge'
  | 'MissingContainer'
  | 'Sidecars'
  | 'Privileged'
  | 'HostNamespace'
  | 'HostPath'
  | 'AddedCapabilities'
  | 'ServiceAccount'
  | 'ServiceAccountToken'
  | 'Secret'
  | 'Volume'
  | 'HostPort'
  | 'NodePinning'
  | 'ResourceCap'
  | 'RunAsRoot'
  | 'Namespace'
  | 'SchemaInvalid';

export interface Violation {
  reason: PolicyReason;
  /** The field, as a dotted path (`spec.template.spec.hostNetwork`). */
  path: string;
  message: string;
}

export type PolicyResult =
  | { ok: true; object: Record<string, unknown>; changes: string[] }
  | { ok: false; reason: PolicyReason; explanation: string; violations: Violation[] };

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const asObj = (value: unknown): Obj | undefined => (isObj(value) ? value : undefined);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const child = (parent: Obj, key: string): Obj => {
  if (!isObj(parent[key])) parent[key] = {};
  return parent[key] as Obj;
};
const show = (value: unknown) => JSON.stringify(value) ?? String(value);

/**
 * Holds a generated manifest to the policy. Returns the object to create and the list of fields the
 * policy changed (for the step's history), or the reason it was refused and an explanation for the
 * model. All violations are reported at once, so the next attempt can fix them together.
 */
export function applyManifestPolicy(text: string, policy: ManifestPolicy): PolicyResult {
  const expected = EXPECTED[policy.kind];
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES) {
    return refuse(policy, [
      {
        reason: 'TooLarge',
        path: '(manifest)',
        message: `the manifest is larger than ${MAX_MANIFEST_BYTES / 1024} KiB`,
      },
    ]);
  }
  const parsed = parseOne(text);
  if ('violation' in parsed) return refuse(policy, [parsed.violation]);
  const object = parsed.object;
  if (typeof object['kind'] === 'string' && object['kind'].endsWith('List') && 'items' in object) {
    const items = asArray(object['items']);
    const kinds = [...new Set(items.map((item) => String(asObj(item)?.['kind'] ?? '?')))];
    return refuse(policy, [
      {
        reason: 'NotOneDocument',
        path: '(manifest)',
        message: `it is a ${object['kind']} of ${items.length} object${items.length === 1 ? '' : 's'}${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}, not one ${expected.kind}`,
      },
    ]);
  }
  if (object['apiVersion'] !== expected.apiVersion || object['kind'] !== expected.kind) {
    return refuse(policy, [
      {
        reason: 'WrongKind',
        path: 'kind',
        message: `it is a ${show(object['kind'])} of apiVersion ${show(object['apiVersion'])}, not a ${expected.kind} of apiVersion ${expected.apiVersion}`,
      },
    ]);
  }
  const changes: string[] = [];
  const namespace = namespaceViolation(object, policy);
  const violations = [
    ...namespace,
    ...(policy.kind === 'Job'
      ? jobPolicy(object, policy, changes)
      : miniclusterPolicy(object, policy, changes)),
  ];
  if (violations.length > 0) return refuse(policy, violations);
  forceMetadata(object, policy, changes);
  const schema =
    policy.kind === 'Job' ? validateJob(object) : validateMiniCluster(object, policy.miniclusterSchema);
  if (schema.length > 0) return refuse(policy, schema);
  return { ok: true, object, changes };
}

/** A parser error as the model should read it (a stack overflow means nesting, not a bug of ours). */
const yamlError = (message: string) =>
  /Maximum call stack size exceeded/.test(message)
    ? 'the YAML does not parse: it is nested too deeply'
    : `the YAML does not parse: ${message.split('\n')[0]}`;

/**
 * Nodes and flow nesting, outside quotes and comments, in one pass. A bracket or a quote counts only
 * where a value can start (a line's start, after `: `, `- `, `? `, or inside a flow collection), so
 * `workingDir: /a[b` or `echo don't` in a plain scalar is text, as the YAML parser reads it.
 */
function shapeViolation(text: string): Violation | undefined {
  let nodes = 0;
  let depth = 0;
  let deepest = 0;
  let quote: '"' | "'" | undefined;
  let comment = false;
  let start = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      comment = false;
      if (!quote) start = true;
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') continue;
    const after = i + 1 === text.length || /\s/.test(text[i + 1]!);
    const before = i === 0 || /\s/.test(text[i - 1]!);
    if (c === '#' && before) {
      comment = true;
    } else if ((c === '"' || c === "'") && (start || depth > 0)) {
      quote = c;
      start = false;
    } else if ((c === ':' || c === '-' || c === '?') && after) {
      nodes++;
      start = true;
    } else if ((c === '[' || c === '{') && (start || depth > 0)) {
      nodes++;
      deepest = Math.max(deepest, ++depth);
      start = true;
    } else if (depth > 0 && c === ',') {
      nodes++;
      start = true;
    } else if (depth > 0 && (c === ']' || c === '}')) {
      depth--;
      start = false;
    } else start = false;
  }
  if (deepest > MAX_MANIFEST_DEPTH) {
    return {
      reason: 'InvalidYAML',
      path: '(manifest)',
      message: `the YAML does not parse: it is nested too deeply (${deepest} brackets, at most ${MAX_MANIFEST_DEPTH})`,
    };
  }
  if (nodes > MAX_MANIFEST_NODES) {
    return {
      reason: 'TooLarge',
      path: '(manifest)',
      message: `the manifest has ${nodes} fields and list items, more than the ${MAX_MANIFEST_NODES} a manifest may have`,
    };
  }
  return undefined;
}

function parseOne(text: string): { object: Obj } | { violation: Violation } {
  const shape = shapeViolation(text);
  if (shape) return { violation: shape };
  let documents: ReturnType<typeof parseAllDocuments>;
  try {
    documents = parseAllDocuments(text);
  } catch (error) {
    return { violation: { reason: 'InvalidYAML', path: '(manifest)', message: yamlError(String(error)) } };
  }
  if (!Array.isArray(documents)) {
    return {
      violation: {
        reason: 'NotOneDocument',
        path: '(manifest)',
        message: 'the answer holds no YAML document',
      },
    };
  }
  for (const document of documents) {
    const error = document.errors[0];
    if (error) {
      return {
        violation: {
          reason: 'InvalidYAML',
          path: '(manifest)',
          message: yamlError(error.message),
        },
      };
    }
  }
  const nonEmpty = documents.filter((d) => d.contents !== null);
  if (nonEmpty.length !== 1) {
    return {
      violation: {
        reason: 'NotOneDocument',
        path: '(manifest)',
        message:
          nonEmpty.length === 0
            ? 'the answer holds no YAML document'
            : `it holds ${nonEmpty.length} YAML documents, not one`,
      },
    };
  }
  let value: unknown;
  try {
    value = nonEmpty[0]!.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return {
      violation: {
        reason: 'InvalidYAML',
        path: '(manifest)',
        message: yamlError((error as Error).message),
      },
    };
  }
  if (!isObj(value)) {
    return {
      violation: {
        reason: 'InvalidYAML',
        path: '(manifest)',
        message: 'the document is not a mapping of fields',
      },
    };
  }
  return { object: value };
}

/** The most violations listed in an explanation; the rest are counted (the model fixes the first ones first). */
const MAX_LISTED = 12;

/** How to fix each kind of refusal, one sentence each, for the explanation's last part. */
function fix(reason: PolicyReason, policy: ManifestPolicy): string {
  const { kind, apiVersion } = EXPECTED[policy.kind];
  switch (reason) {
    case 'InvalidYAML':
      return 'Answer with one ```yaml block of plain YAML (no anchors or aliases, no deep nesting).';
    case 'NotOneDocument':
      return `Write exactly one ${kind} in one YAML document: not a List, not several documents.`;
    case 'WrongKind':
      return `Write a ${kind} of apiVersion ${apiVersion}; the operator creates nothing else (no Pods, workloads, Secrets, roles or bindings).`;
    case 'TooLarge':
      return `Write the ${kind} by hand, without embedded data or generated content.`;
    case 'MissingContainer':
      return `Give the ${kind} a container that runs the step's image.`;
    case 'Sidecars':
      return 'Use exactly one container and no service containers.';
    case 'Privileged':
      return 'Remove these securityContext fields: no privileged mode or privilege escalation, no unmasked /proc, no Unconfined seccomp or AppArmor profile, no custom SELinux user, role or type, and only safe sysctls.';
    case 'HostNamespace':
      return 'Remove hostNetwork, hostPID, hostIPC and hostProcess: runs use the pod network and their own processes.';
    case 'HostPath':
      return 'Use an emptyDir volume for scratch space instead of a path on the node.';
    case 'Volume':
      return 'Use only emptyDir, configMap, downwardAPI and projected volumes, and secret volumes of Secrets the user listed.';
    case 'AddedCapabilities':
      return 'Remove capabilities.add (dropping capabilities is fine).';
    case 'ServiceAccount':
      return `Leave serviceAccountName out: the operator sets "${policy.serviceAccountName ?? 'default'}".`;
    case 'ServiceAccountToken':
      return 'Remove automountServiceAccountToken: true and serviceAccountToken projections: runs get no Kubernetes API credentials.';
    case 'Secret':
      return `Use only the Secrets the user listed (${policy.allowedSecrets?.length ? policy.allowedSecrets.join(', ') : 'none'}).`;
    case 'HostPort':
      return 'Remove hostPort and hostIP: a containerPort is enough for pods to reach each other.';
    case 'NodePinning':
      return 'Remove nodeName and tolerations of every taint or of control-plane nodes; let the scheduler place the pod (nodeSelector and affinity are fine).';
    case 'ResourceCap':
      return `Request at most ${policy.maxRequests?.cpu ?? 'the allowed'} CPU and ${policy.maxRequests?.memory ?? 'the allowed'} memory for the whole pod, in requests and limits, or set none.`;
    case 'RunAsRoot':
      return 'Remove runAsUser: 0 and runAsNonRoot: false: generated pods run as a non-root user here (the operator sets runAsNonRoot: true).';
    case 'Namespace':
      return `Leave metadata.namespace out: the operator creates the ${kind} in the step's namespace "${policy.namespace}".`;
    case 'SchemaInvalid':
      return `Fix these fields so the ${kind} matches the Kubernetes schema.`;
  }
}

function refuse(policy: ManifestPolicy, violations: Violation[]): PolicyResult {
  const kind = EXPECTED[policy.kind].kind;
  const items = violations
    .slice(0, MAX_LISTED)
    .map((v) => (v.path.startsWith('(') ? v.message : `${v.path}: ${v.message}`).replace(/\s*\n\s*/g, ' '));
  if (violations.length > MAX_LISTED) items.push(`(${violations.length - MAX_LISTED} more not listed)`);
  // The fixes of the first reasons, within half the room; the fields get the rest.
  const hints: string[] = [];
  for (const reason of new Set(violations.map((v) => v.reason))) {
    const hint = fix(reason, policy);
    if (hints.join(' ').length + hint.length > MAX_EXPLANATION_CHARS / 2) break;
    hints.push(hint);
  }
  const head = `The ${kind} was not created because `;
  const budget = MAX_EXPLANATION_CHARS - head.length - hints.join(' ').length - 2;
  return {
    ok: false,
    reason: violations[0]!.reason,
    violations,
    explanation: `${head}${listWithin(items, budget)}. ${hints.join(' ')}`.trim(),
  };
}

/**
 * A namespace other than the step's is refused: the model is told not to set one, and asking for
 * kube-system or another team's namespace is the hostile case. `default`, which models write when
 * they do not know the namespace, is rewritten to the step's (forceMetadata), as is the step's own.
 */
function namespaceViolation(object: Obj, policy: ManifestPolicy): Violation[] {
  const namespace = asObj(object['metadata'])?.['namespace'];
  if (namespace === undefined || namespace === null || namespace === '') return [];
  if (namespace === 'default' || namespace === policy.namespace) return [];
  return [
    {
      reason: 'Namespace',
      path: 'metadata.namespace',
      message: `${show(namespace)} is not the step's namespace "${policy.namespace}"`,
    },
  ];
}

// Pod Security's baseline: the sysctls a pod may set, and the SELinux types a container may run as.
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

/**
 * What a pod's or a container's securityContext may not ask for: Pod Security's baseline (no
 * privileged mode, no added capabilities, no unmasked /proc, no Unconfined seccomp or AppArmor, no
 * custom SELinux labels, no unsafe sysctls, no Windows host process), no privilege escalation, and,
 * when the policy runs pods as non-root, no root.
 */
function securityViolations(
  security: Obj | undefined,
  path: string,
  policy: ManifestPolicy,
  level: 'pod' | 'container',
): Violation[] {
  const out: Violation[] = [];
  if (!security) return out;
  const at = `${path}.securityContext`;
  const privileged = (field: string, message: string) =>
    out.push({ reason: 'Privileged', path: `${at}.${field}`, message });
  if (level === 'container') {
    if (security['privileged'] === true) privileged('privileged', 'privileged containers are not allowed');
    if (security['allowPrivilegeEscalation'] === true)
      privileged('allowPrivilegeEscalation', 'privilege escalation is not allowed');
    const added = asArray(asObj(security['capabilities'])?.['add']);
    if (added.length > 0) {
      out.push({
        reason: 'AddedCapabilities',
        path: `${at}.capabilities.add`,
        message: `adding capabilities (${added.map(String).join(', ')}) is not allowed`,
      });
    }
    const procMount = security['procMount'];
    if (procMount !== undefined && procMount !== 'Default')
      privileged('procMount', `procMount ${show(procMount)} unmasks /proc; only Default is allowed`);
  }
  for (const profile of ['seccompProfile', 'appArmorProfile'] as const) {
    const type = asObj(security[profile])?.['type'];
    if (type === 'Unconfined') privileged(`${profile}.type`, `an Unconfined ${profile} is not allowed`);
  }
  const selinux = asObj(security['seLinuxOptions']);
  if (selinux) {
    for (const field of ['user', 'role'] as const) {
      if (selinux[field] !== undefined && selinux[field] !== '')
        privileged(`seLinuxOptions.${field}`, `setting the SELinux ${field} is not allowed`);
    }
    const type = selinux['type'];
    if (type !== undefined && !SELINUX_TYPES.has(String(type)))
      privileged('seLinuxOptions.type', `SELinux type ${show(type)} is not allowed`);
  }
  if (asObj(security['windowsOptions'])?.['hostProcess'] === true) {
    out.push({
      reason: 'HostNamespace',
      path: `${at}.windowsOptions.hostProcess`,
      message: 'host process containers are not allowed',
    });
  }
  if (level === 'pod') {
    asArray(security['sysctls']).forEach((sysctl, i) => {
      const name = asObj(sysctl)?.['name'];
      if (!SAFE_SYSCTLS.has(String(name)))
        privileged(`sysctls[${i}]`, `sysctl ${show(name)} is not one of the safe sysctls`);
    });
  }
  if (policy.runAsNonRoot) {
    if (security['runAsUser'] === 0)
      out.push({
        reason: 'RunAsRoot',
        path: `${at}.runAsUser`,
        message: 'running as root (user 0) is not allowed',
      });
    if (security['runAsNonRoot'] === false) {
      out.push({
        reason: 'RunAsRoot',
        path: `${at}.runAsNonRoot`,
        message: 'runAsNonRoot: false is not allowed',
      });
    }
  }
  return out;
}

/** Checks shared by the containers of a Job's pod and of a MiniCluster (and its flux view). */
function containerViolations(container: Obj, path: string, policy: ManifestPolicy): Violation[] {
  return securityViolations(asObj(container['securityContext']), path, policy, 'container');
}

/** A container's ports: a hostPort (or hostIP) opens a port on the node itself. */
function hostPortViolations(container: Obj, path: string): Violation[] {
  const out: Violation[] = [];
  asArray(container['ports']).forEach((item, i) => {
    const port = asObj(item) ?? {};
    for (const field of ['hostPort', 'hostIP'] as const) {
      if (port[field] !== undefined && port[field] !== 0 && port[field] !== '') {
        out.push({
          reason: 'HostPort',
          path: `${path}.ports[${i}].${field}`,
          message: `${field} ${show(port[field])} binds a port on the node; it is not allowed`,
        });
      }
    }
  });
  return out;
}

/** Tolerations that place a pod on control-plane nodes, or anywhere whatever its taints. */
function tolerationViolations(tolerations: unknown, path: string): Violation[] {
  const out: Violation[] = [];
  asArray(tolerations).forEach((item, i) => {
    const toleration = asObj(item) ?? {};
    const key = toleration['key'];
    if ((key === undefined || key === '') && toleration['operator'] === 'Exists') {
      out.push({
        reason: 'NodePinning',
        path: `${path}[${i}]`,
        message: 'a toleration of every taint is not allowed',
      });
    } else if (typeof key === 'string' && /^node-role\.kubernetes\.io\/(control-plane|master)$/.test(key)) {
      out.push({
        reason: 'NodePinning',
        path: `${path}[${i}]`,
        message: `tolerating ${key} would run on control-plane nodes; it is not allowed`,
      });
    }
  });
  return out;
}

const CAPPED = ['cpu', 'memory'] as const;
type Capped = (typeof CAPPED)[number];

const formatAmount = (resource: Capped, value: number) => {
  if (resource === 'cpu') return `${Number(value.toPrecision(6))}`;
  const gi = value / 2 ** 30;
  return gi >= 1 ? `${Number(gi.toPrecision(6))}Gi` : `${Number((value / 2 ** 20).toPrecision(6))}Mi`;
};

/**
 * Requests and limits beyond the policy's caps. Each value is checked, and then the pod as the
 * scheduler counts it: the sum over its containers (a request, else its limit), or its largest init
 * container if that is more. Values that are not quantities are left to the schema check.
 */
function resourceViolations(
  containers: { resources: unknown; path: string }[],
  inits: { resources: unknown; path: string }[],
  podPath: string,
  policy: ManifestPolicy,
): Violation[] {
  const out: Violation[] = [];
  for (const resource of CAPPED) {
    const capText = policy.maxRequests?.[resource];
    const cap = parseQuantity(capText);
    if (cap === undefined) continue;
    const amount = (resources: unknown): number => {
      const r = asObj(resources);
      return parseQuantity(asObj(r?.['requests'])?.[resource] ?? asObj(r?.['limits'])?.[resource]) ?? 0;
    };
    let each = false;
    for (const { resources, path } of [...containers, ...inits]) {
      for (const list of ['requests', 'limits'] as const) {
        const raw = asObj(asObj(resources)?.[list])?.[resource];
        const value = parseQuantity(raw);
        if (value !== undefined && value > cap) {
          each = true;
          out.push({
            reason: 'ResourceCap',
            path: `${path}.resources.${list}.${resource}`,
            message: `${show(raw)} is more than the ${capText} of ${resource} a pod may have`,
          });
        }
      }
    }
    if (each) continue;
    const total = Math.max(
      containers.reduce((sum, c) => sum + amount(c.resources), 0),
      ...inits.map((c) => amount(c.resources)),
    );
    if (total > cap) {
      out.push({
        reason: 'ResourceCap',
        path: podPath,
        message: `the containers ask for ${formatAmount(resource, total)} of ${resource} together, more than the ${capText} a pod may have`,
      });
    }
  }
  return out;
}

function secretViolation(name: unknown, path: string, policy: ManifestPolicy): Violation[] {
  if (typeof name !== 'string' || (policy.allowedSecrets ?? []).includes(name)) return [];
  return [{ reason: 'Secret', path, message: `Secret ${show(name)} was not listed by the user` }];
}

function serviceAccountViolation(value: unknown, path: string, policy: ManifestPolicy): Violation[] {
  if (value === undefined || value === null || value === '') return [];
  const allowed = policy.serviceAccountName ?? 'default';
  if (value === allowed) return [];
  return [{ reason: 'ServiceAccount', path, message: `service account ${show(value)} is not allowed` }];
}

function tokenViolation(value: unknown, path: string): Violation[] {
  if (value !== true) return [];
  return [
    {
      reason: 'ServiceAccountToken',
      path,
      message: 'mounting a service account token gives the run Kubernetes API credentials; it is not allowed',
    },
  ];
}

/** The volume sources of V1Volume (every field but name); fields it does not know are the schema check's. */
const VOLUME_SOURCES = new Set(
  (modelOf('V1Volume')?.getAttributeTypeMap() ?? []).map((a) => a.baseName).filter((n) => n !== 'name'),
);
const SAFE_VOLUMES = new Set(['emptyDir', 'configMap', 'downwardAPI']);
const WHY_NOT: Record<string, string> = {
  csi: 'an inline CSI volume mounts whatever its driver reaches (node paths, cloud secrets)',
  ephemeral: 'an ephemeral volume creates a PersistentVolumeClaim, and runs create nothing',
  persistentVolumeClaim: 'runs may not mount PersistentVolumeClaims',
  gitRepo: 'a gitRepo volume runs git on the node',
  flexVolume: 'a flexVolume runs a driver binary on the node',
  image: 'an image volume pulls another image onto the node',
};

/**
 * A pod volume, by allow-list: emptyDir, configMap, downwardAPI, projected (of those, and of listed
 * Secrets) and listed Secrets. hostPath, inline CSI, ephemeral claims, network and cloud disks, and
 * service account tokens are refused, whichever way they are written.
 */
function volumeViolations(volume: Obj, path: string, policy: ManifestPolicy): Violation[] {
  const out: Violation[] = [];
  for (const source of Object.keys(volume)) {
    if (!VOLUME_SOURCES.has(source) || SAFE_VOLUMES.has(source)) continue;
    if (source === 'hostPath') {
      out.push({ reason: 'HostPath', path: `${path}.hostPath`, message: 'hostPath volumes are not allowed' });
    } else if (source === 'secret') {
      out.push(...secretViolation(asObj(volume['secret'])?.['secretName'], `${path}.secret`, policy));
    } else if (source === 'projected') {
      asArray(asObj(volume['projected'])?.['sources']).forEach((item, j) => {
        const projection = asObj(item) ?? {};
        const at = `${path}.projected.sources[${j}]`;
        for (const kind of Object.keys(projection)) {
          if (kind === 'configMap' || kind === 'downwardAPI') continue;
          if (kind === 'secret') {
            out.push(...secretViolation(asObj(projection['secret'])?.['name'], `${at}.secret`, policy));
          } else if (kind === 'serviceAccountToken') {
            out.push({
              reason: 'ServiceAccountToken',
              path: `${at}.serviceAccountToken`,
              message:
                'a projected service account token gives the run Kubernetes API credentials; it is not allowed',
            });
          } else if (kind === 'clusterTrustBundle' || kind === 'podCertificate') {
            out.push({
              reason: 'Volume',
              path: `${at}.${kind}`,
              message: `${kind} projections are not allowed`,
            });
          }
        }
      });
    } else {
      out.push({
        reason: 'Volume',
        path: `${path}.${source}`,
        message: `${WHY_NOT[source] ?? `${source} volumes are not allowed`}`,
      });
    }
  }
  return out;
}

function jobPolicy(job: Obj, policy: ManifestPolicy, changes: string[]): Violation[] {
  const spec = asObj(job['spec']);
  const template = asObj(spec?.['template']);
  const pod = asObj(template?.['spec']);
  const containers = asArray(pod?.['containers']);
  if (!spec || !template || !pod || containers.length === 0 || !isObj(containers[0])) {
    return [
      {
        reason: 'MissingContainer',
        path: 'spec.template.spec.containers',
        message: 'the Job has no container',
      },
    ];
  }
  const base = 'spec.template.spec';
  const out: Violation[] = [];
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (pod[field] === true) {
      out.push({
        reason: 'HostNamespace',
        path: `${base}.${field}`,
        message: 'host namespaces are not allowed',
      });
    }
  }
  out.push(...serviceAccountViolation(pod['serviceAccountName'], `${base}.serviceAccountName`, policy));
  out.push(...serviceAccountViolation(pod['serviceAccount'], `${base}.serviceAccount`, policy));
  out.push(...tokenViolation(pod['automountServiceAccountToken'], `${base}.automountServiceAccountToken`));
  if (typeof pod['nodeName'] === 'string' && pod['nodeName'] !== '') {
    out.push({
      reason: 'NodePinning',
      path: `${base}.nodeName`,
      message: `pinning the pod to node ${show(pod['nodeName'])} bypasses the scheduler; it is not allowed`,
    });
  }
  out.push(...tolerationViolations(pod['tolerations'], `${base}.tolerations`));
  out.push(...securityViolations(asObj(pod['securityContext']), base, policy, 'pod'));
  for (const [key, value] of Object.entries(asObj(asObj(template['metadata'])?.['annotations']) ?? {})) {
    if (key.startsWith('container.apparmor.security.beta.kubernetes.io/') && value === 'unconfined') {
      out.push({
        reason: 'Privileged',
        path: `spec.template.metadata.annotations.${key}`,
        message: 'an unconfined AppArmor profile is not allowed',
      });
    }
  }
  asArray(pod['volumes']).forEach((volume, i) => {
    out.push(...volumeViolations(asObj(volume) ?? {}, `${base}.volumes[${i}]`, policy));
  });
  asArray(pod['imagePullSecrets']).forEach((ref, i) => {
    out.push(...secretViolation(asObj(ref)?.['name'], `${base}.imagePullSecrets[${i}]`, policy));
  });
  const sized: { resources: unknown; path: string }[] = [];
  const initSized: { resources: unknown; path: string }[] = [];
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    asArray(pod[list]).forEach((item, i) => {
      const container = asObj(item) ?? {};
      const path = `${base}.${list}[${i}]`;
      (list === 'containers' ? sized : initSized).push({ resources: container['resources'], path });
      out.push(...containerViolations(container, path, policy));
      out.push(...hostPortViolations(container, path));
      asArray(container['env']).forEach((env, j) => {
        const ref = asObj(asObj(asObj(env)?.['valueFrom'])?.['secretKeyRef']);
        if (ref)
          out.push(...secretViolation(ref['name'], `${path}.env[${j}].valueFrom.secretKeyRef`, policy));
      });
      asArray(container['envFrom']).forEach((source, j) => {
        const ref = asObj(asObj(source)?.['secretRef']);
        if (ref) out.push(...secretViolation(ref['name'], `${path}.envFrom[${j}].secretRef`, policy));
      });
    });
  }
  // Pod-level resources (Kubernetes 1.32+) bound the pod as a whole.
  if (pod['resources'] !== undefined) initSized.push({ resources: pod['resources'], path: base });
  out.push(...resourceViolations(sized, initSized, `${base}.containers`, policy));
  if (out.length > 0) return out;

  // Forced fields.
  const first = containers[0] as Obj;
  forceImage(first, policy, `${base}.containers[0]`, changes);
  set(pod, 'restartPolicy', 'Never', `${base}.restartPolicy`, changes);
  if (policy.serviceAccountName)
    set(pod, 'serviceAccountName', policy.serviceAccountName, `${base}.serviceAccountName`, changes);
  if (pod['serviceAccount'] !== undefined) remove(pod, 'serviceAccount', `${base}.serviceAccount`, changes);
  if (policy.runAsNonRoot)
    set(child(pod, 'securityContext'), 'runAsNonRoot', true, `${base}.securityContext.runAsNonRoot`, changes);
  capBackoff(spec, policy, 'spec.backoffLimit', changes);
  set(spec, 'activeDeadlineSeconds', policy.activeDeadlineSeconds, 'spec.activeDeadlineSeconds', changes);
  // A hand-written selector could adopt pods that are not this run's; suspend would never start it;
  // a TTL could delete the Job before its diagnostics are read (the owner reference cleans it up).
  for (const field of ['selector', 'manualSelector', 'suspend', 'ttlSecondsAfterFinished'] as const) {
    if (spec[field] !== undefined) remove(spec, field, `spec.${field}`, changes);
  }
  mergeLabels(child(template, 'metadata'), policy.labels, 'spec.template.metadata.labels', changes);
  return [];
}

function miniclusterPolicy(cluster: Obj, policy: ManifestPolicy, changes: string[]): Violation[] {
  const spec = asObj(cluster['spec']);
  const containers = asArray(spec?.['containers']);
  if (!spec || containers.length === 0 || !isObj(containers[0])) {
    return [
      { reason: 'MissingContainer', path: 'spec.containers', message: 'the MiniCluster has no container' },
    ];
  }
  const out: Violation[] = [];
  if (containers.length > 1) {
    out.push({
      reason: 'Sidecars',
      path: 'spec.containers',
      message: `it has ${containers.length} containers; exactly one is allowed`,
    });
  }
  if (asArray(spec['services']).length > 0) {
    out.push({ reason: 'Sidecars', path: 'spec.services', message: 'service containers are not allowed' });
  }
  const pod = asObj(spec['pod']);
  for (const field of ['hostPID', 'hostIPC', 'hostNetwork'] as const) {
    if (pod?.[field] === true) {
      out.push({
        reason: 'HostNamespace',
        path: `spec.pod.${field}`,
        message: 'host namespaces are not allowed',
      });
    }
  }
  out.push(...serviceAccountViolation(pod?.['serviceAccountName'], 'spec.pod.serviceAccountName', policy));
  out.push(...tokenViolation(pod?.['automountServiceAccountToken'], 'spec.pod.automountServiceAccountToken'));
  out.push(...tolerationViolations(pod?.['tolerations'], 'spec.pod.tolerations'));
  out.push(...securityViolations(asObj(pod?.['securityContext']), 'spec.pod', policy, 'pod'));
  const flux = asObj(spec['flux']);
  const view = asObj(flux?.['container']);
  out.push(...secretViolation(flux?.['mungeSecret'], 'spec.flux.mungeSecret', policy));
  const sized: { resources: unknown; path: string }[] = [];
  const initSized: { resources: unknown; path: string }[] = [];
  if (view) {
    out.push(...containerViolations(view, 'spec.flux.container', policy));
    out.push(...secretViolation(view['imagePullSecret'], 'spec.flux.container.imagePullSecret', policy));
    // The flux view is copied in by an init container.
    initSized.push({ resources: view['resources'], path: 'spec.flux.container' });
  }
  // spec.pod.resources is one map of quantities for the pod, requests and limits alike.
  if (pod?.['resources'] !== undefined) {
    initSized.push({
      resources: { requests: pod['resources'], limits: pod['resources'] },
      path: 'spec.pod',
    });
  }
  containers.forEach((item, i) => {
    const container = asObj(item) ?? {};
    const path = `spec.containers[${i}]`;
    sized.push({ resources: container['resources'], path });
    out.push(...containerViolations(container, path, policy));
    out.push(...secretViolation(container['imagePullSecret'], `${path}.imagePullSecret`, policy));
    for (const [key, secret] of Object.entries(asObj(container['secrets']) ?? {})) {
      out.push(...secretViolation(asObj(secret)?.['name'], `${path}.secrets.${key}`, policy));
    }
    for (const [key, volume] of Object.entries(asObj(container['volumes']) ?? {})) {
      const v = asObj(volume) ?? {};
      const at = `${path}.volumes.${key}`;
      if (v['hostPath'] !== undefined)
        out.push({ reason: 'HostPath', path: `${at}.hostPath`, message: 'hostPath volumes are not allowed' });
      if (v['csiDriver'] !== undefined) {
        out.push({ reason: 'Volume', path: `${at}.csiDriver`, message: WHY_NOT['csi']! });
      }
      if (v['claimName'] !== undefined) {
        out.push({ reason: 'Volume', path: `${at}.claimName`, message: WHY_NOT['persistentVolumeClaim']! });
      }
      out.push(...secretViolation(v['secretName'], `${at}.secretName`, policy));
    }
  });
  out.push(...resourceViolations(sized, initSized, 'spec.containers', policy));
  if (out.length > 0) return out;

  // Forced fields.
  const first = containers[0] as Obj;
  forceImage(first, policy, 'spec.containers[0]', changes);
  if (policy.noPull) set(first, 'pullAlways', false, 'spec.containers[0].pullAlways', changes);
  set(first, 'launcher', false, 'spec.containers[0].launcher', changes);
  set(child(spec, 'logging'), 'strict', true, 'spec.logging.strict', changes);
  if (spec['interactive'] !== undefined) set(spec, 'interactive', false, 'spec.interactive', changes);
  // Cleanup would delete the pods, and their logs, before the run is diagnosed.
  if (spec['cleanup'] !== undefined) set(spec, 'cleanup', false, 'spec.cleanup', changes);
  set(spec, 'deadlineSeconds', policy.activeDeadlineSeconds, 'spec.deadlineSeconds', changes);
  capBackoff(spec, policy, 'spec.backoffLimit', changes);
  // runAsNonRoot goes on a MiniCluster's containers (src/kube/hardening.ts): the Flux Operator keeps
  // only fsGroup of spec.pod.securityContext.
  if (policy.serviceAccountName) {
    set(
      child(spec, 'pod'),
      'serviceAccountName',
      policy.serviceAccountName,
      'spec.pod.serviceAccountName',
      changes,
    );
  }
  const views = policy.fluxViews ?? FLUX_VIEWS;
  if (view && view['image'] !== undefined && !views.includes(view['image'] as string)) {
    // As the seed does: an unknown view is dropped, so the operator's default view runs instead.
    changes.push(
      `spec.flux.container.image: ${show(view['image'])} is not a known flux view; removed (known: ${views.join(', ')})`,
    );
    delete view['image'];
  }
  mergeLabels(child(spec, 'pod'), policy.labels, 'spec.pod.labels', changes);
  const jobLabels = child(spec, 'jobLabels');
  for (const [key, value] of Object.entries(policy.labels)) jobLabels[key] = value;
  return [];
}

function forceImage(container: Obj, policy: ManifestPolicy, path: string, changes: string[]) {
  set(container, 'image', policy.image, `${path}.image`, changes);
  if (policy.noPull) set(container, 'imagePullPolicy', 'Never', `${path}.imagePullPolicy`, changes);
}

function capBackoff(spec: Obj, policy: ManifestPolicy, path: string, changes: string[]) {
  const max = policy.maxBackoffLimit ?? MAX_BACKOFF_LIMIT;
  const value = spec['backoffLimit'];
  if (typeof value !== 'number' || value > max || value < 0) set(spec, 'backoffLimit', max, path, changes);
}

function set(target: Obj, key: string, value: unknown, path: string, changes: string[]) {
  const before = target[key];
  if (before === value) return;
  target[key] = value;
  changes.push(
    before === undefined ? `${path}: set to ${show(value)}` : `${path}: ${show(before)} -> ${show(value)}`,
  );
}

function remove(target: Obj, key: string, path: string, changes: string[]) {
  changes.push(`${path}: ${show(target[key])} removed`);
  delete target[key];
}

function mergeLabels(target: Obj, labels: Readonly<Record<string, string>>, path: string, changes: string[]) {
  const current = asObj(target['labels']) ?? {};
  for (const key of Object.keys(labels)) {
    if (current[key] !== undefined && current[key] !== labels[key]) changes.push(`${path}.${key}: replaced`);
  }
  target['labels'] = { ...current, ...labels };
}

function forceMetadata(object: Obj, policy: ManifestPolicy, changes: string[]) {
  const metadata = child(object, 'metadata');
  set(metadata, 'name', policy.name, 'metadata.name', changes);
  set(metadata, 'namespace', policy.namespace, 'metadata.namespace', changes);
  if (metadata['generateName'] !== undefined)
    remove(metadata, 'generateName', 'metadata.generateName', changes);
  mergeLabels(metadata, policy.labels, 'metadata.labels', changes);
  if (policy.ownerReference) metadata['ownerReferences'] = [{ ...policy.ownerReference }];
  else if (metadata['ownerReferences'] !== undefined)
    remove(metadata, 'ownerReferences', 'metadata.ownerReferences', changes);
  for (const field of [
    'uid',
    'resourceVersion',
    'creationTimestamp',
    'managedFields',
    'finalizers',
  ] as const) {
    if (metadata[field] !== undefined) remove(metadata, field, `metadata.${field}`, changes);
  }
  if (object['status'] !== undefined) remove(object, 'status', 'status', changes);
}

/**
 * The Job against the Kubernetes OpenAPI schema (kubernetes-models), plus a strict check for fields
 * Kubernetes does not know: the API server would drop them silently (a misspelt `command` runs the
 * image's default), so the model is told instead.
 */
function validateJob(object: Obj): Violation[] {
  const unknown: Violation[] = [];
  unknownFields(object, 'V1Job', '', unknown);
  if (unknown.length > 0) return unknown.slice(0, 8);
  try {
    new Job(structuredClone(object) as never).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: { instancePath?: string; message?: string }[] }).errors;
    if (!errors?.length)
      return [{ reason: 'SchemaInvalid', path: '(manifest)', message: (error as Error).message }];
    return errors.slice(0, 8).map((e) => ({
      reason: 'SchemaInvalid' as const,
      path:
        (e.instancePath ?? '')
          .replace(/^\//, '')
          .replace(/\/(\d+)(?=\/|$)/g, '[$1]')
          .replace(/\//g, '.') || '(root)',
      message: e.message ?? 'is invalid',
    }));
  }
}

// The fields of a MiniCluster that the operator and the Flux Operator rely on, typed as the CRD types
// them. The API server checks the rest against the installed CRD when the object is created.
const miniclusterShape = z.looseObject({
  spec: z.looseObject({
    size: z.int().min(1).optional(),
    tasks: z.int().min(1).optional(),
    containers: z.array(
      z.looseObject({
        image: z.string(),
        command: z.string().optional(),
        workingDir: z.string().optional(),
        environment: z.record(z.string(), z.string()).optional(),
        commands: z.record(z.string(), z.string()).optional(),
      }),
    ),
  }),
});

function validateMiniCluster(object: Obj, crdSchema: Record<string, unknown> | undefined): Violation[] {
  // The CRD leaves metadata to the API server, which drops what ObjectMeta does not know: say so.
  const metadata: Violation[] = [];
  unknownFields(object['metadata'], 'V1ObjectMeta', 'metadata', metadata, 'MiniCluster');
  if (metadata.length > 0) return metadata.slice(0, 8);
  const result = miniclusterShape.safeParse(object);
  if (!result.success) {
    return result.error.issues.slice(0, 8).map((issue) => ({
      reason: 'SchemaInvalid' as const,
      path:
        issue.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
          .join('')
          .replace(/^\./, '') || '(root)',
      message: issue.message,
    }));
  }
  if (!crdSchema) return [];
  const validate = crdValidator(crdSchema);
  if (validate(object)) return [];
  return (validate.errors ?? []).slice(0, 8).map((e) => {
    const path = pointerToPath(e.instancePath);
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    return extra
      ? {
          reason: 'SchemaInvalid' as const,
          path: path === '(root)' ? extra : `${path}.${extra}`,
          message: 'is not a field of the MiniCluster',
        }
      : { reason: 'SchemaInvalid' as const, path, message: e.message ?? 'is invalid' };
  });
}

const pointerToPath = (pointer: string) =>
  pointer
    .replace(/^\//, '')
    .replace(/\/(\d+)(?=\/|$)/g, '[$1]')
    .replace(/\//g, '.') || '(root)';

type Schema = Record<string, unknown>;

/** The CRD schema made strict: objects with listed properties refuse others, unless marked to keep them. */
function strictSchema(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties' && isObj(value)) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, isObj(v) ? strictSchema(v) : v]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && isObj(value)) {
      out[key] = strictSchema(value);
    } else if ((key === 'anyOf' || key === 'allOf' || key === 'oneOf') && Array.isArray(value)) {
      out[key] = value.map((v) => (isObj(v) ? strictSchema(v) : v));
    } else {
      out[key] = value;
    }
  }
  if (
    out['properties'] &&
    !schema['x-kubernetes-preserve-unknown-fields'] &&
    !('additionalProperties' in out)
  ) {
    out['additionalProperties'] = false;
  }
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const validators = new WeakMap<Schema, ValidateFunction>();

function crdValidator(schema: Schema): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    // metadata is the API server's to validate, and the policy has already set it.
    const properties = { ...(asObj(schema['properties']) ?? {}), metadata: { type: 'object' } };
    validate = ajv.compile(strictSchema({ ...schema, properties }));
    validators.set(schema, validate);
  }
  return validate;
}

interface Model {
  getAttributeTypeMap(): { baseName: string; type: string }[];
}

/** The client-node model class of a type name (V1Job, V1PodSpec, ...), whose attribute map lists its fields. */
function modelOf(type: string): Model | undefined {
  const candidate = (models as unknown as Record<string, unknown>)[type];
  return typeof candidate === 'function' && 'getAttributeTypeMap' in candidate
    ? (candidate as unknown as Model)
    : undefined;
}

function unknownFields(value: unknown, type: string, path: string, out: Violation[], kind = 'Job') {
  const list = /^Array<(.+)>$/.exec(type);
  if (list) {
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        unknownFields(item, list[1]!, `${path}[${i}]`, out, kind);
      });
    }
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isObj(value))
      for (const [key, item] of Object.entries(value))
        unknownFields(item, map[1]!, `${path}.${key}`, out, kind);
    return;
  }
  const model = modelOf(type);
  if (!model || !isObj(value)) return;
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, item] of Object.entries(value)) {
    const fieldPath = path ? `${path}.${key}` : key;
    const fieldType = fields.get(key);
    if (fieldType === undefined)
      out.push({ reason: 'SchemaInvalid', path: fieldPath, message: `is not a field of the ${kind}` });
    else unknownFields(item, fieldType, fieldPath, out, kind);
  }
}
