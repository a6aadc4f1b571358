import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { FLUX_VIEWS } from '../agents/minicluster/views.ts';
import { applyManifestPolicy, type ManifestPolicy, type PolicyReason } from './policy.ts';

// biome-ignore lint/suspicious/noExplicitAny: fixtures are parsed YAML, edited freely by each case
type Yaml = any;

const IMAGE = 'registry.fractale:5000/lammps:3f2a9c1b7d4e';
const LABELS = {
  'app.kubernetes.io/managed-by': 'fractale',
  'fractale.dev/plan': 'demo',
  'fractale.dev/step': 'demo-run',
  'fractale.dev/attempt': '2',
};
const OWNER = {
  apiVersion: 'fractale.dev/v1alpha1',
  kind: 'AgentStep',
  name: 'demo-run',
  uid: '11111111-2222-4333-8444-555555555555',
  controller: true,
  blockOwnerDeletion: true,
};

const jobPolicy: ManifestPolicy = {
  kind: 'Job',
  namespace: 'hpc',
  name: 'demo-run-2',
  image: IMAGE,
  labels: LABELS,
  ownerReference: OWNER,
  activeDeadlineSeconds: 1800,
};
const miniclusterPolicy: ManifestPolicy = { ...jobPolicy, kind: 'MiniCluster' };

const JOB = `apiVersion: batch/v1
kind: Job
metadata:
  name: lammps-job-7
  namespace: default
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: lammps
          image: ${IMAGE}
          workingDir: /opt/lammps/examples/reaxff/HNS
          command: ["lmp", "-in", "in.reaxff.hns"]
`;

const MINICLUSTER = `apiVersion: flux-framework.org/v1alpha2
kind: MiniCluster
metadata:
  name: lammps
spec:
  size: 2
  tasks: 8
  logging:
    strict: true
  containers:
    - image: ${IMAGE}
      workingDir: /opt/lammps/examples/reaxff/HNS
      command: lmp -in in.reaxff.hns
      launcher: false
`;

/** Applies `edit` to the parsed JOB (or MINICLUSTER) and returns it as YAML. */
const edited = (base: string, edit: (o: Yaml) => void) => {
  const object = parse(base);
  edit(object);
  return stringify(object);
};
const job = (edit: (o: Yaml) => void) => edited(JOB, edit);
const pod = (edit: (spec: Yaml) => void) => job((o) => edit(o.spec.template.spec));
const container = (edit: (c: Yaml) => void) => pod((spec) => edit(spec.containers[0]));
const cluster = (edit: (o: Yaml) => void) => edited(MINICLUSTER, edit);

const ok = (result: ReturnType<typeof applyManifestPolicy>) => {
  if (!result.ok) throw new Error(`refused: ${result.explanation}`);
  return result;
};

