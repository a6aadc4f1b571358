// The Pod Security checks one by one, with the real plugin's messages (test/agreement/pod-security
// checks a set of them against a real kube-apiserver).
import { describe, expect, it } from 'vitest';
import { admit, forbiddenDetail, type LevelVersion, namespacePolicy, podViolations } from './pod-security.ts';

const RESTRICTED: LevelVersion = { level: 'restricted', version: 'latest' };
const BASELINE: LevelVersion = { level: 'baseline', version: 'latest' };
/** A container that passes restricted; each case spoils one thing. */
const tight = (name = 'main', extra: Record<string, unknown> = {}) => ({
  name,
  image: 'app',
  securityContext: {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
    ...extra,
  },
});
const detail = (lv: LevelVersion, spec: Record<string, unknown>, annotations?: Record<string, string>) =>
  forbiddenDetail(podViolations(lv, annotations ? { annotations } : {}, spec));

describe('baseline checks', () => {
  it.each([
    {
      name: 'privileged, two containers',
      spec: {
        initContainers: [{ name: 'init', securityContext: { privileged: true } }],
        containers: [{ name: 'a', securityContext: { privileged: true } }],
      },
      want: 'privileged (containers "init", "a" must not set securityContext.privileged=true)',
    },
    {
      name: 'host IPC',
      spec: { hostIPC: true, containers: [{ name: 'a' }] },
      want: 'host namespaces (hostIPC=true)',
    },
    {
      name: 'two hostPath volumes',
      spec: {
        containers: [{ name: 'a' }],
        volumes: [
          { name: 'x', hostPath: {} },
          { name: 'y', hostPath: {} },
        ],
      },
      want: 'hostPath volumes (volumes "x", "y")',
    },
    {
      name: 'host ports in two containers',
      spec: {
        containers: [
          { name: 'a', ports: [{ hostPort: 9090 }, { hostPort: 8080 }] },
          { name: 'b', ports: [{ containerPort: 80 }, { hostPort: 8080 }] },
        ],
      },
      want: 'hostPort (containers "a", "b" use hostPorts 8080, 9090)',
    },
    {
      name: 'procMount Unmasked',
      spec: { containers: [{ name: 'a', securityContext: { procMount: 'Unmasked' } }] },
      want: 'procMount (container "a" must not set securityContext.procMount to "Unmasked")',
    },
    {
      name: 'an ephemeral container counts',
      spec: {
        containers: [{ name: 'a' }],
        ephemeralContainers: [{ name: 'debug', securityContext: { privileged: true } }],
      },
      want: 'privileged (container "debug" must not set securityContext.privileged=true)',
    },
    {
      name: 'SELinux user and role, pod and container',
      spec: {
        securityContext: { seLinuxOptions: { user: 'system_u' } },
        containers: [
          { name: 'a', securityContext: { seLinuxOptions: { role: 'r', type: 'container_engine_t' } } },
        ],
      },
      want: 'seLinuxOptions (pod and container "a" set forbidden securityContext.seLinuxOptions: user may not be set; role may not be set)',
    },
    {
      name: 'Windows host process',
      spec: {
        securityContext: { windowsOptions: { hostProcess: true } },
        containers: [{ name: 'a', securityContext: { windowsOptions: { hostProcess: true } } }],
      },
      want: 'hostProcess (pod and container "a" must not set securityContext.windowsOptions.hostProcess=true)',
    },
    {
      name: 'allowed sysctls pass, others are listed in order',
      spec: {
        securityContext: {
          sysctls: [{ name: 'net.ipv4.tcp_rmem' }, { name: 'vm.swappiness' }, { name: 'kernel.sem' }],
        },
        containers: [{ name: 'a' }],
      },
      want: 'forbidden sysctls (vm.swappiness, kernel.sem)',
    },
    {
      name: 'lifecycle hosts',
      spec: {
        containers: [
          {
            name: 'a',
            lifecycle: {
              preStop: { tcpSocket: { host: 'b.example', port: 1 } },
              postStart: { httpGet: { host: 'a.example' } },
            },
          },
        ],
      },
      want: 'probe or lifecycle host (container "a" uses probe or lifecycle hosts "a.example", "b.example")',
    },
  ])('$name', ({ spec, want }) => {
    expect(detail(BASELINE, spec)).toBe(want);
  });

  it('refuses AppArmor annotations that are not runtime/default or localhost/*', () => {
    expect(
      detail(
        BASELINE,
        { containers: [{ name: 'a' }] },
        {
          'container.apparmor.security.beta.kubernetes.io/a': 'unconfined',
          'container.apparmor.security.beta.kubernetes.io/b': 'localhost/mine',
        },
      ),
    ).toBe(
      // joinQuote quotes without escaping, as the Go code does.
      'forbidden AppArmor profile (annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/a="unconfined"")',
    );
  });

  it('admits what the default runtime grants: root, the default capabilities, Localhost seccomp', () => {
    expect(
      podViolations(
        BASELINE,
        {},
        {
          securityContext: {
            runAsUser: 0,
            seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' },
          },
          containers: [
            {
              name: 'a',
              securityContext: { capabilities: { add: ['CHOWN', 'SETUID', 'NET_BIND_SERVICE'] } },
            },
          ],
          volumes: [{ name: 'n', nfs: { server: 's', path: '/' } }],
        },
      ),
    ).toEqual([]);
  });
});

