// The report page: one self-contained HTML file (inline CSS and SVG, no script, no external resource)
// assembled from the Summary and the charts already rendered to SVG. Every text from the summary is
// escaped: names, reasons and artifacts are model-written or user-written, never markup.
import { createTwoFilesPatch } from 'diff';
import type {
  CellConsistency,
  CellSummary,
  ChangeRecord,
  FinalArtifact,
  OptimizationPointRow,
  OptimizationSummaryRow,
  Summary,
} from '../analysis/types.ts';
import type { Chart } from './charts.ts';
import { optimizationFigures, optimizationId, similarityId } from './charts.ts';
import { CSV_COLUMNS, hasOptimizationCsv } from './csv.ts';

export interface RenderedChart extends Chart {
  svg: string;
}

export interface PageOptions {
  title?: string;
}

/** The sections of the page, in order: id and heading. */
export const SECTIONS = [
  ['headline', 'Headline'],
  ['matrix', 'Success per cell'],
  ['attempts', 'Attempts to success'],
  ['failures', 'Failures'],
  ['changes', 'What changed between attempts'],
  ['consistency', 'Consistency of the final artifacts'],
  ['stages', 'Time per stage and the build cache'],
  ['optimization', 'Optimization'],
  ['tokens', 'Tokens and cost'],
  ['artifacts', 'Final artifacts'],
  ['data', 'Data files'],
] as const;

