// Hostile generated manifests, counted: every way a model's Job or MiniCluster could reach the node,
// the host, another namespace, credentials or more than its share of the cluster is refused before
// anything is sent to the API server, and the refusal (the attempt's error, which the next prompt
// carries) names the field and says how to write it instead. test/policy/feedback.test.ts shows the
// refusal reaching the model end to end.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readManifestAnswer } from '../../src/agents/manifest.ts';
import { miniclusterDriver } from '../../src/agents/minicluster/driver.ts';
import {
  DEFAULT_MAX_CPU_REQUEST,
  DEFAULT_MAX_MEMORY_REQUEST,
  type ManifestPolicy,
  type PolicyReason,
} from '../../src/kube/policy.ts';

// biome-ignore lint/suspicious/noExplicitAny: fixtures are parsed YAML, edited freely by each case
type Yaml = any;

const IMAGE = 'registry.fractale:5000/lammps:3f2a9c1b7d4e';
const crd = parse(readFileSync(new URL('../fixtures/crds/minicluster.yaml', import.meta.url), 'utf8'));

const jobPolicy: ManifestPolicy = {
  kind: 'Job',
  namespace: 'hpc',
  name: 'demo-run-2',
  image: IMAGE,
  labels: { 'app.kubernetes.io/managed-by': 'fractale', 'fractale.dev/step': 'demo-run' },
  activeDeadlineSeconds: 1800,
  serviceAccountName: 'runner',
  allowedSecrets: ['input-data'],
  maxRequests: { cpu: DEFAULT_MAX_CPU_REQUEST, memory: DEFAULT_MAX_MEMORY_REQUEST },
};
const nonRoot: ManifestPolicy = { ...jobPolicy, runAsNonRoot: true };
const mcPolicy: ManifestPolicy = {
  ...jobPolicy,
  kind: 'MiniCluster',
  miniclusterSchema: crd.spec.versions[0].schema.openAPIV3Schema,
};

const JOB = `apiVersion: batch/v1
kind: Job
metadata:
  name: lammps
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: lammps
          image: ${IMAGE}
          command: ["lmp", "-in", "in.reaxff.hns"]
`;
const MINICLUSTER = `apiVersion: flux-framework.org/v1alpha2
kind: MiniCluster
metadata:
  name: lammps
spec:
  size: 2
  containers:
    - image: ${IMAGE}
      command: lmp -in in.reaxff.hns
`;

const edited = (base: string, edit: (o: Yaml) => void) => {
  const object = parse(base);
  edit(object);
  return stringify(object);
};
const pod = (edit: (spec: Yaml) => void) => edited(JOB, (o) => edit(o.spec.template.spec));
const main = (edit: (c: Yaml) => void) => pod((s) => edit(s.containers[0]));
const init = (extra: Record<string, unknown>) =>
  pod((s) => {
    s.initContainers = [{ name: 'setup', image: 'busybox:1.36', command: ['true'], ...extra }];
  });
const volume = (source: Record<string, unknown>) =>
  pod((s) => {
    s.volumes = [{ name: 'v', ...source }];
    s.containers[0].volumeMounts = [{ name: 'v', mountPath: '/data' }];
  });
const cluster = (edit: (o: Yaml) => void) => edited(MINICLUSTER, edit);
const other = (apiVersion: string, kind: string, rest = '') =>
  `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: x\n${rest}`;

/** The one sentence of the explanation that says how to fix each reason. */
const FIX: Record<PolicyReason, RegExp> = {
  InvalidYAML: /Answer with one ```yaml block of plain YAML/,
  NotOneDocument: /Write exactly one (Job|MiniCluster) in one YAML document/,
  WrongKind: /Write a (Job|MiniCluster) of apiVersion \S+; the operator creates nothing else/,
  TooLarge: /Answer with exactly one short ```yaml block|Write the (Job|MiniCluster) by hand/,
  MissingContainer: /container that runs the step's image/,
  Sidecars: /exactly one container/,
  Privileged: /Remove these securityContext fields/,
  HostNamespace: /Remove hostNetwork, hostPID, hostIPC and hostProcess/,
  HostPath: /Use an emptyDir volume for scratch space/,
  Volume: /Use only emptyDir, configMap, downwardAPI and projected volumes/,
  AddedCapabilities: /Remove capabilities\.add/,
  ServiceAccount: /Leave serviceAccountName out: the operator sets "runner"/,
  ServiceAccountToken: /runs get no Kubernetes API credentials/,
  Secret: /Use only the Secrets the user listed \(input-data\)/,
  HostPort: /Remove hostPort and hostIP/,
  NodePinning: /let the scheduler place the pod/,
  ResourceCap: /Request at most 64 CPU and 256Gi memory for the whole pod/,
  RunAsRoot: /generated pods run as a non-root user here/,
  Namespace:
    /Leave metadata\.namespace out: the operator creates the (Job|MiniCluster) in the step's namespace "hpc"/,
  SchemaInvalid: /matches the Kubernetes schema/,
};

