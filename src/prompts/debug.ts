// The debug agent's prompt: an artifact, the error it caused, and the scope of what may change.
import { RETURN_TO_HUMAN, RETURN_TO_MANAGER } from '../agents/parse.ts';
import { detailsSection, PIPELINE } from './common.ts';
import { bullets, fenced, join, section } from './render.ts';

export interface DebugPromptInput {
  /** What failed, as the model should name it: "Dockerfile", "Kubernetes Job", "MiniCluster", ... */
  artifactKind: string;
  /** The fence language of the artifact (dockerfile, yaml, bash, json). */
  artifactLanguage: string;
  artifact: string;
  /** The error output: filtered build log, run diagnostics, or a refusal's explanation. */
  error: string;
  /** What the calling agent may and may not do (its rules). */
  rules: readonly string[];
  /** Context the calling agent cannot change (container, environment, ...), as `key: value`. */
  fixed?: Readonly<Record<string, string | undefined>>;
  details?: string;
  allowReturnToManager: boolean;
  allowReturnToHuman: boolean;
}

/** How the model asks to leave the step: the exact words parseDebugAdvice looks for. */
const directives = (input: DebugPromptInput) =>
  join(
    input.allowReturnToManager
      ? `If the fix needs something the agent cannot change (for example a different container image), write ${RETURN_TO_MANAGER} on a line of its own after your advice.`
      : undefined,
    input.allowReturnToHuman
      ? `If only a person can resolve it (for example which input data to use), write one line: ${RETURN_TO_HUMAN}: <your question>.`
      : undefined,
    input.allowReturnToManager && input.allowReturnToHuman ? 'Use at most one of these.' : undefined,
  );

/** Asks for advice: the cause of the error and the change to make, within the agent's scope. */
export const debugPrompt = (input: DebugPromptInput) =>
  join(
    `You are a debugging expert. ${PIPELINE} An agent's ${input.artifactKind} failed; you tell the agent how to fix it.`,
    'Task: find the root cause of the error and say briefly and specifically what to change, within what the agent may do.',
    section('What the agent may do', bullets(input.rules)),
    section(
      'Fixed context (the agent cannot change it; do not suggest it)',
      bullets(
        Object.entries(input.fixed ?? {}).map(([key, value]) => (value ? `${key}: ${value}` : undefined)),
      ),
    ),
    detailsSection(input.details),
    section(`The ${input.artifactKind}`, fenced(input.artifactLanguage, input.artifact)),
    section('Error output', input.error),
    directives(input),
  );