describe('applyManifestPolicy: refusals', () => {
  it.each<{ name: string; policy: ManifestPolicy; text: string; reason: PolicyReason; says: RegExp }>([
    {
      name: 'YAML that does not parse',
      policy: jobPolicy,
      text: 'kind: Job\n  spec: [unclosed',
      reason: 'InvalidYAML',
      says: /does not parse/,
    },
    {
      name: 'a list instead of a mapping',
      policy: jobPolicy,
      text: '- kind: Job',
      reason: 'InvalidYAML',
      says: /not a mapping/,
    },
    {
      name: 'two documents',
      policy: jobPolicy,
      text: `${JOB}---\n${JOB}`,
      reason: 'NotOneDocument',
      says: /2 YAML documents/,
    },
    {
      name: 'an empty answer',
      policy: jobPolicy,
      text: '',
      reason: 'NotOneDocument',
      says: /no YAML document/,
    },
    {
      name: 'a Pod instead of a Job',
      policy: jobPolicy,
      text: 'apiVersion: v1\nkind: Pod\nspec: {}',
      reason: 'WrongKind',
      says: /a "Pod" of apiVersion "v1", not a Job of apiVersion batch\/v1/,
    },
    {
      name: 'a Job of the wrong version',
      policy: jobPolicy,
      text: JOB.replace('batch/v1', 'batch/v1beta1'),
      reason: 'WrongKind',
      says: /batch\/v1beta1/,
    },
    {
      name: 'a Job where a MiniCluster is expected',
      policy: miniclusterPolicy,
      text: JOB,
      reason: 'WrongKind',
      says: /not a MiniCluster/,
    },
    {
      name: 'a Job without containers',
      policy: jobPolicy,
      text: pod((s) => {
        s.containers = [];
      }),
      reason: 'MissingContainer',
      says: /no container/,
    },
    {
      name: 'a privileged container',
      policy: jobPolicy,
      text: container((c) => {
        c.securityContext = { privileged: true };
      }),
      reason: 'Privileged',
      says: /containers\[0\]\.securityContext\.privileged/,
    },
    {
      name: 'privilege escalation',
      policy: jobPolicy,
      text: container((c) => {
        c.securityContext = { allowPrivilegeEscalation: true };
      }),
      reason: 'Privileged',
      says: /escalation/,
    },
    {
      name: 'a privileged init container',
      policy: jobPolicy,
      text: pod((s) => {
        s.initContainers = [{ name: 'i', image: 'busybox', securityContext: { privileged: true } }];
      }),
      reason: 'Privileged',
      says: /initContainers\[0\]/,
    },
    {
      name: 'added capabilities',
      policy: jobPolicy,
      text: container((c) => {
        c.securityContext = { capabilities: { add: ['SYS_ADMIN'] } };
      }),
      reason: 'AddedCapabilities',
      says: /SYS_ADMIN/,
    },
    {
      name: 'the host network',
      policy: jobPolicy,
      text: pod((s) => {
        s.hostNetwork = true;
      }),
      reason: 'HostNamespace',
      says: /hostNetwork/,
    },
    {
      name: 'the host PID namespace',
      policy: jobPolicy,
      text: pod((s) => {
        s.hostPID = true;
      }),
      reason: 'HostNamespace',
      says: /hostPID/,
    },
    {
      name: 'the host IPC namespace',
      policy: jobPolicy,
      text: pod((s) => {
        s.hostIPC = true;
      }),
      reason: 'HostNamespace',
      says: /hostIPC/,
    },
    {
      name: 'a hostPath volume',
      policy: jobPolicy,
      text: pod((s) => {
        s.volumes = [{ name: 'h', hostPath: { path: '/' } }];
      }),
      reason: 'HostPath',
      says: /volumes\[0\]\.hostPath/,
    },
    {
      name: 'another service account',
      policy: jobPolicy,
      text: pod((s) => {
        s.serviceAccountName = 'cluster-admin';
      }),
      reason: 'ServiceAccount',
      says: /"cluster-admin"/,
    },
    {
      name: 'the deprecated serviceAccount field',
      policy: { ...jobPolicy, serviceAccountName: 'runner' },
      text: pod((s) => {
        s.serviceAccount = 'default';
      }),
      reason: 'ServiceAccount',
      says: /serviceAccount: service account "default"/,
    },
    {
      name: 'a Secret volume',
      policy: jobPolicy,
      text: pod((s) => {
        s.volumes = [{ name: 's', secret: { secretName: 'db-password' } }];
      }),
      reason: 'Secret',
      says: /"db-password" was not listed/,
    },
    {
      name: 'a projected Secret',
      policy: jobPolicy,
      text: pod((s) => {
        s.volumes = [{ name: 'p', projected: { sources: [{ secret: { name: 'tls' } }] } }];
      }),
      reason: 'Secret',
      says: /projected\.sources\[0\]\.secret/,
    },
    {
      name: 'a Secret in env',
      policy: jobPolicy,
      text: container((c) => {
        c.env = [{ name: 'K', valueFrom: { secretKeyRef: { name: 'api', key: 'k' } } }];
      }),
      reason: 'Secret',
      says: /env\[0\]\.valueFrom\.secretKeyRef/,
    },
    {
      name: 'a Secret in envFrom',
      policy: jobPolicy,
      text: container((c) => {
        c.envFrom = [{ secretRef: { name: 'all' } }];
      }),
      reason: 'Secret',
      says: /envFrom\[0\]\.secretRef/,
    },
    {
      name: 'an image pull Secret',
      policy: jobPolicy,
      text: pod((s) => {
        s.imagePullSecrets = [{ name: 'ghcr' }];
      }),
      reason: 'Secret',
      says: /imagePullSecrets\[0\]/,
    },
    {
      name: 'a field of the wrong type',
      policy: jobPolicy,
      text: pod((s) => {
        s.containers[0].command = 'lmp -in in.reaxff.hns';
      }),
      reason: 'SchemaInvalid',
      says: /spec\.template\.spec\.containers\[0\]\.command: must be array/,
    },
    {
      name: 'a container without a name',
      policy: jobPolicy,
      text: container((c) => {
        delete c.name;
      }),
      reason: 'SchemaInvalid',
      says: /required property name/,
    },
    {
      name: 'a huge manifest',
      policy: jobPolicy,
      text: `${JOB}# ${'x'.repeat(300 * 1024)}\n`,
      reason: 'TooLarge',
      says: /larger than 256 KiB/,
    },
    {
      name: 'a MiniCluster without containers',
      policy: miniclusterPolicy,
      text: cluster((o) => {
        o.spec.containers = [];
      }),
      reason: 'MissingContainer',
      says: /no container/,
    },
    {
      name: 'a MiniCluster with a sidecar',
      policy: miniclusterPolicy,
      text: cluster((o) => {
        o.spec.containers.push({ image: 'redis' });
      }),
      reason: 'Sidecars',
      says: /2 containers/,
    },
    {
      name: 'a MiniCluster with services',
      policy: miniclusterPolicy,
      text: cluster((o) => {
        o.spec.services = [{ image: 'nginx' }];
      }),
      reason: 'Sidecars',
      says: /service containers/,
    },
    {
      name: 'a privileged MiniCluster container',
      policy: miniclusterPolicy,
      text: cluster((o) => {
        o.spec.containers[0].securityContext = { privileged: true };
      }),
      reason: 'Privileged',
      says: /spec\.containers\[0\]\.securityContext\.privileged/,
    },
    {
      name: 'a privileged flux view',
      policy: miniclusterPolicy,
      text: cluster((o) => {
        o.spec.flux = { container: { securityContext: { capabilities: { add: ['NET_ADMIN'] } } } };
      }),
      reason: 'AddedCapabilities',
      says: /spec\.flux\.container/,
    },
    {
      name: 'a MiniCluster on the host PID namespace',
      policy: miniclusterPolicy,
      text: cluster((o) => {
        o.spec.pod = { hostPID: true };
      }),
      reason: 'HostNamespace',
      says: /spec\.pod\.hostPID/,
    },
    {
      name: 'a MiniCluster hostPath volume',
      policy: miniclusterPolicy,
      text: cluster((o) => {
        o.spec.containers[0].volumes = { data: { hostPath: '/data', path: '/data' } };
      }),
      reason: 'HostPath',
      says: /volumes\.data\.hostPath/,
    },
    {
      name: 'a MiniCluster Secret volume',
      policy: miniclusterPolicy,
      text: cluster((o) => {
        o.spec.containers[0].volumes = { s: { secretName: 'creds', path: '/s' } };
      }),
      reason: 'Secret',
      says: /"creds"/,
    },
    {
      name: 'MiniCluster env from a Secret',
      policy: miniclusterPolicy,
      text: cluster((o) => {
        o.spec.containers[0].secrets = { TOKEN: { name: 'tok', key: 'k' } };
      }),
      reason: 'Secret',
      says: /secrets\.TOKEN/,
    },
    {
      name: 'a munge Secret',
      policy: miniclusterPolicy,
      text: cluster((o) => {
        o.spec.flux = { mungeSecret: 'munge' };
      }),
      reason: 'Secret',
      says: /mungeSecret/,
    },
    {
      name: 'a MiniCluster service account',
      policy: miniclusterPolicy,
      text: cluster((o) => {
        o.spec.pod = { serviceAccountName: 'admin' };
      }),
      reason: 'ServiceAccount',
      says: /"admin"/,
    },
    {
      name: 'a list command in a MiniCluster',
      policy: miniclusterPolicy,
      text: cluster((o) => {
        o.spec.containers[0].command = ['lmp'];
      }),
      reason: 'SchemaInvalid',
      says: /spec\.containers\[0\]\.command: .*expected string/,
    },
    {
      name: 'zero MiniCluster nodes',
      policy: miniclusterPolicy,
      text: cluster((o) => {
        o.spec.size = 0;
      }),
      reason: 'SchemaInvalid',
      says: /spec\.size/,
    },
  ])('refuses $name', ({ policy, text, reason, says }) => {
    const result = applyManifestPolicy(text, policy);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toBe(reason);
    expect(result.explanation).toMatch(says);
    expect(result.explanation).toMatch(/^The (Job|MiniCluster) was not created because /);
    expect(result.explanation).not.toContain('\n');
  });

  it('refuses a YAML alias bomb instead of expanding it', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      );
    const result = applyManifestPolicy(`${bomb.join('\n')}\nkind: Job\n`, jobPolicy);
    expect(result).toMatchObject({ ok: false, reason: 'InvalidYAML' });
  });

  it.each([
    {
      name: 'a misspelt command',
      edit: (c: Yaml) => {
        c.cmd = ['lmp'];
      },
      says: /spec\.template\.spec\.containers\[0\]\.cmd: is not a field of the Job/,
    },
    {
      name: 'a field under resources',
      edit: (c: Yaml) => {
        c.resources = { limit: { cpu: '2' } };
      },
      says: /containers\[0\]\.resources\.limit: is not a field/,
    },
    {
      name: 'a field in an env entry',
      edit: (c: Yaml) => {
        c.env = [{ name: 'A', val: '1' }];
      },
      says: /env\[0\]\.val: is not a field/,
    },
  ])('refuses fields Kubernetes would drop: $name', ({ edit, says }) => {
    const result = applyManifestPolicy(container(edit), jobPolicy);
    expect(result).toMatchObject({ ok: false, reason: 'SchemaInvalid' });
    if (!result.ok) expect(result.explanation).toMatch(says);
  });

  it('reports every violation at once', () => {
    const text = pod((s) => {
      s.hostNetwork = true;
      s.volumes = [{ name: 'h', hostPath: { path: '/' } }];
      s.containers[0].securityContext = { privileged: true };
    });
    const result = applyManifestPolicy(text, jobPolicy);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.violations.map((v) => v.reason)).toEqual(['HostNamespace', 'HostPath', 'Privileged']);
  });

  it.each([
    {
      name: 'a listed Secret volume',
      text: pod((s) => {
        s.volumes = [{ name: 's', secret: { secretName: 'input-data' } }];
      }),
    },
    {
      name: 'a listed Secret in env',
      text: container((c) => {
        c.env = [{ name: 'K', valueFrom: { secretKeyRef: { name: 'input-data', key: 'k' } } }];
      }),
    },
    {
      name: 'the configured service account',
      text: pod((s) => {
        s.serviceAccountName = 'runner';
      }),
    },
    {
      name: 'an unprivileged security context',
      text: container((c) => {
        c.securityContext = {
          privileged: false,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        };
      }),
    },
  ])('accepts $name', ({ text }) => {
    ok(
      applyManifestPolicy(text, {
        ...jobPolicy,
        allowedSecrets: ['input-data'],
        serviceAccountName: 'runner',
      }),
    );
  });
});