interface Case {
  name: string;
  text: string;
  reason: PolicyReason;
  /** The field the refusal names (or, for the whole manifest, what it says). */
  field: string;
  policy?: ManifestPolicy;
}

const ps = 'spec.template.spec';
const c0 = `${ps}.containers[0]`;
const i0 = `${ps}.initContainers[0]`;

const HOSTILE: Case[] = [
  // Host paths, directly or through another volume type.
  {
    name: 'a hostPath volume',
    text: volume({ hostPath: { path: '/' } }),
    reason: 'HostPath',
    field: `${ps}.volumes[0].hostPath`,
  },
  {
    name: 'a hostPath volume only an init container mounts',
    text: pod((s) => {
      s.volumes = [{ name: 'root', hostPath: { path: '/etc' } }];
      s.initContainers = [
        { name: 'i', image: 'busybox', volumeMounts: [{ name: 'root', mountPath: '/host' }] },
      ];
    }),
    reason: 'HostPath',
    field: `${ps}.volumes[0].hostPath`,
  },
  {
    name: 'an ephemeral volume (a claim a hostpath provisioner could serve)',
    text: volume({
      ephemeral: {
        volumeClaimTemplate: {
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: 'hostpath',
            resources: { requests: { storage: '1Gi' } },
          },
        },
      },
    }),
    reason: 'Volume',
    field: `${ps}.volumes[0].ephemeral`,
  },
  {
    name: 'an inline CSI volume',
    text: volume({ csi: { driver: 'hostpath.csi.k8s.io', volumeAttributes: { path: '/' } } }),
    reason: 'Volume',
    field: `${ps}.volumes[0].csi`,
  },
  {
    name: 'a PersistentVolumeClaim',
    text: volume({ persistentVolumeClaim: { claimName: 'other-team-data' } }),
    reason: 'Volume',
    field: `${ps}.volumes[0].persistentVolumeClaim`,
  },
  {
    name: 'a gitRepo volume (git runs on the node)',
    text: volume({ gitRepo: { repository: 'https://example.com/x.git' } }),
    reason: 'Volume',
    field: `${ps}.volumes[0].gitRepo`,
  },
  {
    name: 'a flexVolume (a driver binary on the node)',
    text: volume({ flexVolume: { driver: 'example/host' } }),
    reason: 'Volume',
    field: `${ps}.volumes[0].flexVolume`,
  },
  {
    name: 'an NFS volume',
    text: volume({ nfs: { server: '10.0.0.1', path: '/' } }),
    reason: 'Volume',
    field: `${ps}.volumes[0].nfs`,
  },
  {
    name: 'an image volume',
    text: volume({ image: { reference: 'ghcr.io/evil/tools:1' } }),
    reason: 'Volume',
    field: `${ps}.volumes[0].image`,
  },
  {
    name: 'a MiniCluster hostPath volume',
    policy: mcPolicy,
    text: cluster((o) => {
      o.spec.containers[0].volumes = { data: { hostPath: '/var/run', path: '/data' } };
    }),
    reason: 'HostPath',
    field: 'spec.containers[0].volumes.data.hostPath',
  },
  {
    name: 'a MiniCluster CSI volume',
    policy: mcPolicy,
    text: cluster((o) => {
      o.spec.containers[0].volumes = { data: { csiDriver: 'hostpath.csi.k8s.io', path: '/data' } };
    }),
    reason: 'Volume',
    field: 'spec.containers[0].volumes.data.csiDriver',
  },
  {
    name: 'a MiniCluster claim',
    policy: mcPolicy,
    text: cluster((o) => {
      o.spec.containers[0].volumes = { data: { claimName: 'other-team-data', path: '/data' } };
    }),
    reason: 'Volume',
    field: 'spec.containers[0].volumes.data.claimName',
  },
  // Privileged and its cousins.
  {
    name: 'a privileged container',
    text: main((c) => {
      c.securityContext = { privileged: true };
    }),
    reason: 'Privileged',
    field: `${c0}.securityContext.privileged`,
  },
  {
    name: 'a privileged init container',
    text: init({ securityContext: { privileged: true } }),
    reason: 'Privileged',
    field: `${i0}.securityContext.privileged`,
  },
  {
    name: 'a privileged ephemeral container',
    text: pod((s) => {
      s.ephemeralContainers = [{ name: 'debug', image: 'busybox', securityContext: { privileged: true } }];
    }),
    reason: 'Privileged',
    field: `${ps}.ephemeralContainers[0].securityContext.privileged`,
  },
  {
    name: 'privilege escalation',
    text: main((c) => {
      c.securityContext = { allowPrivilegeEscalation: true };
    }),
    reason: 'Privileged',
    field: `${c0}.securityContext.allowPrivilegeEscalation`,
  },
  {
    name: 'an unmasked /proc',
    text: main((c) => {
      c.securityContext = { procMount: 'Unmasked' };
    }),
    reason: 'Privileged',
    field: `${c0}.securityContext.procMount`,
  },
  {
    name: 'an Unconfined seccomp profile on the pod',
    text: pod((s) => {
      s.securityContext = { seccompProfile: { type: 'Unconfined' } };
    }),
    reason: 'Privileged',
    field: `${ps}.securityContext.seccompProfile.type`,
  },
  {
    name: 'an Unconfined AppArmor profile',
    text: main((c) => {
      c.securityContext = { appArmorProfile: { type: 'Unconfined' } };
    }),
    reason: 'Privileged',
    field: `${c0}.securityContext.appArmorProfile.type`,
  },
  {
    name: 'an unconfined AppArmor annotation',
    text: edited(JOB, (o) => {
      o.spec.template.metadata = {
        annotations: { 'container.apparmor.security.beta.kubernetes.io/lammps': 'unconfined' },
      };
    }),
    reason: 'Privileged',
    field: 'spec.template.metadata.annotations.container.apparmor.security.beta.kubernetes.io/lammps',
  },
  {
    name: 'the spc_t SELinux type (super-privileged)',
    text: main((c) => {
      c.securityContext = { seLinuxOptions: { type: 'spc_t' } };
    }),
    reason: 'Privileged',
    field: `${c0}.securityContext.seLinuxOptions.type`,
  },
  {
    name: 'an unsafe sysctl',
    text: pod((s) => {
      s.securityContext = { sysctls: [{ name: 'kernel.core_pattern', value: '|/tmp/x' }] };
    }),
    reason: 'Privileged',
    field: `${ps}.securityContext.sysctls[0]`,
  },
  {
    name: 'a privileged MiniCluster container',
    policy: mcPolicy,
    text: cluster((o) => {
      o.spec.containers[0].securityContext = { privileged: true };
    }),
    reason: 'Privileged',
    field: 'spec.containers[0].securityContext.privileged',
  },
  {
    name: 'a privileged flux view',
    policy: mcPolicy,
    text: cluster((o) => {
      o.spec.flux = { container: { securityContext: { privileged: true } } };
    }),
    reason: 'Privileged',
    field: 'spec.flux.container.securityContext.privileged',
  },
  // Capabilities.
  {
    name: 'added SYS_ADMIN',
    text: main((c) => {
      c.securityContext = { capabilities: { add: ['SYS_ADMIN'] } };
    }),
    reason: 'AddedCapabilities',
    field: `${c0}.securityContext.capabilities.add`,
  },
  {
    name: 'an init container adding NET_RAW',
    text: init({ securityContext: { capabilities: { add: ['NET_RAW'] } } }),
    reason: 'AddedCapabilities',
    field: `${i0}.securityContext.capabilities.add`,
  },
  {
    name: 'added capabilities on a MiniCluster',
    policy: mcPolicy,
    text: cluster((o) => {
      o.spec.containers[0].securityContext = { capabilities: { add: ['SYS_PTRACE'] } };
    }),
    reason: 'AddedCapabilities',
    field: 'spec.containers[0].securityContext.capabilities.add',
  },
  // Host namespaces.
  {
    name: 'the host network',
    text: pod((s) => {
      s.hostNetwork = true;
    }),
    reason: 'HostNamespace',
    field: `${ps}.hostNetwork`,
  },
  {
    name: 'the host PID namespace',
    text: pod((s) => {
      s.hostPID = true;
    }),
    reason: 'HostNamespace',
    field: `${ps}.hostPID`,
  },
  {
    name: 'the host IPC namespace',
    text: pod((s) => {
      s.hostIPC = true;
    }),
    reason: 'HostNamespace',
    field: `${ps}.hostIPC`,
  },
  {
    name: 'a Windows host process',
    text: main((c) => {
      c.securityContext = { windowsOptions: { hostProcess: true } };
    }),
    reason: 'HostNamespace',
    field: `${c0}.securityContext.windowsOptions.hostProcess`,
  },
  {
    name: 'a MiniCluster on the host IPC namespace',
    policy: mcPolicy,
    text: cluster((o) => {
      o.spec.pod = { hostIPC: true };
    }),
    reason: 'HostNamespace',
    field: 'spec.pod.hostIPC',
  },
  // Host ports.
  {
    name: 'a hostPort',
    text: main((c) => {
      c.ports = [{ containerPort: 22, hostPort: 22 }];
    }),
    reason: 'HostPort',
    field: `${c0}.ports[0].hostPort`,
  },
  {
    name: 'a hostPort on an init container',
    text: init({ ports: [{ containerPort: 8080, hostPort: 8080 }] }),
    reason: 'HostPort',
    field: `${i0}.ports[0].hostPort`,
  },
  {
    name: 'a hostIP',
    text: main((c) => {
      c.ports = [{ containerPort: 80, hostIP: '0.0.0.0' }];
    }),
    reason: 'HostPort',
    field: `${c0}.ports[0].hostIP`,
  },
  // Root, where the operator runs generated pods as non-root (--run-as-non-root).
  {
    name: 'runAsUser 0 on the pod',
    policy: nonRoot,
    text: pod((s) => {
      s.securityContext = { runAsUser: 0 };
    }),
    reason: 'RunAsRoot',
    field: `${ps}.securityContext.runAsUser`,
  },
  {
    name: 'runAsUser 0 on an init container',
    policy: nonRoot,
    text: init({ securityContext: { runAsUser: 0 } }),
    reason: 'RunAsRoot',
    field: `${i0}.securityContext.runAsUser`,
  },
  {
    name: 'runAsNonRoot: false',
    policy: nonRoot,
    text: main((c) => {
      c.securityContext = { runAsNonRoot: false };
    }),
    reason: 'RunAsRoot',
    field: `${c0}.securityContext.runAsNonRoot`,
  },
  {
    name: 'a MiniCluster pod as root',
    policy: { ...mcPolicy, runAsNonRoot: true },
    text: cluster((o) => {
      o.spec.pod = { securityContext: { runAsUser: 0 } };
    }),
    reason: 'RunAsRoot',
    field: 'spec.pod.securityContext.runAsUser',
  },
  // Another namespace.
  {
    name: 'the kube-system namespace',
    text: edited(JOB, (o) => {
      o.metadata.namespace = 'kube-system';
    }),
    reason: 'Namespace',
    field: 'metadata.namespace',
  },
  {
    name: "another team's namespace for a MiniCluster",
    policy: mcPolicy,
    text: cluster((o) => {
      o.metadata.namespace = 'team-b';
    }),
    reason: 'Namespace',
    field: 'metadata.namespace',
  },
  // Another kind.
  {
    name: 'a Pod',
    text: other('v1', 'Pod', 'spec:\n  containers: [{name: a, image: b}]\n'),
    reason: 'WrongKind',
    field: 'kind',
  },
  { name: 'a DaemonSet', text: other('apps/v1', 'DaemonSet'), reason: 'WrongKind', field: 'kind' },
  { name: 'a Deployment', text: other('apps/v1', 'Deployment'), reason: 'WrongKind', field: 'kind' },
  { name: 'a CronJob', text: other('batch/v1', 'CronJob'), reason: 'WrongKind', field: 'kind' },
  {
    name: 'a RoleBinding',
    text: other(
      'rbac.authorization.k8s.io/v1',
      'RoleBinding',
      'roleRef: {kind: ClusterRole, name: cluster-admin}\n',
    ),
    reason: 'WrongKind',
    field: 'kind',
  },
  {
    name: 'a ClusterRole',
    text: other(
      'rbac.authorization.k8s.io/v1',
      'ClusterRole',
      'rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]\n',
    ),
    reason: 'WrongKind',
    field: 'kind',
  },
  {
    name: 'a Secret',
    text: other('v1', 'Secret', 'stringData: {token: x}\n'),
    reason: 'WrongKind',
    field: 'kind',
  },
  { name: 'a ServiceAccount', text: other('v1', 'ServiceAccount'), reason: 'WrongKind', field: 'kind' },
  {
    name: 'a Job where a MiniCluster is expected',
    policy: mcPolicy,
    text: JOB,
    reason: 'WrongKind',
    field: 'kind',
  },
  // Service accounts and their tokens.
  {
    name: 'another service account',
    text: pod((s) => {
      s.serviceAccountName = 'cluster-admin';
    }),
    reason: 'ServiceAccount',
    field: `${ps}.serviceAccountName`,
  },
  {
    name: 'an automounted service account token',
    text: pod((s) => {
      s.automountServiceAccountToken = true;
    }),
    reason: 'ServiceAccountToken',
    field: `${ps}.automountServiceAccountToken`,
  },
  {
    name: 'a projected service account token',
    text: volume({
      projected: {
        sources: [{ serviceAccountToken: { path: 'token', audience: 'https://kubernetes.default.svc' } }],
      },
    }),
    reason: 'ServiceAccountToken',
    field: `${ps}.volumes[0].projected.sources[0].serviceAccountToken`,
  },
  {
    name: 'a MiniCluster with an automounted token',
    policy: mcPolicy,
    text: cluster((o) => {
      o.spec.pod = { automountServiceAccountToken: true };
    }),
    reason: 'ServiceAccountToken',
    field: 'spec.pod.automountServiceAccountToken',
  },
  {
    name: 'a MiniCluster service account',
    policy: mcPolicy,
    text: cluster((o) => {
      o.spec.pod = { serviceAccountName: 'admin' };
    }),
    reason: 'ServiceAccount',
    field: 'spec.pod.serviceAccountName',
  },
  // Secrets the user did not list.
  {
    name: 'envFrom a Secret not listed',
    text: main((c) => {
      c.envFrom = [{ secretRef: { name: 'db-admin' } }];
    }),
    reason: 'Secret',
    field: `${c0}.envFrom[0].secretRef`,
  },
  {
    name: 'valueFrom a Secret not listed, in an init container',
    text: init({ env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 'cloud-key', key: 'k' } } }] }),
    reason: 'Secret',
    field: `${i0}.env[0].valueFrom.secretKeyRef`,
  },
  {
    name: 'a Secret volume not listed',
    text: volume({ secret: { secretName: 'kubeconfig' } }),
    reason: 'Secret',
    field: `${ps}.volumes[0].secret`,
  },
  {
    name: 'a projected Secret not listed',
    text: volume({ projected: { sources: [{ secret: { name: 'tls' } }] } }),
    reason: 'Secret',
    field: `${ps}.volumes[0].projected.sources[0].secret`,
  },
  {
    name: 'MiniCluster env from a Secret not listed',
    policy: mcPolicy,
    text: cluster((o) => {
      o.spec.containers[0].secrets = { TOKEN: { name: 'tok', key: 'k' } };
    }),
    reason: 'Secret',
    field: 'spec.containers[0].secrets.TOKEN',
  },
  // Resources beyond the cap (64 CPUs, 256Gi a pod).
  {
    name: 'a huge CPU request',
    text: main((c) => {
      c.resources = { requests: { cpu: '100000' } };
    }),
    reason: 'ResourceCap',
    field: `${c0}.resources.requests.cpu`,
  },
  {
    name: 'a huge memory limit',
    text: main((c) => {
      c.resources = { limits: { memory: '10Ti' } };
    }),
    reason: 'ResourceCap',
    field: `${c0}.resources.limits.memory`,
  },
  {
    name: 'containers under the cap each, over it together',
    text: pod((s) => {
      s.containers[0].resources = { requests: { cpu: '40' } };
      s.containers.push({ name: 'helper', image: 'busybox', resources: { requests: { cpu: '40' } } });
    }),
    reason: 'ResourceCap',
    field: `${ps}.containers`,
  },
  {
    name: 'an init container over the cap',
    text: init({ resources: { requests: { memory: '300Gi' } } }),
    reason: 'ResourceCap',
    field: `${i0}.resources.requests.memory`,
  },
  {
    name: 'pod-level resources over the cap',
    text: pod((s) => {
      s.resources = { limits: { cpu: '128' } };
    }),
    reason: 'ResourceCap',
    field: `${ps}.resources.limits.cpu`,
  },
  {
    name: 'a MiniCluster container over the cap',
    policy: mcPolicy,
    text: cluster((o) => {
      o.spec.containers[0].resources = { limits: { cpu: 500 } };
    }),
    reason: 'ResourceCap',
    field: 'spec.containers[0].resources.limits.cpu',
  },
  // Node placement.
  {
    name: 'nodeName pinning',
    text: pod((s) => {
      s.nodeName = 'control-plane-0';
    }),
    reason: 'NodePinning',
    field: `${ps}.nodeName`,
  },
  {
    name: 'a toleration of every taint',
    text: pod((s) => {
      s.tolerations = [{ operator: 'Exists' }];
    }),
    reason: 'NodePinning',
    field: `${ps}.tolerations[0]`,
  },
  {
    name: 'a control-plane toleration',
    text: pod((s) => {
      s.tolerations = [
        { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
      ];
    }),
    reason: 'NodePinning',
    field: `${ps}.tolerations[0]`,
  },
  {
    name: 'a MiniCluster tolerating every taint',
    policy: mcPolicy,
    text: cluster((o) => {
      o.spec.pod = { tolerations: [{ operator: 'Exists' }] };
    }),
    reason: 'NodePinning',
    field: 'spec.pod.tolerations[0]',
  },
  // The shape of the answer.
  {
    name: 'a List holding a Job and a RoleBinding',
    text: `apiVersion: v1\nkind: List\nitems:\n${JOB.replace(/^/gm, '  ').replace(/^ {2}apiVersion/, '- apiVersion')}\n- apiVersion: rbac.authorization.k8s.io/v1\n  kind: RoleBinding\n  metadata: {name: x}\n`,
    reason: 'NotOneDocument',
    field: 'it is a List of 2 objects (Job, RoleBinding), not one Job',
  },
  {
    name: 'a Job and a ClusterRoleBinding in two documents',
    text: `${JOB}---\n${other('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding')}`,
    reason: 'NotOneDocument',
    field: 'it holds 2 YAML documents, not one',
  },
  {
    name: 'a YAML alias bomb (billion laughs)',
    text: billionLaughs(),
    reason: 'InvalidYAML',
    field: 'the YAML does not parse: Excessive alias count',
  },
  {
    name: 'YAML nested 50,000 deep',
    text: `${JOB}      x: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`,
    reason: 'InvalidYAML',
    field: 'the YAML does not parse: it is nested too deeply',
  },
  // Found by test/fuzz: the YAML parser's time grows with the square of these, on the operator's thread.
  {
    name: '100 KB of unclosed flow brackets (40 s in the parser before)',
    text: `${JOB}      volumes: [ { name: scratch${'['.repeat(100_000)}\n`,
    reason: 'InvalidYAML',
    field: 'the YAML does not parse: it is nested too deeply (',
  },
  {
    name: '8,000 keys in one flow map (1.3 s in the parser before)',
    text: `${JOB}  x: {${Array.from({ length: 8_000 }, (_, i) => `k${i}: ${i}`).join(', ')}}\n`,
    reason: 'TooLarge',
    field: 'more than the 3000 a manifest may have',
  },
  {
    name: '6,000 list items',
    text: `${JOB}      args:\n${'        - x\n'.repeat(6_000)}`,
    reason: 'TooLarge',
    field: 'more than the 3000 a manifest may have',
  },
  {
    name: 'a 5 MB answer',
    text: `${JOB}${'# padding\n'.repeat(500_000)}`,
    reason: 'TooLarge',
    field: 'larger than the 256 KiB an answer may be',
  },
];