describe('restricted checks', () => {
  it('admits a container that sets all four, or a pod that sets two of them for all', () => {
    expect(podViolations(RESTRICTED, {}, { containers: [tight()] })).toEqual([]);
    expect(
      podViolations(
        RESTRICTED,
        {},
        {
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'a',
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      ),
    ).toEqual([]);
  });

  it.each([
    {
      name: 'explicit runAsNonRoot=false wins over the pod',
      spec: { securityContext: { runAsNonRoot: true }, containers: [tight('a', { runAsNonRoot: false })] },
      want: 'runAsNonRoot != true (container "a" must not set securityContext.runAsNonRoot=false)',
    },
    {
      name: 'runAsUser 0 at both levels',
      spec: { securityContext: { runAsUser: 0 }, containers: [tight('a', { runAsUser: 0 })] },
      want: 'runAsUser=0 (pod and container "a" must not set runAsUser=0)',
    },
    {
      name: 'an added capability other than NET_BIND_SERVICE',
      spec: {
        containers: [
          tight('a', { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE', 'SYS_PTRACE'] } }),
        ],
      },
      want: 'unrestricted capabilities (container "a" must not include "SYS_PTRACE" in securityContext.capabilities.add)',
    },
    {
      name: 'a drop list without ALL',
      spec: { containers: [tight('a', { capabilities: { drop: ['NET_RAW'] } })] },
      want: 'unrestricted capabilities (container "a" must set securityContext.capabilities.drop=["ALL"])',
    },
    {
      name: 'Unconfined seccomp on the pod',
      spec: { securityContext: { seccompProfile: { type: 'Unconfined' } }, containers: [tight()] },
      want: 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")',
    },
    {
      name: 'volume types',
      spec: {
        containers: [tight()],
        volumes: [
          { name: 'ok', emptyDir: {} },
          { name: 'git', gitRepo: { repository: 'x' } },
          { name: 'share', nfs: { server: 's', path: '/' } },
          { name: 'host', hostPath: { path: '/' } },
          { name: 'defaulted' },
        ],
      },
      want: 'restricted volume types (volumes "git", "share", "host" use restricted volume types "gitRepo", "hostPath", "nfs")',
    },
  ])('$name', ({ spec, want }) => {
    expect(detail(RESTRICTED, spec)).toBe(want);
  });

  it('exempts Windows pods from the Linux-only fields', () => {
    expect(
      podViolations(
        RESTRICTED,
        {},
        { os: { name: 'windows' }, securityContext: { runAsNonRoot: true }, containers: [{ name: 'w' }] },
      ),
    ).toEqual([]);
  });

  it('evaluates the version asked for: before 1.22, restricted checks added capabilities as baseline does', () => {
    const spec = {
      containers: [
        {
          ...tight('a'),
          securityContext: { ...tight('a').securityContext, capabilities: { add: ['SYS_ADMIN'] } },
        },
      ],
    };
    expect(detail({ level: 'restricted', version: 21 }, spec)).toBe(
      'non-default capabilities (container "a" must not include "SYS_ADMIN" in securityContext.capabilities.add)',
    );
    expect(detail({ level: 'restricted', version: 22 }, spec)).toMatch(/^unrestricted capabilities/);
    // A version newer than the server's is evaluated as its latest.
    expect(detail({ level: 'restricted', version: 99 }, spec)).toBe(detail(RESTRICTED, spec));
  });
});

describe('namespace labels', () => {
  it.each([
    { labels: {}, enforce: 'privileged:latest', warn: 'privileged:latest', errors: 0 },
    {
      labels: { 'pod-security.kubernetes.io/enforce': 'baseline' },
      enforce: 'baseline:latest',
      warn: 'baseline:latest',
      errors: 0,
    },
    {
      labels: {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'v1.30',
      },
      enforce: 'restricted:30',
      warn: 'restricted:30',
      errors: 0,
    },
    {
      labels: {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/warn': 'baseline',
      },
      enforce: 'restricted:latest',
      warn: 'baseline:latest',
      errors: 0,
    },
    // A bad enforce level fails closed; a bad warn level fails open; a bad version is latest.
    {
      labels: { 'pod-security.kubernetes.io/enforce': 'strict' },
      enforce: 'restricted:latest',
      warn: 'privileged:latest',
      errors: 1,
    },
    {
      labels: { 'pod-security.kubernetes.io/warn': 'loud' },
      enforce: 'privileged:latest',
      warn: 'privileged:latest',
      errors: 1,
    },
    {
      labels: {
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/enforce-version': '1.30',
      },
      enforce: 'baseline:latest',
      warn: 'baseline:latest',
      errors: 1,
    },
  ])('$labels', ({ labels, enforce, warn, errors }) => {
    const result = namespacePolicy(labels as Record<string, string>);
    const show = (lv: LevelVersion) => `${lv.level}:${lv.version}`;
    expect([show(result.policy.enforce), show(result.policy.warn), result.errors.length]).toEqual([
      enforce,
      warn,
      errors,
    ]);
  });
});

describe('admission', () => {
  const labels = { 'pod-security.kubernetes.io/enforce': 'restricted' };
  const job = (containers: unknown[]) => ({ spec: { template: { spec: { containers } } } });

  it('refuses a Pod, warns for a Job, and lets everything else through', () => {
    const refused = admit('Pod', { metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }] } }, labels);
    expect(refused.allowed).toBe(false);
    expect(!refused.allowed && refused.message).toMatch(
      /^violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/,
    );
    const warned = admit('Job', job([{ name: 'a' }]), labels);
    expect(warned).toEqual({
      allowed: true,
      warnings: [expect.stringMatching(/^would violate PodSecurity "restricted:latest": /)],
    });
    expect(admit('Job', job([tight()]), labels)).toEqual({ allowed: true, warnings: [] });
    expect(admit('ConfigMap', { data: {} }, labels)).toEqual({ allowed: true, warnings: [] });
    expect(admit('Pod', { spec: { containers: [{ name: 'a' }] } }, {})).toEqual({
      allowed: true,
      warnings: [],
    });
  });

  it('finds the template of a CronJob', () => {
    const cron = {
      spec: {
        jobTemplate: {
          spec: {
            template: { spec: { containers: [{ name: 'a', securityContext: { privileged: true } }] } },
          },
        },
      },
    };
    expect(admit('CronJob', cron, { 'pod-security.kubernetes.io/warn': 'baseline' })).toEqual({
      allowed: true,
      warnings: [
        'would violate PodSecurity "baseline:latest": privileged (container "a" must not set securityContext.privileged=true)',
      ],
    });
  });
});
