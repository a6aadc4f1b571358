// How many attempts the agents needed: per attempt (attempts.csv), per run, per cell, and per value
// of each axis of the experiment (application, variant, model).
import { classifyAttempt } from './failures.ts';
import { distribution, ratio, sum } from './stats.ts';
import type { AttemptRow, CellSummary, GroupSummary, PriceTable, RunRecord, RunSummary } from './types.ts';
import { assetsOf, attemptsOf, runKey, runUsage, stepKey } from './walk.ts';

/** Dollars for tokens at a price, or undefined without one. */
export function dollarsFor(
  price: { inputPerMillion: number; outputPerMillion: number } | undefined,
  promptTokens: number,
  outputTokens: number,
): number | undefined {
  if (!price) return undefined;
  return (promptTokens * price.inputPerMillion + outputTokens * price.outputPerMillion) / 1e6;
}

export function priceOf(run: RunRecord, prices: PriceTable | undefined) {
  const model = run.modelName ?? answeringModel(run);
  return model !== undefined ? prices?.[model] : undefined;
}

/**
 * The model that answered most of a run's calls, as each call recorded it: the plan may name none
 * and run on the operator's default model.
 */
export function answeringModel(run: RunRecord): string | undefined {
  const counts = new Map<string, number>();
  for (const step of run.results.steps)
    for (const call of step.metadata.ask_gemini)
      if (call.model) counts.set(call.model, (counts.get(call.model) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/** A plan's figures: attempts of every step run (recoveries' runs included), recoveries, tokens. */
export function runSummary(run: RunRecord, prices?: PriceTable): RunSummary {
  const steps = run.results.steps;
  const usage = runUsage(run);
  const dollars = dollarsFor(priceOf(run, prices), usage.promptTokens, usage.outputTokens);
  return {
    ...runKey(run),
    status: run.results.status,
    attempts: sum(steps.map((s) => s.attempts)),
    recoveries: run.results.manager.recoveries.length,
    returnsToHuman: sum(steps.map((s) => s.metadata.counts.return_to_human)),
    tokens: usage.totalTokens,
    ...(dollars !== undefined ? { dollars } : {}),
    // The plan's own clock when it has one; else its steps' time, which leaves out the manager's.
    seconds: run.results.usage?.['seconds'] ?? sum(steps.map((s) => s.total_seconds)),
  };
}

const succeeded = (r: RunSummary) => r.status === 'Succeeded';

/** The figures of a set of runs that a cell and a group share. */
function aggregate(runs: readonly RunSummary[]) {
  const wins = runs.filter(succeeded);
  return {
    runs: runs.length,
    succeeded: wins.length,
    successRate: ratio(wins.length, runs.length),
    // Attempts to success: a failed run's attempts say how long it tried, not how long success took.
    attempts: distribution(wins.map((r) => r.attempts)),
    recoveries: sum(runs.map((r) => r.recoveries)),
    returnsToHuman: sum(runs.map((r) => r.returnsToHuman)),
  };
}

/** One cell's figures, from its runs' summaries (all with the same cell). */
export function cellSummary(runs: readonly RunSummary[]): CellSummary {
  const first = runs[0];
  const common = aggregate(runs);
  const tokens = sum(runs.map((r) => r.tokens));
  // Dollars only when every run has a price: a partial sum would read as the cell's cost.
  const priced = runs.length > 0 && runs.every((r) => r.dollars !== undefined);
  const dollars = priced ? sum(runs.map((r) => r.dollars ?? 0)) : undefined;
  return {
    name: first?.cell ?? '',
    application: first?.application ?? '',
    variant: first?.variant ?? '',
    model: first?.model ?? '',
    runs: common.runs,
    succeeded: common.succeeded,
    failed: runs.filter((r) => r.status === 'Failed').length,
    successRate: common.successRate,
    attempts: common.attempts,
    recoveries: common.recoveries,
    returnsToHuman: common.returnsToHuman,
    tokens,
    ...(common.succeeded > 0 ? { tokensPerSuccess: tokens / common.succeeded } : {}),
    ...(dollars !== undefined ? { dollars } : {}),
    ...(dollars !== undefined && common.succeeded > 0
      ? { dollarsPerSuccess: dollars / common.succeeded }
      : {}),
  };
}

/**
 * The same figures per value of each axis, for the axes that vary or are named at all: variant and
 * model only when some run has one. Values in the order given (the experiment's axis order).
 */
export function groupSummaries(
  runs: readonly RunSummary[],
  axes: { applications: readonly string[]; variants: readonly string[]; models: readonly string[] },
): GroupSummary[] {
  const groups: GroupSummary[] = [];
  const add = (axis: GroupSummary['axis'], values: readonly string[]) => {
    for (const value of values) {
      const {
        runs: n,
        succeeded: s,
        successRate,
        attempts,
        recoveries,
        returnsToHuman,
      } = aggregate(runs.filter((r) => r[axis] === value));
      groups.push({ axis, value, runs: n, succeeded: s, successRate, attempts, recoveries, returnsToHuman });
    }
  };
  add('application', axes.applications);
  add('variant', axes.variants);
  add('model', axes.models);
  return groups;
}

/** One row per attempt of every step run, with its plan's outcome and a category for each failed one. */
export function attemptRows(runs: readonly RunRecord[]): AttemptRow[] {
  const rows: AttemptRow[] = [];
  for (const run of runs) {
    const key = runKey(run);
    for (const step of run.results.steps) {
      const assets = assetsOf(step);
      for (const h of attemptsOf(step)) {
        const asset = assets.get(h.attempt);
        const category = h.outcome === 'Failed' ? classifyAttempt(h, asset).category : undefined;
        rows.push({
          ...key,
          planStatus: run.results.status,
          ...stepKey(step),
          attempt: h.attempt,
          outcome: h.outcome,
          reason: h.reason,
          ...(category !== undefined ? { category } : {}),
          seconds: h.seconds,
          tokens: h.tokens,
          modelCalls: h.model_calls,
          ...(asset?.changed_lines !== undefined ? { changedLines: asset.changed_lines } : {}),
        });
      }
    }
  }
  return rows;
}
