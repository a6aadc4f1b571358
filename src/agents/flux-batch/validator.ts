// The validator Job for a Flux batch script: the script in the attempt's ConfigMap, mounted into a
// container of the configured validator image (the seed's is ghcr.io/compspec/fractale:flux-validator),
// which checks it with Flux's own tools and exits non-zero with the reason when it is invalid.
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { attemptConfigMap, oneTryJob } from '../../kube/attempt-objects.ts';
import type { OwnerReference } from '../../kube/names.ts';

export const SCRIPT_KEY = 'batch.sh';
export const SCRIPT_DIR = '/workspace';

export interface ValidatorInput {
  name: string;
  namespace: string;
  script: string;
  image: string;
  labels: Record<string, string>;
  ownerReference: OwnerReference;
  activeDeadlineSeconds: number;
  serviceAccountName?: string;
}

export function scriptConfigMap(input: ValidatorInput): IConfigMap {
  return attemptConfigMap(input, { [SCRIPT_KEY]: input.script });
}

export function validatorJob(input: ValidatorInput): IJob {
  return oneTryJob(
    input,
    {
      name: 'validator',
      image: input.image,
      args: [`${SCRIPT_DIR}/${SCRIPT_KEY}`],
      volumeMounts: [{ name: 'script', mountPath: SCRIPT_DIR, readOnly: true }],
    },
    [
      {
        name: 'script',
        configMap: { name: input.name, items: [{ key: SCRIPT_KEY, path: SCRIPT_KEY, mode: 0o755 }] },
      },
    ],
  );
}