describe('applyManifestPolicy: forced fields of a Job', () => {
  it.each<{
    name: string;
    text: string;
    policy?: Partial<ManifestPolicy>;
    path: (o: Yaml) => unknown;
    want: unknown;
  }>([
    { name: 'namespace', text: JOB, path: (o) => o.metadata.namespace, want: 'hpc' },
    { name: 'name', text: JOB, path: (o) => o.metadata.name, want: 'demo-run-2' },
    {
      name: 'no generateName',
      text: job((o) => {
        o.metadata.generateName = 'x-';
      }),
      path: (o) => o.metadata.generateName,
      want: undefined,
    },
    {
      name: 'image of the first container',
      text: container((c) => {
        c.image = 'lammps:latest';
      }),
      path: (o) => o.spec.template.spec.containers[0].image,
      want: IMAGE,
    },
    {
      name: 'restartPolicy',
      text: pod((s) => {
        s.restartPolicy = 'OnFailure';
      }),
      path: (o) => o.spec.template.spec.restartPolicy,
      want: 'Never',
    },
    {
      name: 'a missing backoffLimit',
      text: job((o) => {
        delete o.spec.backoffLimit;
      }),
      path: (o) => o.spec.backoffLimit,
      want: 1,
    },
    {
      name: 'a large backoffLimit',
      text: job((o) => {
        o.spec.backoffLimit = 6;
      }),
      path: (o) => o.spec.backoffLimit,
      want: 1,
    },
    {
      name: 'a backoffLimit already within bounds',
      text: job((o) => {
        o.spec.backoffLimit = 0;
      }),
      path: (o) => o.spec.backoffLimit,
      want: 0,
    },
    {
      name: 'a configured backoff cap',
      text: job((o) => {
        o.spec.backoffLimit = 6;
      }),
      policy: { maxBackoffLimit: 0 },
      path: (o) => o.spec.backoffLimit,
      want: 0,
    },
    {
      name: 'activeDeadlineSeconds',
      text: job((o) => {
        o.spec.activeDeadlineSeconds = 999999;
      }),
      path: (o) => o.spec.activeDeadlineSeconds,
      want: 1800,
    },
    {
      name: 'imagePullPolicy with noPull',
      text: JOB,
      policy: { noPull: true },
      path: (o) => o.spec.template.spec.containers[0].imagePullPolicy,
      want: 'Never',
    },
    {
      name: 'no imagePullPolicy without noPull',
      text: JOB,
      path: (o) => o.spec.template.spec.containers[0].imagePullPolicy,
      want: undefined,
    },
    {
      name: 'the configured service account',
      text: JOB,
      policy: { serviceAccountName: 'runner' },
      path: (o) => o.spec.template.spec.serviceAccountName,
      want: 'runner',
    },
    {
      name: 'no selector',
      text: job((o) => {
        o.spec.manualSelector = true;
        o.spec.selector = { matchLabels: { a: 'b' } };
      }),
      path: (o) => [o.spec.selector, o.spec.manualSelector],
      want: [undefined, undefined],
    },
    {
      name: 'no TTL',
      text: job((o) => {
        o.spec.ttlSecondsAfterFinished = 0;
      }),
      path: (o) => o.spec.ttlSecondsAfterFinished,
      want: undefined,
    },
    {
      name: 'not suspended',
      text: job((o) => {
        o.spec.suspend = true;
      }),
      path: (o) => o.spec.suspend,
      want: undefined,
    },
    {
      name: 'owner reference',
      text: job((o) => {
        o.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Pod', name: 'x', uid: 'y' }];
      }),
      path: (o) => o.metadata.ownerReferences,
      want: [OWNER],
    },
    {
      name: 'labels, keeping the model’s own',
      text: job((o) => {
        o.metadata.labels = { app: 'lammps', 'fractale.dev/step': 'other' };
      }),
      path: (o) => o.metadata.labels,
      want: { app: 'lammps', ...LABELS },
    },
    { name: 'pod labels', text: JOB, path: (o) => o.spec.template.metadata.labels, want: LABELS },
    {
      name: 'no status',
      text: job((o) => {
        o.status = { succeeded: 1 };
      }),
      path: (o) => o.status,
      want: undefined,
    },
  ])('forces $name', ({ text, policy, path, want }) => {
    const result = ok(applyManifestPolicy(text, { ...jobPolicy, ...policy }));
    expect(path(result.object)).toEqual(want);
  });

  it('records what it changed', () => {
    const result = ok(
      applyManifestPolicy(
        container((c) => {
          c.image = 'lammps:latest';
        }),
        jobPolicy,
      ),
    );
    expect(result.changes).toEqual([
      `spec.template.spec.containers[0].image: "lammps:latest" -> "${IMAGE}"`,
      'spec.activeDeadlineSeconds: set to 1800',
      'metadata.name: "lammps-job-7" -> "demo-run-2"',
      'metadata.namespace: "default" -> "hpc"',
    ]);
  });

  it('changes nothing twice: its own output passes unchanged', () => {
    const first = ok(applyManifestPolicy(JOB, { ...jobPolicy, noPull: true }));
    const second = ok(applyManifestPolicy(stringify(first.object), { ...jobPolicy, noPull: true }));
    expect(second.changes).toEqual([]);
    expect(second.object).toEqual(first.object);
  });

  it('drops the owner reference a model wrote when the step gives none', () => {
    const text = job((o) => {
      o.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Pod', name: 'x', uid: 'y' }];
    });
    const result = ok(applyManifestPolicy(text, { ...jobPolicy, ownerReference: undefined }));
    expect((result.object as Yaml).metadata.ownerReferences).toBeUndefined();
  });
});

