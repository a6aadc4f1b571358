// How alike the agents' successful artifacts are across a cell's repetitions: the same task asked
// again, does the model write the same Dockerfile? Jaccard similarity of normalised line sets.
import { contentLines } from './artifact.ts';
import { compareText } from './stats.ts';
import type { CellConsistency, FinalArtifact, RunRecord } from './types.ts';
import { assetsOf, attemptsOf, isDockerfileStep } from './walk.ts';

/**
 * The artifact each successful run ended with, per step: the last succeeded attempt of the step's
 * last run (after a recovery, the `-r2` run's). Runs in the order given; steps in the order they ran.
 */
export function finalArtifacts(runs: readonly RunRecord[]): (FinalArtifact & { dockerfile: boolean })[] {
  const finals: (FinalArtifact & { dockerfile: boolean })[] = [];
  for (const run of runs) {
    if (run.results.status !== 'Succeeded') continue;
    const lastRun = new Map<string, RunRecord['results']['steps'][number]>();
    for (const step of run.results.steps) lastRun.set(step.step, step);
    for (const step of lastRun.values()) {
      const won = attemptsOf(step)
        .filter((h) => h.outcome === 'Succeeded')
        .at(-1);
      const artifact = won ? assetsOf(step).get(won.attempt)?.artifact : undefined;
      if (artifact === undefined) continue;
      finals.push({
        cell: run.cell,
        plan: run.plan,
        repetition: run.repetition,
        step: step.step,
        agent: step.agent,
        artifact,
        dockerfile: isDockerfileStep(step),
      });
    }
  }
  return finals;
}

/** |A ∩ B| / |A ∪ B|; two empty sets are alike. */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let common = 0;
  for (const line of a) if (b.has(line)) common += 1;
  return common / (a.size + b.size - common);
}

/** The mean of a square matrix's off-diagonal entries, undefined below 2 × 2. */
export function meanOffDiagonal(matrix: readonly (readonly number[])[]): number | undefined {
  const n = matrix.length;
  if (n < 2) return undefined;
  let total = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) total += matrix[i]![j]!;
  return total / (n * (n - 1));
}

const COMMON_LINES = 10;

/** Per cell and step, the pairwise similarity of the final artifacts, in the runs' order. */
export function consistency(runs: readonly RunRecord[]): CellConsistency[] {
  const groups = new Map<
    string,
    { cell: string; step: string; agent: string; finals: ReturnType<typeof finalArtifacts> }
  >();
  for (const final of finalArtifacts(runs)) {
    const id = `${final.cell}\0${final.step}`;
    const group = groups.get(id) ?? { cell: final.cell, step: final.step, agent: final.agent, finals: [] };
    group.finals.push(final);
    groups.set(id, group);
  }
  return [...groups.values()].map(({ cell, step, agent, finals }) => {
    const sets = finals.map((f) => new Set(contentLines(f.artifact, f.dockerfile)));
    const matrix = sets.map((a, i) => sets.map((b, j) => (i === j ? 1 : jaccard(a, b))));
    const counts = new Map<string, number>();
    for (const set of sets) for (const line of set) counts.set(line, (counts.get(line) ?? 0) + 1);
    const commonLines = [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]))
      .slice(0, COMMON_LINES)
      .map(([line, count]) => ({ line, count }));
    const mean = meanOffDiagonal(matrix);
    return {
      cell,
      step,
      agent,
      plans: finals.map((f) => f.plan),
      matrix,
      ...(mean !== undefined ? { mean } : {}),
      commonLines,
    };
  });
}
