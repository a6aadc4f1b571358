// Pod Security admission asked of whichever API server the lane runs (the sim's or a real
// kube-apiserver v1.34, whose PodSecurity plugin is on by default), with the answers the real one
// gives, word for word: a Pod refused by its namespace's enforce level, a Job admitted with a
// warning and its pods refused (the Job controller's FailedCreate event), bad labels refused.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ApiError, KubeClient } from '../../src/kube/client.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/kubeconfig.ts';
import { kubectl } from '../helpers/kubectl.ts';

let cluster: TestCluster;
let client: KubeClient;
const suffix = randomBytes(3).toString('hex');
const RESTRICTED = `psa-restricted-${suffix}`;
const BASELINE = `psa-baseline-${suffix}`;
const WARNED = `psa-warned-${suffix}`;
const created: string[] = [];

async function namespace(name: string, labels: Record<string, string>) {
  await client.create(RESOURCES.namespaces, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels },
  });
  created.push(name);
}

beforeAll(async () => {
  cluster = await startTestCluster({ speed: 0.01, behaviors: { pullable: ['docker.io/library/.*'] } });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfigPath);
  client = new KubeClient(kubeConfig);
  await namespace(RESTRICTED, { 'pod-security.kubernetes.io/enforce': 'restricted' });
  await namespace(BASELINE, { 'pod-security.kubernetes.io/enforce': 'baseline' });
  await namespace(WARNED, {
    'pod-security.kubernetes.io/enforce': 'baseline',
    'pod-security.kubernetes.io/warn': 'restricted',
    'pod-security.kubernetes.io/warn-version': 'v1.34',
  });
});
afterAll(async () => {
  for (const name of created)
    await client?.delete(RESOURCES.namespaces, undefined, name).catch(() => undefined);
  await cluster?.stop();
});

const IMAGE = 'docker.io/library/busybox:1.36';
/** A pod no scheduler picks up: admission is the point, not running it. */
const pod = (name: string, container: Record<string, unknown>, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    schedulerName: 'nobody',
    restartPolicy: 'Never',
    containers: [{ name: 'main', image: IMAGE, command: ['true'], ...container }],
    ...spec,
  },
});

const RESTRICTED_CONTAINER = {
  securityContext: {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    runAsNonRoot: true,
    runAsUser: 1000,
    seccompProfile: { type: 'RuntimeDefault' },
  },
};

async function refusal(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('the request was accepted');
}

const podsOf = (namespace: string) => `/api/v1/namespaces/${namespace}/pods`;

/** kubectl apply of one object; its stderr carries the server's warnings. */
async function apply(namespace: string, object: unknown) {
  const file = join(mkdtempSync(join(tmpdir(), 'psa-')), 'object.yaml');
  writeFileSync(file, stringify(object));
  return kubectl(cluster.kubeconfigPath, ['apply', '-n', namespace, '-f', file]);
}

describe('Pod Security admission on the lane’s API server', () => {
  it('refuses a namespace whose pod-security label names no level', async () => {
    const refused = await refusal(
      client.create(RESOURCES.namespaces, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: `psa-bad-${suffix}`, labels: { 'pod-security.kubernetes.io/enforce': 'strict' } },
      }),
    );
    expect(refused).toEqual({
      code: 422,
      message: `Namespace "psa-bad-${suffix}" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted`,
    });
  });

  it('refuses a pod with no security context in a restricted namespace, naming every field to set', async () => {
    expect(await refusal(client.request('POST', podsOf(RESTRICTED), { body: pod('bare', {}) }))).toEqual({
      code: 403,
      message:
        'pods "bare" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "main" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    });
  });

  it('admits a restricted pod, with the settings at pod or container level', async () => {
    await client.request('POST', podsOf(RESTRICTED), { body: pod('tight', RESTRICTED_CONTAINER) });
    await client.request('POST', podsOf(RESTRICTED), {
      body: pod(
        'tight-pod-level',
        { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
        {
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
        },
      ),
    });
    const names = (await client.list(RESOURCES.pods, RESTRICTED)).items.map((p) => p.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['tight', 'tight-pod-level']));
  });

  it('refuses a pod that breaks the baseline rules, all named, in the real order', async () => {
    const loud = pod(
      'loud',
      {
        ports: [{ containerPort: 8080, hostPort: 8080 }],
        readinessProbe: { httpGet: { host: '10.0.0.1', port: 8080, path: '/' } },
        volumeMounts: [{ name: 'host', mountPath: '/host' }],
        // privileged is left out: a kube-apiserver without --allow-privileged refuses it in validation.
        securityContext: {
          capabilities: { add: ['SYS_ADMIN', 'NET_ADMIN', 'CHOWN'] },
          seccompProfile: { type: 'Unconfined' },
          seLinuxOptions: { type: 'spc_t' },
          appArmorProfile: { type: 'Unconfined' },
        },
      },
      {
        hostNetwork: true,
        hostPID: true,
        volumes: [{ name: 'host', hostPath: { path: '/' } }],
        securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '65536' }] },
      },
    );
    expect(await refusal(client.request('POST', podsOf(BASELINE), { body: loud }))).toEqual({
      code: 403,
      message:
        'pods "loud" is forbidden: violates PodSecurity "baseline:latest": forbidden AppArmor profile (container "main" must not set AppArmor profile type to "Unconfined"), non-default capabilities (container "main" must not include "NET_ADMIN", "SYS_ADMIN" in securityContext.capabilities.add), host namespaces (hostNetwork=true, hostPID=true), hostPath volumes (volume "host"), hostPort (container "main" uses hostPort 8080), probe or lifecycle host (container "main" uses probe or lifecycle host "10.0.0.1"), seLinuxOptions (container "main" set forbidden securityContext.seLinuxOptions: type "spc_t"), seccompProfile (container "main" must not set securityContext.seccompProfile.type to "Unconfined"), forbidden sysctls (kernel.msgmax)',
    });
  });

  it('admits a root pod with the default capabilities in a baseline namespace (what Kaniko needs)', async () => {
    await client.request('POST', podsOf(BASELINE), {
      body: pod('root', { securityContext: { runAsUser: 0, capabilities: { add: ['CHOWN', 'SETUID'] } } }),
    });
    expect(await client.find(RESOURCES.pods, BASELINE, 'root')).toBeDefined();
  });

  it('warns about a pod that passes enforce but not warn', async () => {
    const result = await apply(WARNED, pod('warned', {}));
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      'Warning: would violate PodSecurity "restricted:v1.34": allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "main" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
  });

  it('admits a Job with a warning, refuses its pods, and the Job controller says so in a FailedCreate event', async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'run' },
      spec: {
        backoffLimit: 0,
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: IMAGE, command: ['true'] }] },
        },
      },
    };
    const result = await apply(RESTRICTED, job);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('job.batch/run created');
    const detail =
      'allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "main" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';
    expect(result.stderr).toContain(`Warning: would violate PodSecurity "restricted:latest": ${detail}`);
    const event = await eventually(async () => {
      const events = await client.list<{ metadata: { name?: string }; reason?: string; message?: string }>(
        RESOURCES.events,
        RESTRICTED,
        { fieldSelector: 'involvedObject.name=run' },
      );
      return events.items.find((e) => e.reason === 'FailedCreate');
    }, 60_000);
    expect(event?.message).toMatch(
      new RegExp(
        `^Error creating: pods "run-[a-z0-9]{5}" is forbidden: violates PodSecurity "restricted:latest": ${detail.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
      ),
    );
    expect((await client.list(RESOURCES.pods, RESTRICTED, { labelSelector: 'job-name=run' })).items).toEqual(
      [],
    );
  });
});
