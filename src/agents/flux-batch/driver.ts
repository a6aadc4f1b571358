// The flux-batch agent: a Flux batch script with #FLUX: directives, held to the built-in checker.
import type { FluxBatchContext } from '../../api/context.ts';
import {
  FLUX_BATCH_RULES,
  fluxBatchGeneratePrompt,
  fluxBatchRegeneratePrompt,
} from '../../prompts/flux-batch.ts';
import type { AgentDriver } from '../../step/driver.ts';
import { readFluxBatchAnswer } from './validate.ts';

export const fluxBatchDriver: AgentDriver = {
  agent: 'flux-batch',
  trial: 'inline',
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
  accept(answer) {
    const checked = readFluxBatchAnswer(answer);
    if (!checked.ok) return { ok: false, reason: 'ValidationFailed', error: checked.explanation };
    return { ok: true, artifact: checked.script, objects: [] };
  },
  succeed: (artifact) => ({ result: artifact, outputs: { script: artifact } }),
};
