// The manager's recovery prompt: a step gave up; pick the step to redo and the instruction for it.
import { PIPELINE } from './common.ts';
import { bullets, join, section } from './render.ts';

export interface ManagerStep {
  name: string;
  agent: string;
  description?: string;
}

export interface Recovery {
  /** The step that was redone. */
  step: string;
  /** The instruction it was given. */
  instruction: string;
}

export interface ManagerPromptInput {
  goal?: string;
  /** The plan's steps in order, up to and including the failed one. */
  steps: readonly ManagerStep[];
  /** The name of the step that gave up. */
  failedStep: string;
  /** Its last error or advice. */
  error: string;
  /** Recoveries tried before in this plan. */
  recoveries?: readonly Recovery[];
  /** Why the manager's previous answer could not be used, when it could not. */
  previousAnswerError?: string;
}

/** Asks for one corrective step as JSON {"agent_name", "task_description"}. */
export const managerPrompt = (input: ManagerPromptInput) =>
  join(
    `You are the manager of a team of agents. ${PIPELINE} A step failed after all its attempts. Decide which step must be redone to fix the root cause (it may be an earlier one, e.g. a rebuild), and instruct its agent.`,
    section('Goal', input.goal),
    section(
      'Steps, in order (name [agent]: description)',
      bullets(
        input.steps.map(
          (s) =>
            `${s.name} [${s.agent}]${s.description ? `: ${s.description}` : ''}${s.name === input.failedStep ? '  <- failed' : ''}`,
        ),
      ),
    ),
    section(`Error of the failed step ${input.failedStep}`, input.error),
    section(
      'Earlier recoveries (they did not solve it; do not repeat them unchanged)',
      bullets(input.recoveries?.map((r) => `${r.step}: ${r.instruction}`)),
    ),
    section('Your previous answer could not be used', input.previousAnswerError),
    'Answer with one ```json block holding one object: {"agent_name": "<a step name from the list>", "task_description": "You MUST ..."}. The task_description is one clear instruction that fixes the root cause.',
  );
