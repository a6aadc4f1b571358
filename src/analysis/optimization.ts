// The trajectory of optimize steps: every trial of a step run that made a working run faster (its
// repetitions' figures, their median and range, what the agent did with it, the best so far), and
// per step run where it started, where it got and why it stopped. Read from the step's results
// (`metadata.optimization`, src/results/document.ts), whatever its agent is called.
import { percentile } from './stats.ts';
import type { OptimizationPointRow, OptimizationSummaryRow, RunRecord } from './types.ts';
import { assetsOf, runKey } from './walk.ts';

/** The comment lines a trial's stored manifest starts with (src/agents/optimize/driver.ts). */
const HEADER = /^# fractale-trial (change|reason): (.*)$/;

/** The change and reason a stored manifest's header names (a failed trial's record has neither). */
export function trialHeader(artifact: string | undefined): { change?: string; reason?: string } {
  const out: { change?: string; reason?: string } = {};
  for (const line of (artifact ?? '').split('\n')) {
    const match = HEADER.exec(line);
    if (!match) break;
    out[match[1] as 'change' | 'reason'] = match[2]!;
  }
  return out;
}

/** Every trial of every optimize step run, in run, step and trial order. */
export function optimizationPoints(runs: readonly RunRecord[]): OptimizationPointRow[] {
  const rows: OptimizationPointRow[] = [];
  for (const run of runs) {
    for (const step of run.results.steps) {
      const optimization = step.metadata.optimization;
      if (!optimization) continue;
      const assets = assetsOf(step);
      let best: number | undefined;
      for (const trial of [...optimization.trials].sort((a, b) => a.trial - b.trial)) {
        const figures = [...trial.figures];
        const sorted = [...figures].sort((a, b) => a - b);
        const median = trial.median ?? (sorted.length > 0 ? percentile(sorted, 50) : undefined);
        const spread = trial.spread ?? (sorted.length > 0 ? sorted.at(-1)! - sorted[0]! : undefined);
        if ((trial.outcome === 'baseline' || trial.outcome === 'kept') && median !== undefined) best = median;
        // The baseline's header says "baseline": not a change.
        const header = trial.trial === 0 ? {} : trialHeader(assets.get(trial.attempt)?.artifact);
        const change = trial.change ?? header.change;
        const reason = trial.reason ?? header.reason;
        rows.push({
          ...runKey(run),
          planStatus: run.results.status,
          step: step.step,
          stepRun: step.name,
          figure: optimization.figure,
          direction: optimization.direction,
          trial: trial.trial,
          attempt: trial.attempt,
          ...(trial.from !== undefined ? { from: trial.from } : {}),
          outcome: trial.outcome,
          repetitions: figures.length,
          figures,
          ...(median !== undefined ? { median } : {}),
          ...(spread !== undefined ? { spread } : {}),
          ...(sorted.length > 0 ? { min: sorted[0]!, max: sorted.at(-1)! } : {}),
          ...(best !== undefined ? { bestSoFar: best } : {}),
          ...(change !== undefined ? { change } : {}),
          ...(reason !== undefined ? { reason } : {}),
          ...(trial.message !== undefined ? { message: trial.message } : {}),
          ...(trial.diff !== undefined ? { diff: trial.diff } : {}),
        });
      }
    }
  }
  return rows;
}

/** One row per optimize step run, in run and step order. */
export function optimizationSummaries(runs: readonly RunRecord[]): OptimizationSummaryRow[] {
  const rows: OptimizationSummaryRow[] = [];
  for (const run of runs) {
    for (const step of run.results.steps) {
      const o = step.metadata.optimization;
      if (!o) continue;
      const count = (outcome: string) => o.trials.filter((t) => t.outcome === outcome).length;
      rows.push({
        ...runKey(run),
        planStatus: run.results.status,
        step: step.step,
        stepRun: step.name,
        status: step.status,
        figure: o.figure,
        direction: o.direction,
        ...(o.baseline !== undefined ? { baseline: o.baseline } : {}),
        ...(o.best !== undefined ? { best: o.best } : {}),
        ...(o.ratio !== undefined ? { ratio: o.ratio } : {}),
        ...(o.bestAttempt !== undefined ? { bestAttempt: o.bestAttempt } : {}),
        trials: o.trials.filter((t) => t.outcome !== 'baseline').length,
        kept: count('kept'),
        reverted: count('reverted'),
        failed: count('failed'),
        ...(o.stopReason !== undefined ? { stopReason: o.stopReason } : {}),
      });
    }
  }
  return rows;
}
