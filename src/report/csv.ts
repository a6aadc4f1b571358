// Tidy CSVs of a Summary: one row per observation, a header row, RFC 4180 (CRLF line ends; a field
// with a comma, a double quote or a line break is quoted, its quotes doubled), for pandas and R.
// Columns come in a fixed order (below), camelCase names written snake_case; numbers are written as
// JavaScript prints them (unformatted), undefined and null as an empty field.
import type {
  AttemptRow,
  CallRecord,
  FailureRecord,
  OptimizationPointRow,
  StageRecord,
  Summary,
} from '../analysis/types.ts';

/** Where a row sits, and how its plan ended (to filter by outcome without a join): the first columns of every file. */
const KEY = ['plan', 'cell', 'application', 'variant', 'model', 'repetition', 'planStatus'] as const;

/** attempts.csv: one row per attempt of a step run. */
export const ATTEMPT_COLUMNS = [
  ...KEY,
  'step',
  'stepRun',
  'agent',
  'attempt',
  'outcome',
  'reason',
  'category',
  'seconds',
  'tokens',
  'modelCalls',
  'changedLines',
] as const satisfies readonly (keyof AttemptRow)[];

/** failures.csv: one row per failed attempt. */
export const FAILURE_COLUMNS = [
  ...KEY,
  'step',
  'stepRun',
  'agent',
  'attempt',
  'reason',
  'category',
  'label',
  'evidence',
  'message',
] as const satisfies readonly (keyof FailureRecord)[];

/** calls.csv: one row per model call. */
export const CALL_COLUMNS = [
  ...KEY,
  'step',
  'stepRun',
  'agent',
  'attempt',
  'promptTokens',
  'outputTokens',
  'totalTokens',
  'seconds',
] as const satisfies readonly (keyof CallRecord)[];

/** stages.csv: one row per stage of an attempt. */
export const STAGE_COLUMNS = [
  ...KEY,
  'step',
  'stepRun',
  'agent',
  'attempt',
  'stage',
  'seconds',
] as const satisfies readonly (keyof StageRecord)[];

/** optimization.csv: one row per trial of an optimize step run (`figures` space-separated). */
export const OPTIMIZATION_COLUMNS = [
  ...KEY,
  'step',
  'stepRun',
  'figure',
  'direction',
  'trial',
  'attempt',
  'from',
  'outcome',
  'repetitions',
  'figures',
  'median',
  'spread',
  'min',
  'max',
  'bestSoFar',
  'change',
  'reason',
  'message',
  'diff',
] as const satisfies readonly (keyof OptimizationPointRow)[];

// A field added to a row type must be given a column: these fail to compile when one is missing.
type Missing<Row, Columns extends readonly unknown[]> = Exclude<keyof Row, Columns[number]>;
const complete: [
  Missing<AttemptRow, typeof ATTEMPT_COLUMNS>,
  Missing<FailureRecord, typeof FAILURE_COLUMNS>,
  Missing<CallRecord, typeof CALL_COLUMNS>,
  Missing<StageRecord, typeof STAGE_COLUMNS>,
  Missing<OptimizationPointRow, typeof OPTIMIZATION_COLUMNS>,
] extends [never, never, never, never, never]
  ? true
  : never = true;
void complete;

/** `stepRun` → `step_run`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

/** One field, quoted only when it must be. */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : String(value);
  return /[",\r\n]/.test(text) ? '"' + text.replaceAll('"', '""') + '"' : text;
}

/** A CSV with a header of `columns` (snake_case) and one line per row. */
export function toCsv<Row extends object>(
  rows: readonly Row[],
  columns: readonly (keyof Row & string)[],
): string {
  const lines = [columns.map((c) => csvField(snakeCase(c))).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}

/**
 * Whether a summary has optimization.csv: only when a run has an optimize step, so a report of
 * runs without one has the same files as before optimize steps existed.
 */
export function hasOptimizationCsv(summary: Summary): boolean {
  return summary.optimizations.length > 0;
}

/** The tidy files of a summary, by file name: four, and optimization.csv when a run has an optimize step. */
export function summaryCsvs(summary: Summary): Record<string, string> {
  return {
    'attempts.csv': toCsv(summary.attempts, ATTEMPT_COLUMNS),
    'failures.csv': toCsv(summary.failures, FAILURE_COLUMNS),
    'calls.csv': toCsv(summary.calls, CALL_COLUMNS),
    'stages.csv': toCsv(summary.stages, STAGE_COLUMNS),
    ...(hasOptimizationCsv(summary)
      ? {
          'optimization.csv': toCsv(
            summary.optimization.map((row) => ({ ...row, figures: row.figures.join(' ') })),
            OPTIMIZATION_COLUMNS,
          ),
        }
      : {}),
  };
}

/** The header of each file, for the report's list of data files. */
export const CSV_COLUMNS: Record<string, readonly string[]> = {
  'attempts.csv': ATTEMPT_COLUMNS.map(snakeCase),
  'failures.csv': FAILURE_COLUMNS.map(snakeCase),
  'calls.csv': CALL_COLUMNS.map(snakeCase),
  'stages.csv': STAGE_COLUMNS.map(snakeCase),
  'optimization.csv': OPTIMIZATION_COLUMNS.map(snakeCase),
};
