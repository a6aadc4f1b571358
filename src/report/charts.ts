// The report's charts as Vega-Lite specs, one small function per chart, each reading only the
// Summary. A function returns undefined when it has nothing to draw: the page then says so.
import type { TopLevelSpec } from 'vega-lite';
import { compareText } from '../analysis/stats.ts';
import type { CellConsistency, Stage, Summary } from '../analysis/types.ts';

export interface Chart {
  /** Unique in the page; also the prefix of the SVG's ids. */
  id: string;
  title: string;
  /** The Vega mark type of the chart's data marks (class `mark-<mark>` in the SVG), for the tests. */
  mark: 'rect' | 'symbol' | 'text';
  /** One line on how to read the chart, printed under it. */
  how: string;
  spec: TopLevelSpec;
}

/** An absent axis value (a cell with no variant or model) as charts label it. */
export const NONE = '(none)';

/** What a facet repeats: a unit or a layered spec. */
type FacetedSpec = Extract<TopLevelSpec, { facet: unknown }>['spec'];

const STAGES: Stage[] = ['generate', 'build', 'deploy', 'run', 'validate', 'diagnose', 'human'];

const CONFIG: TopLevelSpec['config'] = {
  background: 'white',
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 220 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
  header: { labelFontSize: 12, titleFontSize: 12 },
};

const percent = (rate: number): string => `${Math.round(rate * 100)}%`;

/** Success rate per cell: application × variant, faceted by model when the experiment has models. */
export function successMatrix(summary: Summary): Chart | undefined {
  if (summary.cells.length === 0) return undefined;
  const values = summary.cells.map((c) => ({
    application: c.application,
    variant: c.variant || NONE,
    model: c.model || NONE,
    rate: c.successRate,
    label: `${percent(c.successRate)} (${c.succeeded}/${c.runs})`,
  }));
  const cell = {
    width: { step: 110 },
    height: { step: 36 },
    encoding: {
      x: {
        field: 'variant',
        type: 'nominal',
        title: 'variant',
        sort: order(summary.axes.variants),
        axis: { labelAngle: 0 },
      },
      y: { field: 'application', type: 'nominal', title: 'application', sort: summary.axes.applications },
    },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: {
            field: 'rate',
            type: 'quantitative',
            title: 'success rate',
            scale: { domain: [0, 1], scheme: 'blues' },
            legend: { format: '.0%' },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'label', type: 'nominal' },
          color: { condition: { test: 'datum.rate > 0.6', value: 'white' }, value: 'black' },
        },
      },
    ],
  } satisfies FacetedSpec;
  const spec: TopLevelSpec =
    summary.axes.models.length > 0
      ? {
          config: CONFIG,
          data: { values },
          facet: {
            column: { field: 'model', type: 'nominal', title: 'model', sort: order(summary.axes.models) },
          },
          spec: cell,
        }
      : { config: CONFIG, data: { values }, ...cell };
  return {
    id: 'success-matrix',
    title: 'Success rate per cell',
    mark: 'rect',
    how: 'Each square is a cell of the matrix; darker is more runs succeeded. The label gives the rate and succeeded/runs.',
    spec,
  };
}

/** How many attempts the successful runs of each cell took, one small histogram per cell. */
export function attemptsHistogram(summary: Summary): Chart | undefined {
  const cells = summary.cells.filter((c) => c.attempts.n > 0);
  if (cells.length === 0) return undefined;
  const max = Math.max(...cells.map((c) => c.attempts.max));
  const width = Math.max(120, 22 * max);
  // Every cell gets every count from 1 to the most attempts, so empty bins read as zero, not as missing.
  const values = cells.flatMap((c) =>
    Array.from({ length: max }, (_, i) => ({
      cell: c.name,
      attempts: i + 1,
      count: c.attempts.histogram.find((h) => h.value === i + 1)?.count ?? 0,
    })),
  );
  return {
    id: 'attempts-histogram',
    title: 'Attempts to success per cell',
    mark: 'rect',
    how: 'Each panel is a cell; a bar counts the successful runs that needed that many attempts. Bars to the left mean fewer retries.',
    spec: {
      config: CONFIG,
      data: { values },
      facet: { field: 'cell', type: 'nominal', title: null, sort: cells.map((c) => c.name) },
      // As many panels to a row as fit the page's ~1000 px.
      columns: Math.max(1, Math.min(4, Math.floor(1000 / (width + 60)))),
      spec: {
        width,
        height: 90,
        mark: { type: 'bar', color: '#4c78a8' },
        encoding: {
          x: { field: 'attempts', type: 'ordinal', title: 'attempts', axis: { labelAngle: 0 } },
          y: { field: 'count', type: 'quantitative', title: 'runs', axis: { tickMinStep: 1 } },
        },
      },
    },
  };
}