describe('applyManifestPolicy: forced fields of a MiniCluster', () => {
  it.each<{
    name: string;
    text: string;
    policy?: Partial<ManifestPolicy>;
    path: (o: Yaml) => unknown;
    want: unknown;
  }>([
    {
      name: 'the built image',
      text: cluster((o) => {
        o.spec.containers[0].image = 'ghcr.io/x/y';
      }),
      path: (o) => o.spec.containers[0].image,
      want: IMAGE,
    },
    {
      name: 'launcher false',
      text: cluster((o) => {
        o.spec.containers[0].launcher = true;
      }),
      path: (o) => o.spec.containers[0].launcher,
      want: false,
    },
    {
      name: 'strict logging',
      text: cluster((o) => {
        delete o.spec.logging;
      }),
      path: (o) => o.spec.logging.strict,
      want: true,
    },
    {
      name: 'no cleanup',
      text: cluster((o) => {
        o.spec.cleanup = true;
      }),
      path: (o) => o.spec.cleanup,
      want: false,
    },
    {
      name: 'not interactive',
      text: cluster((o) => {
        o.spec.interactive = true;
      }),
      path: (o) => o.spec.interactive,
      want: false,
    },
    { name: 'the deadline', text: MINICLUSTER, path: (o) => o.spec.deadlineSeconds, want: 1800 },
    {
      name: 'the backoff cap',
      text: cluster((o) => {
        o.spec.backoffLimit = 100;
      }),
      path: (o) => o.spec.backoffLimit,
      want: 1,
    },
    {
      name: 'no pulling',
      text: cluster((o) => {
        o.spec.containers[0].pullAlways = true;
      }),
      policy: { noPull: true },
      path: (o) => [o.spec.containers[0].imagePullPolicy, o.spec.containers[0].pullAlways],
      want: ['Never', false],
    },
    {
      name: 'the namespace and name',
      text: MINICLUSTER,
      path: (o) => [o.metadata.namespace, o.metadata.name],
      want: ['hpc', 'demo-run-2'],
    },
    {
      name: 'labels on the Job and pods',
      text: MINICLUSTER,
      path: (o) => [o.spec.jobLabels, o.spec.pod.labels],
      want: [LABELS, LABELS],
    },
    {
      name: 'a known flux view kept',
      text: cluster((o) => {
        o.spec.flux = { container: { image: FLUX_VIEWS[4] } };
      }),
      path: (o) => o.spec.flux.container.image,
      want: FLUX_VIEWS[4],
    },
    {
      name: 'an unknown flux view removed',
      text: cluster((o) => {
        o.spec.flux = { container: { image: 'ghcr.io/evil/view:1' } };
      }),
      path: (o) => o.spec.flux.container.image,
      want: undefined,
    },
  ])('forces $name', ({ text, policy, path, want }) => {
    const result = ok(applyManifestPolicy(text, { ...miniclusterPolicy, ...policy }));
    expect(path(result.object)).toEqual(want);
  });

  it('tells which flux views are known when it drops one', () => {
    const text = cluster((o) => {
      o.spec.flux = { container: { image: 'ghcr.io/evil/view:1' } };
    });
    const result = ok(applyManifestPolicy(text, miniclusterPolicy));
    expect(result.changes.find((c) => c.startsWith('spec.flux.container.image'))).toContain(FLUX_VIEWS[0]);
  });
});