function billionLaughs(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++) {
    const name = String.fromCharCode(97 + i);
    const prev = String.fromCharCode(96 + i);
    lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
  }
  // Under spec, beside template: ten levels of nine aliases would expand to 9^10 strings.
  return `${JOB}${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

const answer = (text: string) => `Here is the manifest:\n\n\`\`\`yaml\n${text}\n\`\`\`\n`;

describe('hostile generated manifests', () => {
  it('counts at least 30 cases', () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(30);
    expect(new Set(HOSTILE.map((c) => c.name)).size).toBe(HOSTILE.length);
  });

  it.each(HOSTILE)('refuses $name ($reason at $field)', ({ text, reason, field, policy }) => {
    const result = readManifestAnswer(answer(text), policy ?? jobPolicy);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toBe(reason);
    // The explanation is the attempt's error, which the next prompt carries: one line that names the
    // field, then the fix.
    expect(result.explanation).toMatch(/^(The (Job|MiniCluster) was not created because |The answer is )/);
    expect(result.explanation).toContain(field);
    expect(result.explanation).toMatch(FIX[reason]);
    expect(result.explanation).not.toContain('\n');
    expect(result.explanation.length).toBeLessThan(2000);
  });

  it('reports every hostile field of one manifest at once, with one fix per reason', () => {
    const text = pod((s) => {
      s.hostNetwork = true;
      s.nodeName = 'n1';
      s.volumes = [
        { name: 'h', hostPath: { path: '/' } },
        { name: 'c', csi: { driver: 'x' } },
      ];
      s.containers[0].ports = [{ containerPort: 1, hostPort: 1 }];
      s.containers[0].resources = { requests: { cpu: '999' } };
    });
    const result = readManifestAnswer(answer(text), jobPolicy);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.violations.map((v) => v.reason)).toEqual([
      'HostNamespace',
      'NodePinning',
      'HostPath',
      'Volume',
      'HostPort',
      'ResourceCap',
    ]);
    for (const reason of [
      'HostNamespace',
      'NodePinning',
      'HostPath',
      'Volume',
      'HostPort',
      'ResourceCap',
    ] as const)
      expect(result.explanation).toMatch(FIX[reason]);
  });
});

