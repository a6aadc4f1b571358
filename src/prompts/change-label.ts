// The change-label prompt (fractale report --analyze): what an agent changed between two attempts,
// named in a few words for the report's tables.
import { fenced, join, line, section } from './render.ts';

export interface ChangeLabelPromptInput {
  /** What the artifact is: "Dockerfile", "Kubernetes Job", "MiniCluster", ... */
  artifactKind: string;
  /** A unified diff from the earlier attempt's artifact to the later one's, cut to a few KB. */
  diff: string;
  /** Why the earlier attempt failed, when known. */
  failure?: string;
}

/** Asks for one short lower-case label of the change, nothing else. */
export const changeLabelPrompt = (input: ChangeLabelPromptInput) =>
  join(
    `You label changes for a research report. An agent rewrote a ${input.artifactKind} after an attempt failed; the diff below goes from the failed attempt's ${input.artifactKind} to the next one.`,
    line('The earlier attempt failed with', input.failure),
    section('Diff', fenced('diff', input.diff)),
    'Answer with one label of at most 8 words, in lower case, saying what changed, for example "added ca-certificates", "changed the branch", "switched to a smaller base image". Write only the label: no quotes, no explanation.',
  );
