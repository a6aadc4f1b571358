// Slots shared by several prompts: the pipeline context, what earlier attempts taught, the user's details.
import { DEFAULT_ENVIRONMENT } from '../api/context.ts';
import { bullets, join, section } from './render.ts';

export { DEFAULT_ENVIRONMENT };

/** One line of context every agent gets: what the pipeline does. */
export const PIPELINE = 'We build and run HPC applications on Kubernetes, one agent per step.';

/** What the manager or earlier attempts of a step want the next attempt to do or avoid. */
export interface Guidance {
  /** An instruction from the manager for this step ("You MUST ..."). */
  managerInstruction?: string;
  /** Issues of earlier attempts of this step, which must not happen again. */
  avoid?: readonly string[];
}

/** The manager's instruction and the list of issues the step must not repeat. */
export const guidanceSections = (guidance: Guidance) =>
  join(
    section('Instruction from the manager', guidance.managerInstruction),
    section('Earlier attempts failed with these issues; you MUST avoid them', bullets(guidance.avoid)),
  );

/** The user's own words, kept apart so the model weighs them as requirements. */
export const detailsSection = (details: string | undefined) => section('Details from the user', details);

/** The `testing` context: a sentence from the user, or a request for a small, quick problem. */
export const testingText = (testing: string | boolean | undefined) =>
  testing === true
    ? 'This is a test run: use a small problem size so it finishes in a few minutes.'
    : typeof testing === 'string'
      ? testing
      : undefined;

/** The closing line of every artifact prompt: one fenced block and nothing else. */
export const answerWith = (language: string, what: string) =>
  `Answer with only the complete ${what} in one \`\`\`${language} block. Put any explanation in # comments inside it.`;