describe('what the policy rewrites or allows instead of refusing, by design', () => {
  const accepted = (text: string, policy: ManifestPolicy = jobPolicy) => {
    const result = readManifestAnswer(answer(text), policy);
    if (!result.ok) throw new Error(result.explanation);
    return result.object as Yaml;
  };

  // Models write `namespace: default` when they do not know the namespace (they are told not to set
  // one). Refusing it would cost an attempt for nothing: the object is created in the step's
  // namespace whatever the manifest says. Any other namespace is refused (above).
  it('rewrites namespace "default" to the step\'s namespace, and records the change', () => {
    const text = edited(JOB, (o) => {
      o.metadata.namespace = 'default';
    });
    const result = readManifestAnswer(answer(text), jobPolicy);
    expect(result.ok && result.object['metadata']).toMatchObject({ namespace: 'hpc', name: 'demo-run-2' });
    expect(result.ok && result.changes).toContain('metadata.namespace: "default" -> "hpc"');
  });

  // Built images run as root (the build agent's rules keep root), and Pod Security's baseline allows
  // it; a cluster that wants non-root says so with --run-as-non-root, and then root is refused.
  it('allows runAsUser 0 unless the operator runs pods as non-root', () => {
    expect(
      accepted(pod((s) => (s.securityContext = { runAsUser: 0 }))).spec.template.spec.securityContext,
    ).toEqual({
      runAsUser: 0,
    });
  });

  // (A MiniCluster's containers get it from src/kube/hardening.ts, after the policy.)
  it("sets runAsNonRoot on a Job's pod when the operator runs pods as non-root", () => {
    expect(accepted(JOB, nonRoot).spec.template.spec.securityContext).toEqual({ runAsNonRoot: true });
  });

  it.each([
    {
      name: 'scratch, ConfigMap and downward API volumes',
      text: pod((s) => {
        s.volumes = [
          { name: 'scratch', emptyDir: { medium: 'Memory' } },
          { name: 'input', configMap: { name: 'lammps-input' } },
          {
            name: 'meta',
            downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
          },
          {
            name: 'both',
            projected: { sources: [{ configMap: { name: 'x' } }, { secret: { name: 'input-data' } }] },
          },
          { name: 'listed', secret: { secretName: 'input-data' } },
        ];
      }),
    },
    {
      name: 'a GPU toleration',
      text: pod(
        (s) => (s.tolerations = [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]),
      ),
    },
    {
      name: 'requests at the cap',
      text: main(
        (c) => (c.resources = { requests: { cpu: '64', memory: '256Gi' }, limits: { memory: '256Gi' } }),
      ),
    },
    {
      name: 'dropped capabilities, RuntimeDefault seccomp and a safe sysctl',
      text: pod((s) => {
        s.securityContext = {
          seccompProfile: { type: 'RuntimeDefault' },
          sysctls: [{ name: 'net.ipv4.ping_group_range', value: '0 1' }],
        };
        s.containers[0].securityContext = {
          capabilities: { drop: ['ALL'] },
          allowPrivilegeEscalation: false,
        };
      }),
    },
    {
      // Brackets in scalars are text: only flow collections count towards the nesting limit.
      name: 'brackets and quotes inside strings',
      text: main((c) => {
        c.workingDir = `/data/${'['.repeat(100)}`;
        c.command = ['sh', '-c', `echo "${'{'.repeat(100)}" don't`];
      }),
    },
    { name: 'a containerPort without hostPort', text: main((c) => (c.ports = [{ containerPort: 8080 }])) },
    {
      name: 'automountServiceAccountToken: false',
      text: pod((s) => (s.automountServiceAccountToken = false)),
    },
  ])('allows $name', ({ text }) => {
    accepted(text);
  });

  // The seed's behaviour: an unknown flux view is dropped and the operator's default view runs.
  it('drops an unknown flux view image instead of refusing the MiniCluster', () => {
    const object = accepted(
      cluster((o) => {
        o.spec.flux = { container: { image: 'ghcr.io/evil/view:1' } };
      }),
      mcPolicy,
    );
    expect(object.spec.flux.container.image).toBeUndefined();
  });
});

