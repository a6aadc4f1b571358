import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseKanikoArgs } from '../../sim/controllers/kaniko.ts';
import type { KanikoBuildInput } from './manifests.ts';
import {
  cacheRepository,
  dockerfileConfigMap,
  imageRepository,
  KANIKO_IMAGE,
  kanikoArgs,
  kanikoJob,
  registryHost,
} from './manifests.ts';

const base: KanikoBuildInput = {
  name: 'lammps-build-2',
  namespace: 'hpc',
  dockerfile: 'FROM ubuntu:24.04\nRUN apt-get update\n',
  image: 'registry.fractale:5000/lammps:0123456789ab',
  labels: {
    'app.kubernetes.io/managed-by': 'fractale',
    'fractale.dev/step': 'lammps-build',
    'fractale.dev/attempt': '2',
  },
  ownerReference: {
    apiVersion: 'fractale.dev/v1alpha1',
    kind: 'AgentStep',
    name: 'lammps-build',
    uid: '7d3c2a1e-0000-4000-8000-000000000001',
    controller: true,
    blockOwnerDeletion: true,
  },
  activeDeadlineSeconds: 3600,
};

const golden = (name: string) => `../../../test/fixtures/golden/${name}`;

describe('Kaniko build manifests', () => {
  it('match the golden Job and ConfigMap', async () => {
    await expect(stringify(kanikoJob(base))).toMatchFileSnapshot(golden('kaniko-job.yaml'));
    await expect(stringify(dockerfileConfigMap(base))).toMatchFileSnapshot(
      golden('dockerfile-configmap.yaml'),
    );
  });

  it.each([
    { name: 'a pushing build', input: base },
    {
      name: 'a dry run with push credentials on an insecure registry',
      input: { ...base, push: false, pushSecret: 'push', insecureRegistry: true },
    },
  ])('are valid Kubernetes objects: $name', ({ input }) => {
    expect(() => new Job(kanikoJob(input)).validate()).not.toThrow();
    expect(() => new ConfigMap(dockerfileConfigMap(input)).validate()).not.toThrow();
  });

  it('run one try, with a deadline and no API token', () => {
    const job = kanikoJob(base);
    expect(job.spec?.backoffLimit).toBe(0);
    expect(job.spec?.activeDeadlineSeconds).toBe(3600);
    expect(job.spec?.template.spec?.restartPolicy).toBe('Never');
    expect(job.spec?.template.spec?.automountServiceAccountToken).toBe(false);
    expect(job.spec?.template.spec?.containers[0]?.image).toBe(KANIKO_IMAGE);
    expect(job.metadata?.ownerReferences).toEqual([base.ownerReference]);
    expect(job.spec?.template.metadata?.labels).toEqual(base.labels);
  });

  it('mount the Dockerfile where the executor reads it', () => {
    const args = parseKanikoArgs(kanikoArgs(base));
    expect(args).toMatchObject({
      dockerfile: '/workspace/Dockerfile',
      contextDir: '/workspace',
      destinations: [base.image],
      noPush: false,
      cache: true,
      cacheRepo: 'registry.fractale:5000/lammps-cache',
    });
    const job = kanikoJob(base);
    const volume = job.spec?.template.spec?.volumes?.[0];
    expect(volume?.configMap?.name).toBe(dockerfileConfigMap(base).metadata?.name);
    expect(job.spec?.template.spec?.containers[0]?.volumeMounts?.[0]?.mountPath).toBe('/workspace');
    expect(dockerfileConfigMap(base).data?.['Dockerfile']).toBe(base.dockerfile);
  });

  it.each([
    { name: 'default', input: base, has: [], lacks: ['--no-push', '--insecure', '--skip-tls-verify'] },
    {
      name: 'dry run',
      input: { ...base, push: false },
      has: ['--no-push', '--no-push-cache'],
      lacks: ['--insecure'],
    },
    {
      name: 'plain-HTTP registry',
      input: { ...base, insecureRegistry: true },
      has: ['--insecure', '--skip-tls-verify', '--insecure-registry=registry.fractale:5000'],
      lacks: ['--no-push'],
    },
  ])('set the executor flags for a $name build', ({ input, has, lacks }) => {
    const args = kanikoArgs(input);
    for (const flag of has) expect(args).toContain(flag);
    for (const flag of lacks) expect(args).not.toContain(flag);
  });

  it('mount push credentials at /kaniko/.docker when a Secret is named', () => {
    const spec = kanikoJob({ ...base, pushSecret: 'registry-push' }).spec?.template.spec;
    expect(spec?.volumes?.[1]).toEqual({
      name: 'docker-config',
      secret: { secretName: 'registry-push', items: [{ key: '.dockerconfigjson', path: 'config.json' }] },
    });
    expect(spec?.containers[0]?.volumeMounts?.[1]).toEqual({
      name: 'docker-config',
      mountPath: '/kaniko/.docker',
      readOnly: true,
    });
    expect(kanikoJob(base).spec?.template.spec?.volumes).toHaveLength(1);
  });

  it.each([
    { image: 'registry:5000/a/b:tag', repository: 'registry:5000/a/b', host: 'registry:5000' },
    { image: 'ghcr.io/x/y@sha256:abc123', repository: 'ghcr.io/x/y', host: 'ghcr.io' },
    { image: 'library/ubuntu', repository: 'library/ubuntu', host: 'docker.io' },
    { image: 'localhost/app:1', repository: 'localhost/app', host: 'localhost' },
  ])('read image reference $image', ({ image, repository, host }) => {
    expect(imageRepository(image)).toBe(repository);
    expect(registryHost(image)).toBe(host);
    expect(cacheRepository(image)).toBe(`${repository}-cache`);
  });
});