/** Failed attempts per application, stacked by failure category. */
export function failureBars(summary: Summary): Chart | undefined {
  const values = summary.failureCounts.filter((f) => f.count > 0);
  if (values.length === 0) return undefined;
  return {
    id: 'failure-bars',
    title: 'Failure categories per application',
    mark: 'rect',
    how: "A bar is an application's failed attempts, split by what went wrong; a long segment is a category the agent hit often.",
    spec: {
      config: CONFIG,
      data: { values },
      width: 480,
      height: { step: 28 },
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'application', type: 'nominal', title: 'application', sort: summary.axes.applications },
        x: {
          field: 'count',
          type: 'quantitative',
          aggregate: 'sum',
          stack: 'zero',
          title: 'failed attempts',
          // Counts: whole ticks only.
          axis: { tickMinStep: 1, format: 'd' },
        },
        color: {
          field: 'label',
          type: 'nominal',
          title: 'failure category',
          legend: { orient: 'bottom', columns: 2 },
        },
      },
    },
  };
}

/**
 * Where the agents change a Dockerfile when they retry: per instruction keyword (FROM, RUN, COPY, ...)
 * of the first instruction that differs from the previous attempt's, how many retries, by application.
 * Other artifacts' changes have no keyword and are left out (the page's table lists them).
 */
export function changeKeywords(summary: Summary): Chart | undefined {
  const counts = new Map<string, { keyword: string; application: string; count: number }>();
  const totals = new Map<string, number>();
  for (const c of summary.changes) {
    const keyword = c.firstChangedInstruction;
    if (keyword === undefined) continue;
    const id = `${keyword}\0${c.application}`;
    const entry = counts.get(id) ?? { keyword, application: c.application, count: 0 };
    entry.count += 1;
    counts.set(id, entry);
    totals.set(keyword, (totals.get(keyword) ?? 0) + 1);
  }
  if (counts.size === 0) return undefined;
  // Most frequent keyword on top; ties by name, so the order does not depend on the runs'.
  const keywords = [...totals].sort((a, b) => b[1] - a[1] || compareText(a[0], b[0])).map(([k]) => k);
  const applications = summary.axes.applications.filter((a) =>
    [...counts.values()].some((v) => v.application === a),
  );
  return {
    id: 'change-keywords',
    title: 'First changed Dockerfile instruction per retry',
    mark: 'rect',
    how: 'A bar counts the retries whose Dockerfile first differs from the previous attempt\u2019s at an instruction of that kind, split by application. A long RUN bar means the agents fix install and build commands; FROM means they switch the base image, which rebuilds every layer. Changes to manifests and scripts have no instruction and are only in the table.',
    spec: {
      config: CONFIG,
      data: { values: [...counts.values()] },
      width: 420,
      height: { step: 26 },
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'keyword', type: 'nominal', title: 'instruction', sort: keywords },
        x: {
          field: 'count',
          type: 'quantitative',
          aggregate: 'sum',
          stack: 'zero',
          title: 'retries',
          axis: { tickMinStep: 1, format: 'd' },
        },
        color: {
          field: 'application',
          type: 'nominal',
          title: 'application',
          sort: applications,
          legend: { orient: 'bottom' },
        },
      },
    },
  };
}

/** The chart id of `summary.consistency[index]`. */
export const similarityId = (index: number): string => `similarity-${index}`;

