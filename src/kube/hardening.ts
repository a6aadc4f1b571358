// Run pods get the settings of the Pod Security Standard `restricted` that a working image does not
// notice: no privilege escalation (setuid binaries such as sudo stop working), no Linux capabilities
// (what a root process may do beyond file ownership: raw sockets, chown of others' files, ports
// below 1024), and the container runtime's default seccomp profile. With them, a generated Job meets
// restricted but for runAsNonRoot, which does break images that run as root (most HPC images, and
// every image the build step makes from ubuntu): that one is the policy's, behind the operator's
// --run-as-non-root. Applied after the policy (src/kube/policy.ts), which has already refused
// anything that asks for more (privileged, added capabilities, escalation, Unconfined profiles).
//
// Jobs get the seccomp profile on the pod and the rest on every container (init containers too).
// MiniClusters get everything on every container, the flux view's included: the Flux Operator passes
// each container's securityContext to its pods, but of spec.pod.securityContext only fsGroup
// (controllers/flux/job.go), so a pod-level runAsNonRoot or seccomp profile would be dropped.
import type { ManifestKind } from './policy.ts';

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const child = (parent: Obj, key: string): Obj => {
  if (!isObj(parent[key])) parent[key] = {};
  return parent[key] as Obj;
};
const list = (value: unknown): Obj[] => (Array.isArray(value) ? value.filter(isObj) : []);

export const RUNTIME_DEFAULT_SECCOMP = { type: 'RuntimeDefault' } as const;

export interface HardeningOptions {
  /** The policy's --run-as-non-root: MiniCluster containers get runAsNonRoot themselves. */
  runAsNonRoot?: boolean;
}

/** The container-level settings; records each field it sets, as the policy records its changes. */
function hardenContainer(container: Obj, path: string, changes: string[], extra: Obj = {}) {
  const security = child(container, 'securityContext');
  const set = (field: string, value: unknown) => {
    if (security[field] !== undefined) return;
    security[field] = value;
    changes.push(`${path}.securityContext.${field}: set to ${JSON.stringify(value)}`);
  };
  set('allowPrivilegeEscalation', false);
  const capabilities = child(security, 'capabilities');
  const drop = Array.isArray(capabilities['drop']) ? (capabilities['drop'] as unknown[]) : [];
  if (!drop.includes('ALL')) {
    capabilities['drop'] = [...drop, 'ALL'];
    changes.push(`${path}.securityContext.capabilities.drop: ALL added`);
  }
  for (const [field, value] of Object.entries(extra)) set(field, value);
}

/**
 * Sets the restricted settings that keep images working on a manifest the policy accepted (in
 * place). Returns what it set, for the step's record of forced fields.
 */
export function hardenRunManifest(
  kind: ManifestKind,
  object: Record<string, unknown>,
  options: HardeningOptions = {},
): string[] {
  const changes: string[] = [];
  const spec = isObj(object['spec']) ? object['spec'] : undefined;
  if (!spec) return changes;
  if (kind === 'Job') {
    const pod =
      isObj(spec['template']) && isObj(spec['template']['spec']) ? spec['template']['spec'] : undefined;
    if (!pod) return changes;
    const base = 'spec.template.spec';
    for (const field of ['initContainers', 'containers'] as const) {
      list(pod[field]).forEach((container, i) => {
        hardenContainer(container, `${base}.${field}[${i}]`, changes);
      });
    }
    const security = child(pod, 'securityContext');
    if (security['seccompProfile'] === undefined) {
      security['seccompProfile'] = { ...RUNTIME_DEFAULT_SECCOMP };
      changes.push(`${base}.securityContext.seccompProfile: set to {"type":"RuntimeDefault"}`);
    }
    return changes;
  }
  const extra: Obj = {
    seccompProfile: { ...RUNTIME_DEFAULT_SECCOMP },
    ...(options.runAsNonRoot ? { runAsNonRoot: true } : {}),
  };
  list(spec['containers']).forEach((container, i) => {
    hardenContainer(container, `spec.containers[${i}]`, changes, extra);
  });
  hardenContainer(child(child(spec, 'flux'), 'container'), 'spec.flux.container', changes, extra);
  return changes;
}
