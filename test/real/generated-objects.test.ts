// Every kind of object the operator writes, built by its own builders and written to a real
// kube-apiserver (not a dry run): the Kaniko build Job and its Dockerfile ConfigMap, a run Job and a
// MiniCluster held to the manifest policy, the results ConfigMap, an Event folded by the recorder,
// the leader-election Lease. Owned objects are then collected by the real garbage collector.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dockerfileConfigMap, kanikoJob } from '../../src/agents/build/manifests.ts';
import { isNotFound, KubeClient, type KubeObject } from '../../src/kube/client.ts';
import { applyManifestPolicy, type ManifestPolicy } from '../../src/kube/policy.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { encodeResults } from '../../src/results/writer.ts';
import { EventRecorder } from '../../src/runtime/events.ts';
import { LeaderElector } from '../../src/runtime/leader.ts';
import { silentLogger } from '../../src/runtime/logger.ts';
import { eventually } from '../helpers/kubeconfig.ts';
import { rawRequest, realKubeConfig } from './cluster.ts';

const root = join(import.meta.dirname, '../..');
const NS = 'generated';
const kc = realKubeConfig();
const client = new KubeClient(kc);
let step: KubeObject;
let owner: NonNullable<ManifestPolicy['ownerReference']>;
const labels = (attempt: number) => ({
  'app.kubernetes.io/managed-by': 'fractale',
  'fractale.dev/plan': 'lammps',
  'fractale.dev/step': 'lammps-build',
  'fractale.dev/attempt': String(attempt),
});

async function created(body: Record<string, unknown>, path: string): Promise<Record<string, unknown>> {
  const res = await rawRequest('POST', path, body);
  expect(res.body['message'] ?? '').toBe('');
  expect(res.status).toBe(201);
  return res.body;
}

beforeAll(async () => {
  for (const file of ['fractale.dev_agentplans.yaml', 'fractale.dev_agentsteps.yaml']) {
    await rawRequest(
      'POST',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      parse(readFileSync(join(root, 'crds', file), 'utf8')),
    );
  }
  await rawRequest(
    'POST',
    '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
    parse(readFileSync(join(root, 'src/sim/crds/minicluster-crd.yaml'), 'utf8')),
  );
  await rawRequest('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NS },
  });
  step = await eventually(
    async () =>
      (await created(
        {
          apiVersion: 'fractale.dev/v1alpha1',
          kind: 'AgentStep',
          metadata: { name: 'lammps-build', namespace: NS },
          spec: { agent: 'build', context: { application: 'lammps' } },
        },
        `/apis/fractale.dev/v1alpha1/namespaces/${NS}/agentsteps`,
      )) as KubeObject,
    30_000,
    250,
  );
  owner = {
    apiVersion: 'fractale.dev/v1alpha1',
    kind: 'AgentStep',
    name: 'lammps-build',
    uid: step.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}, 60_000);

afterAll(async () => {
  await rawRequest('DELETE', `/api/v1/namespaces/${NS}`);
});

