// The cost agent: a JSON list of instance suggestions with estimated costs, validated in the operator.
import { stringify } from 'yaml';
import type { CostContext } from '../../api/context.ts';
import { costPrompt } from '../../prompts/cost.ts';
import type { AgentDriver } from '../../step/driver.ts';
import { validateCostAnswer } from './validate.ts';

export const costDriver: AgentDriver = {
  agent: 'cost',
  trial: 'inline',
  artifactName: 'cost.json',
  debug: {
    artifactKind: 'cost estimate',
    artifactLanguage: 'json',
    rules: ['Answer with a JSON list of suggestions.'],
  },
  fixedContext: (input) => ({ environment: (input.context as CostContext).environment }),
  prompt(input) {
    const context = input.context as CostContext;
    return costPrompt({
      instruction: context.instruction,
      ...(context.environment ? { environment: context.environment } : {}),
      ...(context.details ? { details: context.details } : {}),
      ...(input.previous ? { previousError: input.previous.advice ?? input.previous.error } : {}),
      avoid: input.avoid,
    });
  },
  accept(answer) {
    const checked = validateCostAnswer(answer);
    if (!checked.ok) return { ok: false, reason: 'InvalidArtifact', error: checked.error };
    return { ok: true, artifact: JSON.stringify(checked.estimates, null, 2), objects: [] };
  },
  // The list is the result; as YAML it reads well in `kubectl describe`.
  succeed: (artifact) => ({ result: stringify(JSON.parse(artifact)), outputs: { estimates: artifact } }),
};
