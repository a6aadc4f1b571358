// The cost agent's prompt: which instance type minimizes the total cost of the work.
import { DEFAULT_ENVIRONMENT, detailsSection, type Guidance, guidanceSections, PIPELINE } from './common.ts';
import { join, section } from './render.ts';

export interface CostPromptInput extends Guidance {
  instruction: string;
  environment?: string;
  details?: string;
  /** Why the previous answer was refused, on a retry. */
  previousError?: string;
}

/** Asks for a JSON list of instance suggestions with their estimated total cost. */
export const costPrompt = (input: CostPromptInput) =>
  join(
    `You are a cloud cost estimation expert. ${PIPELINE} You choose instance types that minimize the total cost of the work.`,
    `Task: suggest the instance type that minimizes the total cost of this request in the environment '${input.environment ?? DEFAULT_ENVIRONMENT}', counting the application's needs, its estimated run time and the instance price.`,
    section('Request', input.instruction),
    detailsSection(input.details),
    section('Your previous answer was refused', input.previousError),
    guidanceSections(input),
    'Answer with one ```json block holding a list, one object per suggestion: {"application": string, "environment": string, "instance": string, "type": "cpu" or "gpu", "reason": string, "estimate": total cost in USD as a number}. If the application can use GPUs, suggest a cpu and a gpu instance.',
  );
