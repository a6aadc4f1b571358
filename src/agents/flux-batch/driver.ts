// The flux-batch agent: a Flux batch script with #FLUX: directives, held to the built-in checker.
import type { FluxBatchContext } from '../../api/context.ts';
import {
  FLUX_BATCH_RULES,
  fluxBatchGeneratePrompt,
  fluxBatchRegeneratePrompt,
} from '../../prompts/flux-batch.ts';
import type { AgentDriver } from '../../step/driver.ts';
import { readFluxBatchAnswer } from './validate.ts';
import { scriptConfigMap, validatorJob } from './validator.ts';

export const fluxBatchDriver: AgentDriver = {
  agent: 'flux-batch',
  // With a validator image configured, Flux's own check runs in a Job after the built-in checker.
  trial: (settings) => (settings.fluxValidatorImage ? 'validator' : 'inline'),
  artifactName: 'batch.sh',
  debug: { artifactKind: 'Flux batch script', artifactLanguage: 'bash', rules: FLUX_BATCH_RULES },
  fixedContext: () => ({}),
  prompt(input) {
    const context = input.context as FluxBatchContext;
    const base = {
      instruction: context.instruction,
      ...(context.details ? { details: context.details } : {}),
      ...(input.instruction ? { managerInstruction: input.instruction } : {}),
      avoid: input.avoid,
    };
    const previous = input.previous;
    if (previous?.artifact) {
      return fluxBatchRegeneratePrompt({
        ...base,
        script: previous.artifact,
        advice: previous.advice ?? previous.error,
      });
    }
    return fluxBatchGeneratePrompt(base);
  },
  accept(answer, input) {
    const checked = readFluxBatchAnswer(answer);
    if (!checked.ok) return { ok: false, reason: 'ValidationFailed', error: checked.explanation };
    const image = input.settings.fluxValidatorImage;
    if (!image) return { ok: true, artifact: checked.script, objects: [] };
    const validator = {
      name: input.objectName,
      namespace: input.namespace,
      script: checked.script,
      image,
      labels: input.labels,
      ownerReference: input.ownerReference,
      activeDeadlineSeconds: Math.min(600, input.maxRuntimeSeconds),
      serviceAccountName: input.settings.runServiceAccount,
    };
    return {
      ok: true,
      artifact: checked.script,
      objects: [scriptConfigMap(validator) as never, validatorJob(validator) as never],
    };
  },
  succeed: (artifact) => ({ result: artifact, outputs: { script: artifact } }),
};