describe('applyManifestPolicy: a MiniCluster against the installed CRD', () => {
  const crd = parse(
    readFileSync(new URL('../../test/fixtures/crds/minicluster.yaml', import.meta.url), 'utf8'),
  );
  const withSchema: ManifestPolicy = {
    ...miniclusterPolicy,
    miniclusterSchema: crd.spec.versions[0].schema.openAPIV3Schema,
  };

  it('accepts a MiniCluster the CRD allows, with the fields the policy sets', () => {
    const result = ok(
      applyManifestPolicy(
        cluster((o) => {
          o.spec.flux = { container: { image: FLUX_VIEWS[5] } };
        }),
        withSchema,
      ),
    );
    expect((result.object as Yaml).spec.logging.strict).toBe(true);
  });

  it.each([
    {
      name: 'an unknown field',
      edit: (o: Yaml) => {
        o.spec.containers[0].entrypoint = 'lmp';
      },
      says: /spec\.containers\[0\]\.entrypoint: is not a field of the MiniCluster/,
    },
    {
      name: 'an unknown top-level spec field',
      edit: (o: Yaml) => {
        o.spec.replicas = 2;
      },
      says: /spec\.replicas: is not a field/,
    },
    {
      name: 'a wrong type the CRD knows',
      edit: (o: Yaml) => {
        o.spec.logging.quiet = 'yes';
      },
      says: /spec\.logging\.quiet: must be boolean/,
    },
    {
      name: 'an environment value that is not a string',
      edit: (o: Yaml) => {
        o.spec.containers[0].environment = { OMP_NUM_THREADS: 4 };
      },
      says: /environment/,
    },
  ])('refuses $name', ({ edit, says }) => {
    const result = applyManifestPolicy(cluster(edit), withSchema);
    expect(result).toMatchObject({ ok: false, reason: 'SchemaInvalid' });
    if (!result.ok) expect(result.explanation).toMatch(says);
  });
});