/** How alike a cell's successful artifacts are: Jaccard similarity, repetition × repetition. */
export function similarityHeatmap(
  summary: Summary,
  consistency: CellConsistency,
  index: number,
): Chart | undefined {
  if (consistency.plans.length < 2) return undefined;
  const labels = consistency.plans.map((plan) => repetitionLabel(summary, plan));
  const values = consistency.matrix.flatMap((row, i) =>
    row.map((value, j) => ({ a: labels[i], b: labels[j], value })),
  );
  return {
    id: similarityId(index),
    title: `${consistency.cell} · ${consistency.step}`,
    mark: 'rect',
    how: 'A square compares two repetitions\u2019 final artifacts: 1 = the same lines, 0 = none in common. Dark everywhere means the agent converges on one answer.',
    spec: {
      config: CONFIG,
      data: { values },
      width: { step: 44 },
      height: { step: 32 },
      encoding: {
        x: { field: 'b', type: 'nominal', title: null, sort: labels, axis: { labelAngle: 0, orient: 'top' } },
        y: { field: 'a', type: 'nominal', title: null, sort: labels },
      },
      layer: [
        {
          mark: { type: 'rect' },
          encoding: {
            color: {
              field: 'value',
              type: 'quantitative',
              title: 'similarity',
              scale: { domain: [0, 1], scheme: 'greens' },
            },
          },
        },
        {
          mark: { type: 'text', fontSize: 10 },
          encoding: {
            text: { field: 'value', type: 'quantitative', format: '.2f' },
            color: { condition: { test: 'datum.value > 0.6', value: 'white' }, value: 'black' },
          },
        },
      ],
    },
  };
}

/** Seconds per stage of an attempt, a box per stage, a panel per application. */
export function stageBoxplot(summary: Summary): Chart | undefined {
  if (summary.stages.length === 0) return undefined;
  const values = summary.stages.map((s) => ({
    application: s.application,
    stage: s.stage,
    seconds: s.seconds,
  }));
  const stages = STAGES.filter((stage) => values.some((v) => v.stage === stage));
  return {
    id: 'stage-times',
    title: 'Seconds per stage of an attempt',
    mark: 'rect',
    how: 'A box spans the middle half of the attempts\u2019 seconds in that stage, the line inside is the median, the whiskers reach the fastest and slowest.',
    spec: {
      config: CONFIG,
      data: { values },
      facet: {
        column: {
          field: 'application',
          type: 'nominal',
          title: 'application',
          sort: summary.axes.applications,
        },
      },
      spec: {
        width: { step: 34 },
        height: 200,
        mark: { type: 'boxplot', extent: 'min-max' },
        encoding: {
          x: { field: 'stage', type: 'nominal', title: 'stage', sort: stages, axis: { labelAngle: -40 } },
          y: { field: 'seconds', type: 'quantitative', title: 'seconds' },
          color: { field: 'stage', type: 'nominal', sort: stages, legend: null },
        },
      },
    },
  };
}

/** Build seconds against how early the Dockerfile first changed: the layer cache at work. */
export function buildCacheScatter(summary: Summary): Chart | undefined {
  if (summary.buildCache.length === 0) return undefined;
  const values = summary.buildCache.map((b) => ({
    application: b.application,
    variant: b.variant || NONE,
    firstChangedIndex: b.firstChangedIndex,
    buildSeconds: b.buildSeconds,
  }));
  return {
    id: 'build-cache',
    title: 'Build time against the first changed Dockerfile instruction',
    mark: 'symbol',
    how: 'A point is a rebuild after a retry. Changing an early instruction (left) invalidates more cached layers, so points should fall from left to right.',
    spec: {
      config: CONFIG,
      data: { values },
      width: 420,
      height: 240,
      mark: { type: 'point', filled: true, size: 70, opacity: 0.8 },
      encoding: {
        x: {
          field: 'firstChangedIndex',
          type: 'quantitative',
          title: 'index of the first changed instruction (0 = first)',
          axis: { tickMinStep: 1 },
        },
        y: { field: 'buildSeconds', type: 'quantitative', title: 'build seconds' },
        color: { field: 'application', type: 'nominal', title: 'application' },
        shape: { field: 'variant', type: 'nominal', title: 'variant' },
      },
    },
  };
}

/** The chart id of the optimization chart of the `index`-th figure name. */
export const optimizationId = (index: number): string => `optimization-${index}`;

/** The outcomes of a trial in legend order, with their colour and shape. */
const OUTCOMES = [
  ['baseline', '#4c78a8', 'circle'],
  ['kept', '#2ca02c', 'circle'],
  ['reverted', '#f58518', 'circle'],
  ['failed', '#d62728', 'cross'],
] as const;

/** The figure names of the summary's optimize steps, in the order first seen. */
export function optimizationFigures(summary: Summary): string[] {
  return [...new Set(summary.optimization.map((p) => p.figure))];
}

/**
 * The trajectory of the optimize steps that measure one figure: x the trial, y the figure; the best
 * so far as a stepped line, each trial's median as a point coloured by its outcome, the range of
 * its repetitions as an error bar. A failed trial measured nothing: its cross sits on the line.
 * One panel per step run when several measure the figure.
 */