type SectionId = (typeof SECTIONS)[number][0];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text as HTML text or attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** The page's title: the caller's, else the experiment's name. */
export function pageTitle(summary: Summary, options: PageOptions = {}): string {
  if (options.title) return options.title;
  return summary.experiment ? `Experiment ${summary.experiment}` : 'Fractale report';
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;max-width:1100px;margin:1.5em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}h3{margin-bottom:.3em}
.meta,.how,.empty{color:#555}.how{font-size:.9em;margin:.3em 0 1em}.empty{font-style:italic}
nav ol{display:flex;flex-wrap:wrap;gap:.3em 1.2em;padding:0;list-style:none;font-size:.9em}
.headline{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:.6em;margin:0}
.headline div{border:1px solid #ddd;border-radius:4px;padding:.4em .7em}.headline dt{font-size:.8em;color:#555}
.headline dd{margin:0;font-size:1.3em;font-weight:600}
figure{margin:1em 0;break-inside:avoid}figcaption{font-weight:600;margin-bottom:.3em}figure svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}th,td{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f7f7f7;border:1px solid #e3e3e3;padding:.5em;white-space:pre-wrap;word-break:break-word;font-size:.85em;margin:.3em 0}
.changes table{width:100%}.changes th:nth-child(5){width:50%}.diff span{display:block}.diff .add{background:#e6ffec}.diff .del{background:#ffebe9}.diff .hunk{color:#6a737d}
.optimization td .meta{display:block;font-size:.85em}.optimization td:nth-child(2){max-width:420px}
.grid{display:flex;flex-wrap:wrap;gap:0 2.5em}.grid>div{flex:0 1 480px;min-width:0}
details{margin:.4em 0}summary{cursor:pointer}details>div{margin-left:1em}
@media print{body{max-width:none;margin:0}nav{display:none}a{color:inherit}}
`;

/** The whole page. `charts` are the rendered charts by id; a section without its chart says why. */
export function buildPage(
  summary: Summary,
  charts: readonly RenderedChart[],
  options: PageOptions = {},
): string {
  const byId = new Map(charts.map((c) => [c.id, c]));
  const title = pageTitle(summary, options);
  const sections: Record<SectionId, string> = {
    headline: headline(summary),
    matrix: matrix(summary, byId),
    attempts: attempts(summary, byId),
    failures: failures(summary, byId),
    changes: changes(summary, byId),
    consistency: consistency(summary, byId),
    stages: stages(byId),
    optimization: optimization(summary, byId),
    tokens: tokens(summary),
    artifacts: artifacts(summary),
    data: data(summary),
  };
  const body = SECTIONS.map(
    ([id, heading]) => `<section id="${id}">\n<h2>${escapeHtml(heading)}</h2>\n${sections[id]}\n</section>`,
  ).join('\n');
  const meta = [
    summary.experiment ? `experiment <strong>${escapeHtml(summary.experiment)}</strong>` : 'a single plan',
    `generated ${escapeHtml(summary.generated)}`,
    axisLine('applications', summary.axes.applications),
    axisLine('variants', summary.axes.variants),
    axisLine('models', summary.axes.models),
  ].filter(Boolean);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${meta.join(' · ')}</p>
<nav><ol>${SECTIONS.map(([id, heading]) => `<li><a href="#${id}">${escapeHtml(heading)}</a></li>`).join('')}</ol></nav>
</header>
${body}
</body>
</html>
`;
}

function axisLine(name: string, values: string[]): string {
  return values.length > 0 ? `${name}: ${values.map(escapeHtml).join(', ')}` : '';
}

function headline(summary: Summary): string {
  const h = summary.headline;
  const figures: [string, string][] = [
    ['runs', integer(h.runs)],
    ['succeeded', `${integer(h.succeeded)} (${percent(h.successRate)})`],
    ['median attempts to success', h.succeeded > 0 ? number(h.medianAttempts) : '—'],
    ['tokens', integer(h.tokens)],
  ];
  if (h.dollars !== undefined) figures.push(['dollars', dollars(h.dollars)]);
  figures.push([
    'top failure category',
    h.topFailure ? `${h.topFailure.label} (${integer(h.topFailure.count)})` : 'no failures',
  ]);
  return `<dl class="headline">${figures
    .map(([name, value]) => `<div><dt>${escapeHtml(name)}</dt><dd>${escapeHtml(value)}</dd></div>`)
    .join('')}</dl>`;
}

function matrix(summary: Summary, charts: Map<string, RenderedChart>): string {
  if (summary.cells.length === 0) return empty('No runs: the summary has no cells.');
  // An axis the experiment does not vary gets no column.
  const varies = { variant: summary.axes.variants.length > 0, model: summary.axes.models.length > 0 };
  const all: [string, (c: CellSummary) => Cell][] = [
    ['cell', (c) => text(c.name)],
    ['application', (c) => text(c.application)],
    ['variant', (c) => text(c.variant)],
    ['model', (c) => text(c.model)],
    ['runs', (c) => num(integer(c.runs))],
    ['succeeded', (c) => num(integer(c.succeeded))],
    ['success rate', (c) => num(percent(c.successRate))],
    ['median attempts', (c) => num(c.attempts.n > 0 ? number(c.attempts.median) : '')],
    ['recoveries', (c) => num(integer(c.recoveries))],
    ['returns to human', (c) => num(integer(c.returnsToHuman))],
  ];
  const columns = all.filter(([name]) => !(name === 'variant' || name === 'model') || varies[name]);
  return (
    figure(charts.get('success-matrix')) +
    table(
      columns.map(([name]) => name),
      summary.cells.map((c) => columns.map(([, cell]) => cell(c))),
    )
  );
}

function attempts(summary: Summary, charts: Map<string, RenderedChart>): string {
  const chart = charts.get('attempts-histogram');
  if (!chart) return empty('No run succeeded, so there are no attempts to success to count.');
  const single = summary.cells.every((c) => c.attempts.n <= 1);
  return (
    figure(chart) +
    (single ? empty('Each cell has at most one successful run: a histogram per cell is a single bar.') : '')
  );
}

function failures(summary: Summary, charts: Map<string, RenderedChart>): string {
  const chart = charts.get('failure-bars');
  const parts = [chart ? figure(chart) : empty('No failed attempts: nothing to categorise.')];
  parts.push('<h3>Repeated mistakes</h3>');
  const withSteps = summary.repeatedMistakes.some((m) => m.step !== undefined);
  if (summary.repeatedMistakes.length === 0) {
    parts.push(empty('No failure category recurred across the repetitions of a cell.'));
  } else {
    parts.push(
      '<p class="how">A category that recurs in every repetition of a cell is a mistake the agent makes systematically, not by chance.</p>',
      table(
        withSteps ? ['cell', 'step', 'category', 'repetitions'] : ['cell', 'category', 'repetitions'],
        summary.repeatedMistakes.map((m) => [
          text(m.cell),
          ...(withSteps ? [text(m.step ?? '')] : []),
          text(m.label),
          text(`${m.repetitions} of ${m.of} repetitions`),
        ]),
      ),
    );
  }
  return parts.join('\n');
}

/** The longest text of a change the table shows, in characters; summary.json has the whole. */
const CLIP = 120;

function changes(summary: Summary, charts: Map<string, RenderedChart>): string {
  if (summary.changes.length === 0) {
    return empty(
      'No step run has two attempts with an artifact (every step succeeded at once, or kept no artifacts): nothing to compare.',
    );
  }
  const chart = charts.get('change-keywords');
  const parts = [
    chart ? figure(chart) : empty('No Dockerfile changed between attempts: no instruction to count.'),
  ];
  const changed = summary.changes.filter((c) => c.linesChanged > 0);
  const same = summary.changes.length - changed.length;
  if (same > 0) {
    parts.push(
      empty(
        `${same} retr${same === 1 ? 'y' : 'ies'} resubmitted the previous attempt\u2019s artifact unchanged (not listed).`,
      ),
    );
  }
  if (changed.length === 0) return parts.join('\n');
  parts.push('<div class="changes">');
  parts.push(
    '<p class="how">One row per retry whose artifact differs from the previous attempt\u2019s of the same step run. ' +
      '<em>First change</em> is the first Dockerfile instruction that differs, as its keyword and position (RUN #2 is the second instruction), or the first differing line of a manifest or script (blank lines not counted); ' +
      'the layers of a Dockerfile before it can come from the build cache. The label is a model\u2019s name for the change, written by <code>--analyze</code>; \u2014 when there is none.</p>',
  );
  const cells = [...new Set([...summary.cells.map((c) => c.name), ...changed.map((c) => c.cell)])];
  const quiet: string[] = [];
  for (const cell of cells) {
    const own = changed.filter((c) => c.cell === cell);
    if (own.length === 0) {
      if (summary.cells.some((c) => c.name === cell)) quiet.push(cell);
      continue;
    }
    parts.push(
      `<h3>${escapeHtml(cell)}</h3>`,
      table(
        ['repetition', 'step', 'attempts', 'lines changed', 'first change', 'label'],
        own.map((c) => [
          text(runName(summary, c)),
          text(c.stepRun === `${c.plan}-${c.step}` ? c.step : `${c.step} (${c.stepRun})`),
          num(`${c.fromAttempt} \u2192 ${c.toAttempt}`),
          num(integer(c.linesChanged)),
          firstChange(c),
          text(c.label ?? '\u2014'),
        ]),
      ),
    );
  }
  parts.push('</div>');
  if (quiet.length > 0) parts.push(empty(`No retry changed an artifact in: ${quiet.join(', ')}.`));
  return parts.join('\n');
}

/**
 * A change's run in its cell's table: the repetition, and the plan's name unless it is the one the
 * experiment derives from the cell and repetition (`<experiment>-<cell>-r<N>`).
 */
function runName(summary: Summary, change: ChangeRecord): string {
  const derived =
    summary.experiment !== undefined &&
    change.plan === `${summary.experiment}-${change.cell}-r${change.repetition}`;
  return derived ? String(change.repetition) : `${change.repetition} (${change.plan})`;
}

/** `RUN #2: apt-get install …` (1-based position), `line 13: command: …`, clipped, as escaped code. */
function firstChange(change: ChangeRecord): Cell {
  const { firstChanged, firstChangedIndex, firstChangedInstruction: keyword } = change;
  if (firstChanged === undefined || firstChangedIndex === undefined)
    return `<span class="empty">whitespace or comments only</span>`;
  const position = firstChangedIndex + 1;
  // A Dockerfile's instruction text starts with its keyword (src/analysis/artifact.ts): not repeated.
  const rest =
    keyword !== undefined && firstChanged.startsWith(keyword)
      ? firstChanged.slice(keyword.length).trim()
      : firstChanged;
  const where = keyword !== undefined ? `${keyword} #${position}` : `line ${position}`;
  const shown = rest === '' ? where : `${where}: ${rest}`;
  return `<code>${escapeHtml(clip(shown, CLIP))}</code>`;
}

/** At most `max` characters (code points, so no surrogate pair is cut), with … when cut. */
function clip(value: string, max: number): string {
  const chars = Array.from(value);
  return chars.length <= max ? value : `${chars.slice(0, max - 1).join('')}\u2026`;
}

function consistency(summary: Summary, charts: Map<string, RenderedChart>): string {
  const drawn = summary.consistency.filter((_, i) => charts.has(similarityId(i)));
  if (drawn.length === 0) {
    return empty(
      'No cell has two successful artifacts of a step (one repetition, or at most one success): nothing to compare.',
    );
  }
  const parts = summary.consistency.map((entry, i) => {
    const chart = charts.get(similarityId(i));
    const body = chart
      ? figure(chart) + meanLine(entry) + commonLines(entry)
      : `<h3>${escapeHtml(entry.cell)} · ${escapeHtml(entry.step)}</h3>` +
        empty(`${entry.plans.length} successful artifact(s): nothing to compare.`);
    return `<div>${body}</div>`;
  });
  return `<div class="grid">\n${parts.join('\n')}\n</div>`;
}

function meanLine(entry: CellConsistency): string {
  return entry.mean === undefined
    ? ''
    : `<p>Mean similarity between repetitions: <strong>${number(entry.mean)}</strong></p>`;
}

function commonLines(entry: CellConsistency): string {
  if (entry.commonLines.length === 0) return '';
  const of = entry.plans.length;
  return table(
    ['most common final lines', 'artifacts with it'],
    entry.commonLines.map((l) => [`<code>${escapeHtml(l.line)}</code>`, num(`${l.count} of ${of}`)]),
  );
}

function stages(charts: Map<string, RenderedChart>): string {
  const box = charts.get('stage-times');
  const scatter = charts.get('build-cache');
  return [
    box ? figure(box) : empty('No stage times recorded.'),
    scatter
      ? figure(scatter)
      : empty('No rebuild after a changed Dockerfile: nothing to say about the build cache.'),
  ].join('\n');
}

function optimization(summary: Summary, charts: Map<string, RenderedChart>): string {
  if (summary.optimizations.length === 0) return empty('No optimize step in these runs.');
  const parts = optimizationFigures(summary).map((_, i) => figure(charts.get(optimizationId(i))));
  parts.push(
    '<div class="optimization">',
    '<p class="how">One table per optimize step run, a row per trial: the model\u2019s change (and, below it, why it expected it to help), the median of the trial\u2019s repetitions \u00b1 their range with each repetition\u2019s figure, what the agent did with it and why, and the diff of the trial\u2019s manifest from the best one it changed.</p>',
  );
  for (const run of summary.optimizations) {
    const trials = summary.optimization.filter((p) => p.plan === run.plan && p.stepRun === run.stepRun);
    parts.push(`<h3>${escapeHtml(run.stepRun)}</h3>`, `<p>${escapeHtml(optimizationLine(run))}</p>`);
    if (run.stopReason !== undefined) parts.push(`<p class="how">Stopped: ${escapeHtml(run.stopReason)}</p>`);
    if (trials.length === 0) {
      parts.push(empty('No trial was measured: the starting manifest gave no figure.'));
      continue;
    }
    parts.push(
      table(
        ['trial', 'change', 'median \u00b1 spread', 'outcome', 'diff'],
        trials.map((t) => [
          num(String(t.trial)),
          changeCell(t),
          figureCell(t),
          `${escapeHtml(t.outcome)}${t.message !== undefined ? `<span class="meta">${escapeHtml(t.message)}</span>` : ''}`,
          t.diff !== undefined
            ? `<details><summary>attempt ${t.from ?? '?'} \u2192 ${t.attempt}</summary>${diffPre(t.diff)}</details>`
            : '\u2014',
        ]),
      ),
    );
  }
  parts.push('</div>');
  return parts.join('\n');
}

/** `timesteps/s, higher is better; baseline 100 → best 305 (×3.05, attempt 2); 3 trials: 1 kept, ...`. */
function optimizationLine(run: OptimizationSummaryRow): string {
  const parts = [`${run.figure}, ${run.direction} is better`];
  if (run.baseline !== undefined) {
    const extra = [
      run.ratio !== undefined ? `\u00d7${number(run.ratio)}` : '',
      run.bestAttempt !== undefined ? `attempt ${run.bestAttempt}` : '',
    ].filter(Boolean);
    parts.push(
      `baseline ${figureNumber(run.baseline)} \u2192 best ${figureNumber(run.best ?? run.baseline)}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`,
    );
  } else parts.push('no baseline');
  parts.push(
    `${run.trials} trial${run.trials === 1 ? '' : 's'}: ${run.kept} kept, ${run.reverted} reverted, ${run.failed} failed`,
    `the step ${run.status.toLowerCase()}`,
  );
  return parts.join('; ');
}

function changeCell(t: OptimizationPointRow): Cell {
  const change = t.trial === 0 ? 'baseline (the starting manifest)' : (t.change ?? '\u2014');
  return `${escapeHtml(clip(change, 500))}${t.reason !== undefined ? `<span class="meta">${escapeHtml(clip(t.reason, 1000))}</span>` : ''}`;
}

function figureCell(t: OptimizationPointRow): Cell {
  if (t.median === undefined) return num('\u2014');
  const main = `${figureNumber(t.median)} \u00b1 ${figureNumber(t.spread ?? 0)}`;
  return {
    html: `${escapeHtml(main)}<span class="meta">${escapeHtml(t.figures.map(figureNumber).join(' \u00b7 '))}</span>`,
    numeric: true,
  };
}

/** A figure with at most 4 significant digits, as the optimize agent prints it. */
function figureNumber(value: number): string {
  return Math.abs(value) >= 1e6 || (Math.abs(value) < 1e-3 && value !== 0)
    ? value.toExponential(3)
    : String(Number(value.toPrecision(4)));
}

function tokens(summary: Summary): string {
  if (summary.tokens.length === 0) return empty('No model calls recorded.');
  const priced = summary.tokens.some((t) => t.dollars !== undefined);
  const header = [
    'cell',
    'calls',
    'prompt tokens',
    'output tokens',
    'total tokens',
    'succeeded',
    'tokens per success',
  ];
  if (priced) header.push('dollars', 'dollars per success', 'price in / out per million');
  const rows = summary.tokens.map((t) => {
    const row = [
      text(t.cell),
      num(integer(t.calls)),
      num(integer(t.promptTokens)),
      num(integer(t.outputTokens)),
      num(integer(t.totalTokens)),
      num(integer(t.succeeded)),
      num(t.tokensPerSuccess === undefined ? '' : integer(t.tokensPerSuccess)),
    ];
    if (priced) {
      row.push(
        num(t.dollars === undefined ? '' : dollars(t.dollars)),
        num(t.dollarsPerSuccess === undefined ? '' : dollars(t.dollarsPerSuccess)),
        num(t.price ? `${dollars(t.price.inputPerMillion)} / ${dollars(t.price.outputPerMillion)}` : ''),
      );
    }
    return row;
  });
  const note = priced
    ? ''
    : empty('No model of the experiment is in the price table: dollars are not known.');
  return table(header, rows) + note;
}

function artifacts(summary: Summary): string {
  if (summary.artifacts.length === 0) return empty('No final artifacts: no run succeeded.');
  const cells = [...new Set([...summary.cells.map((c) => c.name), ...summary.artifacts.map((a) => a.cell)])];
  const parts = [
    '<p class="how">Each cell lists every repetition\u2019s final artifact per step, with a unified diff against the first repetition\u2019s.</p>',
  ];
  for (const cell of cells) {
    const own = summary.artifacts.filter((a) => a.cell === cell);
    if (own.length === 0) continue;
    const steps = [...new Set(own.map((a) => a.step))];
    const body = steps.map((step) => stepArtifacts(own.filter((a) => a.step === step))).join('\n');
    parts.push(
      `<details class="cell-artifacts">\n<summary><strong>${escapeHtml(cell)}</strong> — ${own.length} artifact(s)</summary>\n<div>${body}</div>\n</details>`,
    );
  }
  return parts.join('\n');
}

function stepArtifacts(list: FinalArtifact[]): string {
  const sorted = [...list].sort((a, b) => a.repetition - b.repetition);
  const first = sorted[0]!;
  const items = sorted.map((a) => {
    const name = `repetition ${a.repetition} (${a.plan})`;
    const full = `<pre class="artifact">${escapeHtml(a.artifact)}</pre>`;
    if (a === first) return `<h4>${escapeHtml(name)}</h4>\n${full}`;
    // The diff shows what differs; the whole artifact is one click away.
    const diff =
      a.artifact === first.artifact
        ? `<p class="empty">Identical to repetition ${first.repetition}.</p>`
        : `<p>Diff against repetition ${first.repetition}:</p>${unifiedDiff(first, a)}`;
    return `<h4>${escapeHtml(name)}</h4>\n${diff}\n<details><summary>the whole artifact</summary>${full}</details>`;
  });
  return `<h3>${escapeHtml(first.step)} <span class="meta">(agent ${escapeHtml(first.agent)})</span></h3>\n${items.join('\n')}`;
}

/** A unified diff as escaped lines, each marked added, removed or hunk header for colour. */
export function unifiedDiff(from: FinalArtifact, to: FinalArtifact): string {
  const patch = createTwoFilesPatch(
    `repetition ${from.repetition} (${from.plan})`,
    `repetition ${to.repetition} (${to.plan})`,
    from.artifact,
    to.artifact,
    undefined,
    undefined,
    { context: 3, headerOptions: { includeIndex: false, includeUnderline: false, includeFileHeaders: true } },
  );
  return diffPre(patch);
}

/** A unified diff's text as an escaped <pre>, each line marked added, removed or hunk header for colour. */
function diffPre(patch: string): string {
  const lines = patch.replace(/\n$/, '').split('\n');
  const html = lines.map((line) => {
    const kind = line.startsWith('@@')
      ? 'hunk'
      : line.startsWith('+++') || line.startsWith('---')
        ? 'file'
        : line.startsWith('+')
          ? 'add'
          : line.startsWith('-')
            ? 'del'
            : 'ctx';
    return `<span class="${kind}">${escapeHtml(line) || ' '}</span>`;
  });
  return `<pre class="diff">${html.join('')}</pre>`;
}

function data(summary: Summary): string {
  const rows: Record<string, number> = {
    'attempts.csv': summary.attempts.length,
    'failures.csv': summary.failures.length,
    'calls.csv': summary.calls.length,
    'stages.csv': summary.stages.length,
    'optimization.csv': summary.optimization.length,
  };
  const written = Object.entries(CSV_COLUMNS).filter(
    ([file]) => file !== 'optimization.csv' || hasOptimizationCsv(summary),
  );
  const items = written.map(
    ([file, columns]) =>
      `<li><a href="${file}">${file}</a> — ${integer(rows[file] ?? 0)} rows; columns: <code>${columns.join(', ')}</code></li>`,
  );
  items.push('<li><a href="summary.json">summary.json</a> — the whole summary this page draws</li>');
  return `<p class="how">Tidy tables, one row per observation, next to this file (RFC 4180; read with <code>pandas.read_csv</code> or <code>read.csv</code>).</p>\n<ul>${items.join('\n')}</ul>`;
}

function figure(chart: RenderedChart | undefined): string {
  if (!chart) return '';
  return `<figure class="chart" id="chart-${escapeHtml(chart.id)}" data-chart="${escapeHtml(chart.id)}" data-mark="${chart.mark}">
<figcaption>${escapeHtml(chart.title)}</figcaption>
${chart.svg}
<p class="how"><strong>How to read this:</strong> ${escapeHtml(chart.how)}</p>
</figure>`;
}

function empty(message: string): string {
  return `<p class="empty">${escapeHtml(message)}</p>`;
}

/** Cells are HTML already: text() escapes a value, num() right-aligns an escaped number. */
type Cell = string | { html: string; numeric: true };

function text(value: string): Cell {
  return escapeHtml(value);
}

function num(value: string): Cell {
  return { html: escapeHtml(value), numeric: true };
}

function table(header: string[], rows: Cell[][]): string {
  const head = `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = rows
    .map(
      (row) =>
        `<tr>${row.map((c) => (typeof c === 'string' ? `<td>${c}</td>` : `<td class="n">${c.html}</td>`)).join('')}</tr>`,
    )
    .join('\n');
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function integer(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function number(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function percent(rate: number): string {
  return `${Math.round(rate * 100)}%`;
}

function dollars(value: number): string {
  return `$${value < 1 ? value.toFixed(4) : value.toFixed(2)}`;
}
