// Pure builders for a build attempt: the ConfigMap holding the Dockerfile and the Kaniko Job that
// builds and pushes it. Names and labels come from the caller (see kube/names.ts).
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { attemptConfigMap, oneTryJob } from '../../kube/attempt-objects.ts';
import type { OwnerReference } from '../../kube/names.ts';

/**
 * The Kaniko executor image. Google archived Kaniko in June 2025 and its gcr.io images are gone;
 * Chainguard maintains the fork and publishes this image.
 */
export const KANIKO_IMAGE = 'cgr.dev/chainguard/kaniko:latest';

/** Where the Dockerfile ConfigMap is mounted; it is also the (otherwise empty) build context. */
export const WORKSPACE = '/workspace';
/** Where Kaniko looks for registry credentials (a docker config.json). */
export const DOCKER_CONFIG_DIR = '/kaniko/.docker';
export const DOCKERFILE_KEY = 'Dockerfile';
export const BUILD_CONTAINER = 'kaniko';

export interface KanikoBuildInput {
  /** Name of both the ConfigMap and the Job: the attempt's name. */
  name: string;
  namespace: string;
  dockerfile: string;
  /** The image to push, with its immutable tag. */
  image: string;
  labels: Record<string, string>;
  ownerReference?: OwnerReference;
  /** Deadline of the build Job, in seconds. */
  activeDeadlineSeconds: number;
  kanikoImage?: string;
  /** The registry speaks plain HTTP (a registry inside a kind cluster). */
  insecureRegistry?: boolean;
  /** A Secret of type kubernetes.io/dockerconfigjson with push credentials. */
  pushSecret?: string;
  /** Build without pushing (a dry run). Defaults to pushing. */
  push?: boolean;
  serviceAccountName?: string;
  resources?: IContainer['resources'];
}

/** The repository of an image reference: no tag, no digest. */
export function imageRepository(image: string): string {
  const withoutDigest = image.replace(/@sha256:[0-9a-f]+$/, '');
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
}

/** The registry host of an image reference (`docker.io` when the reference names none). */
export function registryHost(image: string): string {
  const first = image.split('/')[0]!;
  const isHost = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return isHost ? first : 'docker.io';
}

/** The layer cache repository beside the image: `<registry>/<name>-cache`. */
export const cacheRepository = (image: string) => `${imageRepository(image)}-cache`;

/** The ConfigMap that carries the Dockerfile into the build pod. */
export function dockerfileConfigMap(input: KanikoBuildInput): IConfigMap {
  return attemptConfigMap(input, { [DOCKERFILE_KEY]: input.dockerfile });
}

/** The executor's arguments. */
export function kanikoArgs(input: KanikoBuildInput): string[] {
  const push = input.push ?? true;
  const args = [
    `--dockerfile=${WORKSPACE}/${DOCKERFILE_KEY}`,
    '--context',
    `dir://${WORKSPACE}`,
    `--destination=${input.image}`,
    '--cache=true',
    `--cache-repo=${cacheRepository(input.image)}`,
    // The pushed digest lands in the container's termination message, where the operator reads it.
    '--digest-file=/dev/termination-log',
  ];
  if (!push) args.push('--no-push', '--no-push-cache');
  if (input.insecureRegistry) {
    const host = registryHost(input.image);
    args.push(
      '--insecure',
      '--skip-tls-verify',
      `--insecure-registry=${host}`,
      `--skip-tls-verify-registry=${host}`,
    );
  }
  return args;
}

/**
 * The Kaniko Job of a build attempt. One try only (backoffLimit 0, restartPolicy Never): a failed build
 * is diagnosed and rewritten, never rerun unchanged. The pod gets no API token; it needs none.
 */
export function kanikoJob(input: KanikoBuildInput): IJob {
  const volumes: IVolume[] = [
    {
      name: 'workspace',
      configMap: { name: input.name, items: [{ key: DOCKERFILE_KEY, path: DOCKERFILE_KEY }] },
    },
  ];
  const mounts: IVolumeMount[] = [{ name: 'workspace', mountPath: WORKSPACE, readOnly: true }];
  if (input.pushSecret) {
    volumes.push({
      name: 'docker-config',
      secret: { secretName: input.pushSecret, items: [{ key: '.dockerconfigjson', path: 'config.json' }] },
    });
    mounts.push({ name: 'docker-config', mountPath: DOCKER_CONFIG_DIR, readOnly: true });
  }
  const container: IContainer = {
    name: BUILD_CONTAINER,
    image: input.kanikoImage ?? KANIKO_IMAGE,
    args: kanikoArgs(input),
    env: [{ name: 'DOCKER_CONFIG', value: DOCKER_CONFIG_DIR }],
    volumeMounts: mounts,
    // File, not FallbackToLogsOnError: a failed build's log tail would otherwise be copied into the
    // pod's status, readable by anyone who may get pods, with whatever a RUN printed (the registry
    // credentials are mounted in this container). The operator reads the log itself, redacted.
    terminationMessagePolicy: 'File',
    ...(input.resources ? { resources: input.resources } : {}),
  };
  return oneTryJob(input, container, volumes);
}
