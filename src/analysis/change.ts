// What an agent changed from one attempt to the next: how many lines, and where the artifact first
// differs (for a Dockerfile, the first instruction whose layer the build could not take from its cache).
import { createHash } from 'node:crypto';
import { withoutAttemptNames } from '../kube/names.ts';
import { changedLines, type StepResult } from '../results/document.ts';
import { dockerfileInstructions, normalisedLines } from './artifact.ts';
import type { ChangeLabels, ChangeRecord, RunRecord } from './types.ts';
import { attemptsOf, isDockerfileStep, runKey, stepKey } from './walk.ts';

/** A stable key of a change: sha256 of both artifacts, first 16 hex digits. */
export function changeKey(before: string, after: string): string {
  return createHash('sha256').update(`${before}\0${after}`).digest('hex').slice(0, 16);
}

export interface FirstChange {
  index: number;
  /** The instruction (or line) at that index in the later artifact, or the earlier one's when the later ended. */
  text: string;
  keyword?: string;
}

/** The first index at which two sequences differ, or the first past the shorter; undefined when equal. */
export function firstDifference(before: readonly string[], after: readonly string[]): number | undefined {
  const shorter = Math.min(before.length, after.length);
  for (let i = 0; i < shorter; i++) if (before[i] !== after[i]) return i;
  return before.length === after.length ? undefined : shorter;
}

/** Where two Dockerfiles first differ, instruction by instruction. */
export function firstChangedInstruction(before: string, after: string): FirstChange | undefined {
  const a = dockerfileInstructions(before);
  const b = dockerfileInstructions(after);
  const index = firstDifference(
    a.map((i) => i.text),
    b.map((i) => i.text),
  );
  if (index === undefined) return undefined;
  const at = b[index] ?? a[index]!;
  return { index, text: at.text, keyword: at.keyword };
}

/** Where two manifests or scripts first differ, normalised line by line. */
export function firstChangedLine(before: string, after: string): FirstChange | undefined {
  const a = normalisedLines(before);
  const b = normalisedLines(after);
  const index = firstDifference(a, b);
  if (index === undefined) return undefined;
  return { index, text: b[index] ?? a[index]! };
}

interface ArtifactPair {
  from: number;
  to: number;
  before: string;
  after: string;
}

/**
 * Consecutive attempts of a step run that both have artifacts. An attempt without one (the model gave
 * none) is passed over, as changed_lines passes over it.
 */
export function artifactPairs(step: StepResult): ArtifactPair[] {
  const withArtifacts = (step.metadata.assets.attempts ?? [])
    .filter((a): a is typeof a & { artifact: string } => a.artifact !== undefined)
    .sort((a, b) => a.attempt - b.attempt);
  return withArtifacts.slice(1).map((after, i) => {
    const before = withArtifacts[i]!;
    return {
      from: before.attempt,
      to: after.attempt,
      before: withoutAttemptNames(before.artifact, step.name, before.attempt),
      after: withoutAttemptNames(after.artifact, step.name, after.attempt),
    };
  });
}

/** One change per consecutive pair of attempts with artifacts, in each step run of each run. */
export function changeRecords(runs: readonly RunRecord[], labels: ChangeLabels = {}): ChangeRecord[] {
  const records: ChangeRecord[] = [];
  for (const run of runs) {
    for (const step of run.results.steps) {
      const dockerfile = isDockerfileStep(step);
      for (const pair of artifactPairs(step)) {
        const key = changeKey(pair.before, pair.after);
        const first = dockerfile
          ? firstChangedInstruction(pair.before, pair.after)
          : firstChangedLine(pair.before, pair.after);
        const label = labels[key];
        records.push({
          ...runKey(run),
          key,
          ...stepKey(step),
          fromAttempt: pair.from,
          toAttempt: pair.to,
          linesChanged: changedLines(pair.before, pair.after),
          ...(first ? { firstChanged: first.text, firstChangedIndex: first.index } : {}),
          ...(first?.keyword ? { firstChangedInstruction: first.keyword } : {}),
          ...(label !== undefined ? { label } : {}),
        });
      }
    }
  }
  return records;
}

/** The two artifacts of a change, with what the agent was fixing, for labelling (src/analysis/labels.ts). */
export interface ChangeText {
  before: string;
  after: string;
  agent: string;
  /** The earlier attempt's failure, `Reason: message`, when its history has it. */
  failure?: string;
}

/** Every change's texts by key: the artifacts themselves are not in a ChangeRecord. */
export function changeTexts(runs: readonly RunRecord[]): Map<string, ChangeText> {
  const texts = new Map<string, ChangeText>();
  for (const run of runs)
    for (const step of run.results.steps) {
      const history = new Map(attemptsOf(step).map((h) => [h.attempt, h]));
      for (const pair of artifactPairs(step)) {
        const h = history.get(pair.from);
        const failure =
          h?.outcome === 'Failed' ? (h.message ? `${h.reason}: ${h.message}` : h.reason) : undefined;
        texts.set(changeKey(pair.before, pair.after), {
          before: pair.before,
          after: pair.after,
          agent: step.agent,
          ...(failure ? { failure } : {}),
        });
      }
    }
  return texts;
}
