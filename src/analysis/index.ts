// The analysis of an experiment (or of plans on their own): every figure of the report from the
// results documents alone, as one Summary. Pure: the same runs give the same summary, whatever
// order they come in, and the runs are not changed.
import { LABELS } from '../api/names.ts';
import type { ResultsDocument } from '../results/document.ts';
import { attemptRows, cellSummary, groupSummaries, runSummary } from './attempts.ts';
import { changeRecords } from './change.ts';
import { consistency, finalArtifacts } from './consistency.ts';
import { cellRepeatedMistakes, failureCounts, failureRecords } from './failures.ts';
import { optimizationPoints, optimizationSummaries } from './optimization.ts';
import { buildCacheRecords, stageRecords } from './stages.ts';
import { compareText, distinct, distribution, ratio, sum } from './stats.ts';
import { CATEGORY_LABELS } from './taxonomy.ts';
import { callRecords, DEFAULT_PRICES, tokenSummaries } from './tokens.ts';
import type { AnalysisOptions, RunRecord, Summary } from './types.ts';

export * from './types.ts';

/**
 * Runs in report order: cells by application, variant and model (an absent axis first), then by
 * repetition and plan name. Stored results come in the order plans ended, so the input's order is
 * not used.
 */
export function sortRuns(runs: readonly RunRecord[]): RunRecord[] {
  return [...runs].sort(
    (a, b) =>
      compareText(a.application, b.application) ||
      compareText(a.variant ?? '', b.variant ?? '') ||
      compareText(a.model ?? '', b.model ?? '') ||
      compareText(a.cell, b.cell) ||
      a.repetition - b.repetition ||
      compareText(a.plan, b.plan),
  );
}

export function analyze(input: readonly RunRecord[], options: AnalysisOptions = {}): Summary {
  // A deep copy: nothing below mutates, and this keeps it so should a module ever sort in place.
  const runs = sortRuns(structuredClone([...input]));
  const prices = options.prices ?? DEFAULT_PRICES;
  const cellRuns = new Map<string, RunRecord[]>();
  for (const run of runs) cellRuns.set(run.cell, [...(cellRuns.get(run.cell) ?? []), run]);

  const runSummaries = runs.map((run) => runSummary(run, prices));
  const cells = [...cellRuns.keys()].map((cell) => cellSummary(runSummaries.filter((r) => r.cell === cell)));
  const axes = {
    applications: distinct(runs.map((r) => r.application)),
    variants: distinct(runs.flatMap((r) => (r.variant !== undefined ? [r.variant] : []))),
    models: distinct(runs.flatMap((r) => (r.model !== undefined ? [r.model] : []))),
  };
  const failures = failureRecords(runs);
  const changes = changeRecords(runs, options.labels);
  const tokens = tokenSummaries(
    [...cellRuns.entries()].map(([name, list]) => ({ name, runs: list })),
    prices,
  );

  const succeeded = runSummaries.filter((r) => r.status === 'Succeeded');
  const priced = runSummaries.length > 0 && runSummaries.every((r) => r.dollars !== undefined);
  const byCategory = new Map<string, number>();
  for (const f of failures) byCategory.set(f.category, (byCategory.get(f.category) ?? 0) + 1);
  const [top] = [...byCategory.entries()].sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]));
  const topCategory = top?.[0] as keyof typeof CATEGORY_LABELS | undefined;

  return {
    ...(runs[0]?.experiment !== undefined && runs.every((r) => r.experiment === runs[0]!.experiment)
      ? { experiment: runs[0].experiment }
      : {}),
    generated: options.generated ?? new Date().toISOString(),
    axes,
    headline: {
      runs: runs.length,
      succeeded: succeeded.length,
      successRate: ratio(succeeded.length, runs.length),
      medianAttempts: distribution(succeeded.map((r) => r.attempts)).median,
      tokens: sum(runSummaries.map((r) => r.tokens)),
      ...(priced ? { dollars: sum(runSummaries.map((r) => r.dollars ?? 0)) } : {}),
      ...(top && topCategory
        ? { topFailure: { category: topCategory, label: CATEGORY_LABELS[topCategory], count: top[1] } }
        : {}),
    },
    runs: runSummaries,
    cells,
    groups: groupSummaries(runSummaries, axes),
    attempts: attemptRows(runs),
    failures,
    failureCounts: failureCounts(failures),
    repeatedMistakes: cellRepeatedMistakes(runs, failures),
    changes,
    consistency: consistency(runs),
    stages: stageRecords(runs),
    buildCache: buildCacheRecords(runs, changes),
    calls: callRecords(runs),
    tokens,
    artifacts: finalArtifacts(runs).map(({ dockerfile: _, ...artifact }) => artifact),
    optimization: optimizationPoints(runs),
    optimizations: optimizationSummaries(runs),
  };
}

/**
 * A plan's results as a run of its own (a plan not made by an experiment, or one read back from
 * its labels): where it sits comes from the experiment labels the plan carries, else the plan is
 * its own application and cell, repetition 1.
 */
export function runFromResults(results: ResultsDocument, labels: Record<string, string> = {}): RunRecord {
  const contextApplication = (results.steps[0] as { context?: Record<string, unknown> } | undefined)
    ?.context?.['application'];
  const application =
    labels[LABELS.application] ??
    (typeof contextApplication === 'string' && contextApplication !== '' ? contextApplication : results.plan);
  const variant = labels[LABELS.variant];
  const model = labels[LABELS.model];
  const repetition = Number(labels[LABELS.repetition]);
  const experiment = labels[LABELS.experiment];
  return {
    plan: results.plan,
    ...(results.namespace ? { namespace: results.namespace } : {}),
    ...(experiment ? { experiment } : {}),
    cell: labels[LABELS.cell] ?? [application, variant, model].filter((p) => !!p).join('-'),
    application,
    ...(variant ? { variant } : {}),
    ...(model ? { model } : {}),
    repetition: Number.isInteger(repetition) && repetition >= 1 ? repetition : 1,
    results,
  };
}