describe('MiniClusters are held to the installed CRD', () => {
  // Found by test/fuzz: the operator never passed the installed CRD's schema to the policy, so a
  // MiniCluster field the Flux Operator does not know was accepted and then dropped by the API server.
  it('through the minicluster agent, as the operator reads the CRD from the cluster', () => {
    const input = {
      namespace: 'hpc',
      stepName: 'demo-run',
      agent: 'minicluster' as const,
      context: { container: IMAGE },
      attempt: 1,
      avoid: [],
      settings: {
        insecureRegistry: false,
        kanikoImage: 'k',
        runServiceAccount: 'default',
        defaultMaxRuntime: 600,
        logBudgetTokens: 4000,
      },
      cluster: { miniClusterCrdSchema: crd.spec.versions[0].schema.openAPIV3Schema },
      objectName: 'demo-run-1',
      labels: {},
      ownerReference: {
        apiVersion: 'fractale.dev/v1alpha1',
        kind: 'AgentStep',
        name: 'demo-run',
        uid: 'u',
        controller: true,
        blockOwnerDeletion: true,
      },
      maxRuntimeSeconds: 600,
    };
    const misspelt = cluster((o) => {
      o.spec.containers[0].workdir = '/opt';
    });
    const refused = miniclusterDriver.accept(answer(misspelt), input);
    expect(refused).toMatchObject({ ok: false, reason: 'PolicyRefused' });
    if (!refused.ok)
      expect(refused.error).toContain('spec.containers[0].workdir: is not a field of the MiniCluster');
    expect(miniclusterDriver.accept(answer(MINICLUSTER), input).ok).toBe(true);
  });

  it('and their metadata to ObjectMeta', () => {
    const result = readManifestAnswer(
      answer(
        cluster((o) => {
          o.metadata.hostPath = { path: '/' };
        }),
      ),
      mcPolicy,
    );
    expect(result).toMatchObject({ ok: false, reason: 'SchemaInvalid' });
    if (!result.ok)
      expect(result.explanation).toContain('metadata.hostPath: is not a field of the MiniCluster');
  });
});
