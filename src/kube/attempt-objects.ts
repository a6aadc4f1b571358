// Builders shared by the objects an attempt creates itself (the Kaniko build, the flux-batch validator):
// a ConfigMap carrying the artifact, and a one-try Job that mounts it.
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { OwnerReference } from './names.ts';

export interface AttemptObjectInput {
  /** The attempt's name, shared by its ConfigMap and its Job. */
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ownerReference?: OwnerReference;
}

export const attemptMetadata = (input: AttemptObjectInput) => ({
  name: input.name,
  namespace: input.namespace,
  labels: { ...input.labels },
  ...(input.ownerReference ? { ownerReferences: [{ ...input.ownerReference }] } : {}),
});

export function attemptConfigMap(input: AttemptObjectInput, data: Record<string, string>): IConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: attemptMetadata(input), data };
}

/**
 * A Job that runs once (backoffLimit 0, restartPolicy Never): a failure is diagnosed and the artifact
 * rewritten, never rerun unchanged. The pod gets no API token; it needs none.
 */
export function oneTryJob(
  input: AttemptObjectInput & { activeDeadlineSeconds: number; serviceAccountName?: string },
  container: IContainer,
  volumes: IVolume[],
): IJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: attemptMetadata(input),
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: input.activeDeadlineSeconds,
      template: {
        metadata: { labels: { ...input.labels } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          ...(input.serviceAccountName ? { serviceAccountName: input.serviceAccountName } : {}),
          containers: [container],
          volumes,
        },
      },
    },
  };
}
