// Why attempts failed: each failed attempt classified (src/analysis/taxonomy.ts), counts per
// application and category, and the mistakes a cell's repetitions make alike on their first try.
import type { AttemptHistoryRecord, IncrementalAsset } from '../results/document.ts';
import { compareText } from './stats.ts';
import { CATEGORY_LABELS, classifyFailure, type FirstAttempt, repeatedMistakes } from './taxonomy.ts';
import type { FailureRecord, RunRecord, Summary } from './types.ts';
import { assetsOf, attemptsOf, runKey, stepKey } from './walk.ts';

/** A failed attempt's classification, from its history entry and what its ConfigMap kept. */
export function classifyAttempt(history: AttemptHistoryRecord, asset: IncrementalAsset | undefined) {
  return classifyFailure({
    reason: history.reason,
    message: history.message ?? '',
    diagnostics: asset?.diagnostics ?? '',
    log: asset?.log ?? '',
  });
}

/** One record per failed attempt of every step run, in run, step-run and attempt order. */
export function failureRecords(runs: readonly RunRecord[]): FailureRecord[] {
  const records: FailureRecord[] = [];
  for (const run of runs) {
    const key = runKey(run);
    for (const step of run.results.steps) {
      const assets = assetsOf(step);
      for (const h of attemptsOf(step)) {
        if (h.outcome !== 'Failed') continue;
        const { category, evidence } = classifyAttempt(h, assets.get(h.attempt));
        records.push({
          ...key,
          planStatus: run.results.status,
          ...stepKey(step),
          attempt: h.attempt,
          reason: h.reason,
          category,
          label: CATEGORY_LABELS[category],
          evidence,
          message: h.message ?? '',
        });
      }
    }
  }
  return records;
}

/** Failures per application and category: by application, then most frequent first, then category. */
export function failureCounts(failures: readonly FailureRecord[]): Summary['failureCounts'] {
  const counts = new Map<string, Summary['failureCounts'][number]>();
  for (const f of failures) {
    const id = `${f.application}\0${f.category}`;
    const row = counts.get(id);
    if (row) row.count += 1;
    else counts.set(id, { application: f.application, category: f.category, label: f.label, count: 1 });
  }
  return [...counts.values()].sort(
    (a, b) =>
      compareText(a.application, b.application) || b.count - a.count || compareText(a.category, b.category),
  );
}

/**
 * Mistakes a cell's repetitions make alike: the category of the first attempt of each step's first
 * run (a recovery's `-r2` run starts from the manager's advice, so it is not a first try), grouped by
 * cell and step, for categories of at least 2 repetitions (src/analysis/taxonomy.ts). `of` is every
 * repetition of the cell whose step finished a first attempt, a first try that succeeded included.
 */
export function cellRepeatedMistakes(
  runs: readonly RunRecord[],
  failures: readonly FailureRecord[],
): Summary['repeatedMistakes'] {
  const firstFailures = new Map<string, FailureRecord>();
  for (const f of failures) if (f.attempt === 1) firstFailures.set(`${f.plan}\0${f.stepRun}`, f);
  const firstAttempts: FirstAttempt[] = [];
  const groups = new Map<string, { cell: string; step: string; repetitions: Set<number> }>();
  for (const run of runs) {
    const seen = new Set<string>();
    for (const step of run.results.steps) {
      if (seen.has(step.step)) continue;
      seen.add(step.step);
      // A step run that never finished an attempt has no first try to compare.
      if (!attemptsOf(step).some((h) => h.attempt === 1)) continue;
      const group = `${run.cell}/${step.step}`;
      const where = groups.get(group) ?? { cell: run.cell, step: step.step, repetitions: new Set() };
      where.repetitions.add(run.repetition);
      groups.set(group, where);
      const failure = firstFailures.get(`${run.plan}\0${step.name}`);
      if (failure) firstAttempts.push({ group, repetition: run.repetition, category: failure.category });
    }
  }
  return repeatedMistakes(firstAttempts).map((m) => {
    const where = groups.get(m.group)!;
    return {
      cell: where.cell,
      step: where.step,
      category: m.category,
      label: CATEGORY_LABELS[m.category],
      repetitions: m.repetitions,
      of: where.repetitions.size,
    };
  });
}