export function optimizationChart(summary: Summary, figure: string, index: number): Chart | undefined {
  const rows = summary.optimization.filter((p) => p.figure === figure && p.bestSoFar !== undefined);
  if (rows.length === 0) return undefined;
  const runs = [...new Set(rows.map((p) => p.stepRun))];
  const directions = new Set(rows.map((p) => p.direction));
  const better = directions.size === 1 ? ` (${[...directions][0]} is better)` : '';
  const values = rows.map((p) => ({
    run: p.stepRun,
    trial: p.trial,
    outcome: p.outcome,
    // A failed trial is drawn at the best so far, which it did not move.
    shown: p.median ?? p.bestSoFar,
    bestSoFar: p.bestSoFar,
    ...(p.min !== undefined && p.max !== undefined ? { min: p.min, max: p.max } : {}),
  }));
  const trials = [...new Set(rows.map((p) => p.trial))].sort((a, b) => a - b);
  const x = {
    field: 'trial',
    type: 'ordinal',
    title: 'trial (0 = baseline)',
    sort: trials,
    axis: { labelAngle: 0 },
  } as const;
  const layer = {
    width: runs.length > 1 ? 360 : 520,
    height: runs.length > 1 ? 200 : 260,
    layer: [
      {
        mark: { type: 'line', interpolate: 'step-after', color: '#888', strokeWidth: 1.5 },
        encoding: {
          x,
          y: { field: 'bestSoFar', type: 'quantitative', title: `${figure}${better}` },
        },
      },
      {
        transform: [{ filter: 'isValid(datum.min)' }],
        mark: { type: 'errorbar', ticks: { size: 10 }, color: '#555' },
        encoding: {
          x,
          y: { field: 'min', type: 'quantitative', title: `${figure}${better}` },
          y2: { field: 'max' },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 90, opacity: 0.9 },
        encoding: {
          x,
          y: { field: 'shown', type: 'quantitative', title: `${figure}${better}` },
          color: {
            field: 'outcome',
            type: 'nominal',
            title: 'outcome',
            scale: { domain: OUTCOMES.map(([o]) => o), range: OUTCOMES.map(([, c]) => c) },
          },
          shape: {
            field: 'outcome',
            type: 'nominal',
            title: 'outcome',
            scale: { domain: OUTCOMES.map(([o]) => o), range: OUTCOMES.map(([, , s]) => s) },
          },
        },
      },
    ],
  } satisfies FacetedSpec;
  const spec: TopLevelSpec =
    runs.length > 1
      ? {
          config: CONFIG,
          data: { values },
          facet: { field: 'run', type: 'nominal', title: null, sort: runs },
          columns: 2,
          spec: layer,
        }
      : { config: CONFIG, data: { values }, ...layer };
  return {
    id: optimizationId(index),
    title: `Optimization of ${figure}${runs.length > 1 ? ', per step run' : ` · ${runs[0]}`}`,
    mark: 'symbol',
    how:
      'x is the trial (0 is the baseline, the manifest as it started), y the figure. A point is a trial\u2019s median over its repetitions, its bar the slowest to the fastest repetition (the noise); ' +
      'its colour says what the agent did with it: kept (the new best), reverted (not better by more than the noise) or failed (the run failed and measured nothing: its red cross sits on the line). ' +
      'The stepped line is the best so far: it moves only at a kept trial, so a reverted point can sit beyond it when its gain was within the noise.',
    spec,
  };
}

/** Every chart the summary has data for, in page order. */
export function reportCharts(summary: Summary): Chart[] {
  return [
    successMatrix(summary),
    attemptsHistogram(summary),
    failureBars(summary),
    changeKeywords(summary),
    ...summary.consistency.map((c, i) => similarityHeatmap(summary, c, i)),
    stageBoxplot(summary),
    buildCacheScatter(summary),
    ...optimizationFigures(summary).map((figure, i) => optimizationChart(summary, figure, i)),
  ].filter((c): c is Chart => c !== undefined);
}

/** "rep 2" for a plan of the experiment, else the plan's name. */
function repetitionLabel(summary: Summary, plan: string): string {
  const run = summary.runs.find((r) => r.plan === plan);
  return run ? `rep ${run.repetition}` : plan;
}

/** An axis's values in the matrix's order, with the absent value's label when there are none. */
function order(values: string[]): string[] {
  return values.length > 0 ? values : [NONE];
}