describe('objects the operator generates, on a real kube-apiserver', () => {
  it('creates the Kaniko build Job and its Dockerfile ConfigMap as built', async () => {
    const input = {
      name: 'lammps-build-1',
      namespace: NS,
      dockerfile: 'FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y ca-certificates\n',
      image: 'registry.example:5000/lammps:3f2a9c1b7d4e',
      labels: labels(1),
      ownerReference: owner,
      activeDeadlineSeconds: 3600,
      insecureRegistry: true,
      pushSecret: 'registry-push',
    };
    await created(dockerfileConfigMap(input) as never, `/api/v1/namespaces/${NS}/configmaps`);
    const job = await created(kanikoJob(input) as never, `/apis/batch/v1/namespaces/${NS}/jobs`);
    expect((job['spec'] as { backoffLimit: number }).backoffLimit).toBe(0);
  });

  it('creates a run Job and a MiniCluster held to the manifest policy', async () => {
    const policy: ManifestPolicy = {
      kind: 'Job',
      namespace: NS,
      name: 'lammps-build-2',
      image: 'registry.example:5000/lammps:3f2a9c1b7d4e',
      labels: labels(2),
      ownerReference: owner,
      activeDeadlineSeconds: 1800,
    };
    const job = applyManifestPolicy(
      `apiVersion: batch/v1
kind: Job
metadata: {name: lammps, namespace: default}
spec:
  template:
    spec:
      containers:
        - name: lammps
          image: lammps
          workingDir: /opt/lammps/examples/reaxff/HNS
          command: ["lmp", "-in", "in.reaxff.hns"]
          resources: {limits: {cpu: "2", memory: 2Gi}}
`,
      policy,
    );
    expect(job.ok).toBe(true);
    if (job.ok) await created(job.object, `/apis/batch/v1/namespaces/${NS}/jobs`);
    const crd = parse(readFileSync(join(root, 'src/sim/crds/minicluster-crd.yaml'), 'utf8'));
    const mc = applyManifestPolicy(
      `apiVersion: flux-framework.org/v1alpha2
kind: MiniCluster
metadata: {name: lammps}
spec:
  size: 2
  tasks: 4
  containers:
    - image: lammps
      workingDir: /opt/lammps/examples/reaxff/HNS
      command: lmp -in in.reaxff.hns
`,
      {
        ...policy,
        kind: 'MiniCluster',
        name: 'lammps-build-3',
        miniclusterSchema: crd.spec.versions[0].schema.openAPIV3Schema,
      },
    );
    expect(mc.ok ? '' : mc.explanation).toBe('');
    if (mc.ok) await created(mc.object, `/apis/flux-framework.org/v1alpha2/namespaces/${NS}/miniclusters`);
  });

  it.each([
    ['small, as JSON', 1_000],
    ['large, gzipped in binaryData', 400_000],
  ])('writes a results ConfigMap as the results writer encodes it (%s)', async (_, size) => {
    // Hex of random bytes: text that does not compress to nothing, as real logs do not.
    const log = randomBytes(size / 2).toString('hex');
    const encoded = encodeResults({ plan: 'lammps', steps: [], log } as never);
    expect(Object.keys(size > 300_000 ? encoded.binaryData! : encoded.data!)).toHaveLength(1);
    await created(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `lammps-results-${size}`, namespace: NS, labels: labels(1) },
        ...encoded,
      },
      `/api/v1/namespaces/${NS}/configmaps`,
    );
  });

  it('records an Event and folds its repeat into a count of 2', async () => {
    const recorder = new EventRecorder(kc, { component: 'fractale', logger: silentLogger() });
    await recorder.record(
      step,
      'Warning',
      'BuildFailed',
      'the build failed: git clone: server certificate verification failed',
    );
    await recorder.record(
      step,
      'Warning',
      'BuildFailed',
      'the build failed: git clone: server certificate verification failed',
    );
    const events = await eventually(async () => {
      const list = await client.list<KubeObject & { count?: number; reason?: string }>(RESOURCES.events, NS);
      const ours = list.items.filter((e) => e.reason === 'BuildFailed');
      return ours.length === 1 && ours[0]!.count === 2 ? ours : undefined;
    }, 10_000);
    expect(events?.[0]?.['involvedObject']).toMatchObject({
      kind: 'AgentStep',
      name: 'lammps-build',
      uid: owner.uid,
    });
  });

  it('takes the leader-election Lease, and releases it on stop', async () => {
    let leading = false;
    const elector = new LeaderElector(kc, {
      namespace: NS,
      name: 'fractale-operator',
      identity: 'replica-a',
      onStartedLeading: () => {
        leading = true;
      },
      onStoppedLeading: () => {
        leading = false;
      },
      logger: silentLogger(),
    });
    elector.start();
    await eventually(() => leading, 20_000);
    const lease = await client.get<KubeObject & { spec: { holderIdentity?: string } }>(
      RESOURCES.leases,
      NS,
      'fractale-operator',
    );
    expect(lease.spec.holderIdentity).toBe('replica-a');
    await elector.stop();
    const released = await client.get<KubeObject & { spec: { holderIdentity?: string } }>(
      RESOURCES.leases,
      NS,
      'fractale-operator',
    );
    expect(released.spec.holderIdentity ?? '').toBe('');
  });

  // The collector learns of a new CRD at its next discovery (every 30 s), so this may take a while.
  it('lets the real garbage collector remove what the AgentStep owns when it is deleted', async () => {
    await rawRequest('DELETE', `/apis/fractale.dev/v1alpha1/namespaces/${NS}/agentsteps/lammps-build`);
    for (const [resource, name] of [
      [RESOURCES.jobs, 'lammps-build-1'],
      [RESOURCES.configMaps, 'lammps-build-1'],
      [RESOURCES.jobs, 'lammps-build-2'],
    ] as const) {
      await eventually(
        async () => {
          try {
            await client.get(resource, NS, name);
            return false;
          } catch (err) {
            return isNotFound(err);
          }
        },
        120_000,
        250,
      );
    }
  }, 180_000);
});
