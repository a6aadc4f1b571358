import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  analyzedSummary,
  experimentSummary,
  HOSTILE,
  lonePlanSummary,
  optimizationSummary,
} from '../../test/report/fixture.ts';
import { reportCharts } from './charts.ts';
import { escapeHtml, SECTIONS } from './html.ts';
import { reportHtml, writeReport } from './index.ts';

/** Whether the page has a part, with the part as the assertion's message instead of the whole page. */
const has = (text: string, part: string | RegExp): boolean =>
  typeof part === 'string' ? text.includes(part) : part.test(text);

const count = (text: string, part: string): number => text.split(part).length - 1;

/** The page without the artifacts' text (<pre> blocks and the common lines' <code>), which may name URLs. */
const outsideArtifacts = (html: string): string =>
  html
    .replace(/<pre\b[^>]*>[\s\S]*?<\/pre>/g, '<pre></pre>')
    .replace(/<code>[\s\S]*?<\/code>/g, '<code></code>');

// The analysis of the experiment fixtures, and the hand-made experiment (facets by model, more cells).
const SUMMARIES = [
  { name: 'analysis', summary: analyzedSummary },
  { name: 'hand-made', summary: experimentSummary },
];

describe.each(SUMMARIES)('report.html of the $name summary', ({ summary: make }) => {
  it('escapes model-written artifacts: markup in them is text', async () => {
    const html = await reportHtml(make());
    expect(html.includes(HOSTILE), 'the raw markup').toBe(false);
    expect(html.includes('<img'), 'an <img> element').toBe(false);
    expect(html.match(/<\/script/g), 'a </script> tag').toBeNull();
    // In the artifact and in its diff against the first repetition.
    expect(count(html, `LABEL note=&quot;${escapeHtml(HOSTILE)}&quot;`)).toBeGreaterThanOrEqual(2);
    expect(html.includes(`+LABEL note=&quot;${escapeHtml(HOSTILE)}&quot;`), 'the diff line').toBe(true);
  });

  it('has every section, a chart for each figure the experiment has, and a how-to line per chart', async () => {
    const summary = make();
    const html = await reportHtml(summary);
    for (const [id] of SECTIONS) expect(html.includes(`<section id="${id}">`), id).toBe(true);
    const charts = reportCharts(summary);
    // A similarity map for each cell and step with two successful artifacts or more; the change
    // chart when a Dockerfile changed between attempts.
    const changed = summary.changes.some((c) => c.firstChangedInstruction !== undefined);
    expect(charts.length).toBe(
      5 + (changed ? 1 : 0) + summary.consistency.filter((c) => c.plans.length > 1).length,
    );
    for (const chart of charts) {
      const drawn = new RegExp(
        `<figure class="chart" id="chart-${chart.id}"[^>]*>\\s*<figcaption>[^<]*</figcaption>\\s*<svg`,
      );
      expect(drawn.test(html), `${chart.id} is drawn`).toBe(true);
    }
    expect(html.match(/How to read this:/g)?.length).toBe(charts.length);
    expect(has(html, `<title>Experiment ${summary.experiment}</title>`)).toBe(true);
    expect(has(html, '3 of 3 repetitions')).toBe(true);
    expect(has(html, '<a href="attempts.csv">attempts.csv</a>')).toBe(true);
    expect(has(html, '<a href="summary.json">summary.json</a>')).toBe(true);
    expect(html.match(/<details class="cell-artifacts">/g)?.length).toBe(
      new Set(summary.artifacts.map((a) => a.cell)).size,
    );
    // Vega numbers clip paths from 1 in every view: the page's ids must still be unique.
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is self-contained: no script, stylesheet, font or image to fetch', async () => {
    const html = await reportHtml(make());
    expect(has(html, /<script/i)).toBe(false);
    expect(has(html, /<link/i)).toBe(false);
    expect(has(html, /<img/i)).toBe(false);
    expect(has(html, /@import|url\(\s*['"]?(https?:|\/\/)/i)).toBe(false);
    expect(has(html, /\s(src|href|xlink:href)="(https?:)?\/\//i)).toBe(false);
    // Outside the artifacts' text no address at all, not even an SVG namespace.
    expect(has(outsideArtifacts(html), /https?:/i)).toBe(false);
  });
});

describe('report.html', () => {
  it('says so where a lone plan has nothing to draw, and names the page as asked', async () => {
    const html = await reportHtml(lonePlanSummary(), { title: 'LAMMPS <once>' });
    expect(has(html, '<title>LAMMPS &lt;once&gt;</title>')).toBe(true);
    for (const [id] of SECTIONS) expect(html.includes(`<section id="${id}">`), id).toBe(true);
    expect(has(html, 'No failed attempts')).toBe(true);
    expect(has(html, 'No failure category recurred')).toBe(true);
    expect(has(html, 'nothing to compare')).toBe(true);
    expect(has(html, 'No stage times recorded')).toBe(true);
    expect(has(html, 'nothing to say about the build cache')).toBe(true);
    expect(has(html, 'No model calls recorded')).toBe(true);
    expect(has(html, 'No step run has two attempts with an artifact')).toBe(true);
    expect(has(html, 'data-chart="change-keywords"')).toBe(false);
    expect(has(html, 'data-chart="failure-bars"')).toBe(false);
    expect(has(html, 'data-chart="similarity-0"')).toBe(false);
    expect(has(html, 'data-chart="success-matrix"')).toBe(true);
    expect(has(html, 'data-chart="attempts-histogram"')).toBe(true);
  });

  it('writes the page, the CSVs and summary.json into a new directory', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fractale-report-'));
    try {
      const dir = join(root, 'a', 'b');
      const summary = analyzedSummary();
      const { files } = await writeReport(summary, dir);
      expect(files.map((f) => f.slice(dir.length + 1))).toEqual([
        'report.html',
        'attempts.csv',
        'failures.csv',
        'calls.csv',
        'stages.csv',
        'summary.json',
      ]);
      expect(JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8'))).toEqual(
        JSON.parse(JSON.stringify(summary)),
      );
      const attempts = await readFile(join(dir, 'attempts.csv'), 'utf8');
      expect(attempts.split('\r\n').length).toBe(summary.attempts.length + 2);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('the changes section', () => {
  /** The page's section of that id. */
  const section = (html: string, id: string): string =>
    html.slice(
      html.indexOf(`<section id="${id}">`),
      html.indexOf('</section>', html.indexOf(`<section id="${id}">`)),
    );
  const LABEL = '<img src=x onerror=alert(1)>';

  it('comes after the failures, with the change chart and a table per cell', async () => {
    const summary = analyzedSummary();
    const ids = SECTIONS.map(([id]) => id);
    expect(ids.indexOf('changes')).toBe(ids.indexOf('failures') + 1);
    expect(SECTIONS[ids.indexOf('changes')]![1]).toBe('What changed between attempts');
    const html = section(await reportHtml(summary), 'changes');
    expect(has(html, '<h2>What changed between attempts</h2>')).toBe(true);
    expect(has(html, /<figure class="chart" id="chart-change-keywords"[^>]*data-mark="rect">/)).toBe(true);
    expect(html.match(/<h3>/g)?.length).toBe(2);
    expect(has(html, '<h3>lammps-specific</h3>')).toBe(true);
    expect(has(html, '<h3>lammps-vague</h3>')).toBe(true);
    // One row per change that changed lines (every change of the fixtures did).
    expect(html.match(/<tr><td>/g)?.length).toBe(summary.changes.length);
    // specific r2's link fix changed the fifth instruction, the last RUN; its job the 14th line.
    // The plan's name is the one the experiment derives from cell and repetition: not repeated.
    expect(html).toContain(
      '<tr><td>2</td><td>build</td><td class="n">1 \u2192 2</td><td class="n">2</td><td><code>RUN #5: cmake ../cmake -DPKG_REAXFF=on -DBUILD_MPI=on -DBUILD_OMP=on &amp;&amp; make -j4 &amp;&amp; make install</code></td><td>\u2014</td></tr>',
    );
    expect(html).toContain('<td><code>line 14: command: [&quot;mpirun&quot;, &quot;-np&quot;');
    expect(html.match(/<td>\u2014<\/td><\/tr>/g)?.length).toBe(summary.changes.length);
  });

  it("renders model-written labels and instructions as text, clipped, a recovery's step run named", async () => {
    const summary = analyzedSummary();
    const [first, second, third] = summary.changes;
    first!.label = LABEL;
    second!.firstChanged = `image: x ${HOSTILE} ${'y'.repeat(200)}`;
    third!.stepRun = `${third!.plan}-${third!.step}-r2`;
    third!.linesChanged = 0;
    const html = section(await reportHtml(summary), 'changes');
    expect(has(html, '<img')).toBe(false);
    expect(has(html, '</script')).toBe(false);
    expect(html).toContain(`<td>${escapeHtml(LABEL)}</td></tr>`);
    const clipped = /<code>line 14: image: x ([^<]*)<\/code>/.exec(html)?.[1];
    expect(clipped).toBeDefined();
    expect(clipped!.startsWith(escapeHtml(HOSTILE))).toBe(true);
    expect(clipped!.endsWith('y\u2026')).toBe(true);
    // 120 characters shown, the ellipsis included.
    const shown = `line 14: image: x ${clipped!.replace(escapeHtml(HOSTILE), HOSTILE)}`;
    expect(Array.from(shown)).toHaveLength(120);
    // An unchanged resubmission is counted, not listed.
    expect(html).toContain(
      '1 retry resubmitted the previous attempt\u2019s artifact unchanged (not listed).',
    );
    expect(html.match(/<tr><td>/g)?.length).toBe(summary.changes.length - 1);
    third!.linesChanged = 2;
    third!.plan = 'by-hand';
    const again = section(await reportHtml(summary), 'changes');
    expect(again).toContain(`<td>${third!.step} (${third!.stepRun})</td>`);
    // A plan not named after its cell and repetition is named.
    expect(again).toContain(`<tr><td>${third!.repetition} (by-hand)</td>`);
  });

  it('says so when no Dockerfile changed, and lists the other changes', async () => {
    const summary = analyzedSummary();
    summary.changes = summary.changes.filter((c) => c.firstChangedInstruction === undefined);
    const html = section(await reportHtml(summary), 'changes');
    expect(has(html, 'data-chart="change-keywords"')).toBe(false);
    expect(has(html, 'No Dockerfile changed between attempts')).toBe(true);
    expect(html.match(/<tr><td>/g)?.length).toBe(summary.changes.length);
  });
});

describe('the optimization section', () => {
  const section = (html: string, id: string): string =>
    html.slice(
      html.indexOf(`<section id="${id}">`),
      html.indexOf('</section>', html.indexOf(`<section id="${id}">`)),
    );

  it('comes after the time per stage, with a chart per figure and a table per step run', async () => {
    const sections = SECTIONS.map(([id]) => id);
    expect(sections.indexOf('optimization')).toBe(sections.indexOf('stages') + 1);
    expect(SECTIONS[sections.indexOf('optimization')]![1]).toBe('Optimization');
    const summary = optimizationSummary();
    const page = await reportHtml(summary);
    const html = section(page, 'optimization');
    expect(has(html, '<h2>Optimization</h2>')).toBe(true);
    // Two figures: solve time (amg2023) and timesteps/s (two lammps step runs, one chart of two panels).
    expect(
      html.match(/<figure class="chart" id="chart-optimization-\d+"[^>]*data-mark="symbol">/g),
    ).toHaveLength(2);
    expect(html).toContain(
      '<figcaption>Optimization of solve time (s) · tuning-amg2023-r1-optimize</figcaption>',
    );
    expect(html).toContain('<figcaption>Optimization of timesteps/s, per step run</figcaption>');
    expect(html.match(/How to read this:/g)).toHaveLength(2);
    expect(html.match(/<h3>/g)).toHaveLength(3);
    expect(html).toContain('<h3>tuning-lammps-r1-optimize</h3>');
    expect(html).toContain(
      '<p>timesteps/s, higher is better; baseline 100 \u2192 best 305 (\u00d73.05, attempt 2); 3 trials: 1 kept, 1 reverted, 1 failed; the step succeeded</p>',
    );
    expect(html).toContain(
      '<p class="how">Stopped: Trial 3 failed (RunFailed); the next starts from the best; stopping: 2 trial(s) in a row did not beat the best (plateau 2)</p>',
    );
    // A row per trial; the reverted one with its figures and why, its diff in a <details>.
    expect(html.match(/<tr><td class="n">\d+<\/td>/g)).toHaveLength(summary.optimization.length);
    expect(html).toContain(
      '<tr><td class="n">2</td><td>Add OMP_NUM_THREADS=2 and the OPENMP suffix (-sf omp)<span class="meta">Two threads per rank may use the hyperthreads the ranks leave idle.</span></td>' +
        '<td class="n">311 \u00b1 16<span class="meta">302 \u00b7 311 \u00b7 318</span></td>' +
        '<td>reverted<span class="meta">reverted: 311 against the best 305 (a gain of 6 is within the noise 16)</span></td>' +
        '<td><details><summary>attempt 2 \u2192 3</summary><pre class="diff"><span class="file">+++ attempt-3</span><span class="hunk">@@ -16,3 +16,6 @@</span>',
    );
    expect(html).toContain('<tr><td class="n">0</td><td>baseline (the starting manifest)</td>');
    // The failed trial has no figure; its change comes from its manifest.
    expect(html).toContain(
      '<tr><td class="n">3</td><td>Use the KOKKOS package with 2 threads per rank (-k on t 2 -sf kk)<span class="meta">KOKKOS has a faster ReaxFF pair style than the default one.</span></td><td class="n">\u2014</td><td>failed',
    );
    // The data files list optimization.csv with a row per trial.
    expect(section(page, 'data')).toContain(
      `<a href="optimization.csv">optimization.csv</a> — ${summary.optimization.length} rows; columns: <code>plan, cell,`,
    );
    // Still self-contained, its ids unique.
    expect(has(page, /<script|<link|<img/i)).toBe(false);
    expect(has(outsideArtifacts(page), /https?:/i)).toBe(false);
    const ids = [...page.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('renders a model-written change and diff as text', async () => {
    const html = section(await reportHtml(optimizationSummary()), 'optimization');
    expect(has(html, HOSTILE)).toBe(false);
    expect(has(html, '<img')).toBe(false);
    expect(has(html, '</script')).toBe(false);
    expect(html).toContain(`<td>Pin each rank to a core ${escapeHtml(HOSTILE)}<span class="meta">`);
    expect(html).toContain(`<span class="add">+          # ${escapeHtml(HOSTILE)}</span>`);
    // And the figure name, as the step's context wrote it.
    const summary = optimizationSummary();
    for (const p of summary.optimization) if (p.plan === 'tuning-amg2023-r1') p.figure = `s ${HOSTILE}`;
    const again = await reportHtml(summary);
    expect(has(again, HOSTILE)).toBe(false);
    expect(has(again, '<img')).toBe(false);
  });

  it('says so when no run has an optimize step, or a step measured no baseline', async () => {
    const page = await reportHtml(analyzedSummary());
    expect(section(page, 'optimization')).toContain('<p class="empty">No optimize step in these runs.</p>');
    expect(has(page, 'data-chart="optimization-')).toBe(false);
    expect(has(page, 'optimization.csv')).toBe(false);
    const summary = optimizationSummary();
    const stepRun = 'tuning-amg2023-r1-optimize';
    summary.optimization = summary.optimization.filter((p) => p.stepRun !== stepRun);
    const row = summary.optimizations.find((o) => o.stepRun === stepRun)!;
    Object.assign(row, { status: 'Failed', trials: 0, kept: 0, reverted: 0, failed: 0 });
    delete row.baseline;
    delete row.best;
    delete row.ratio;
    delete row.bestAttempt;
    const html = section(await reportHtml(summary), 'optimization');
    expect(html.match(/<figure /g)).toHaveLength(1);
    expect(html).toContain(
      '<h3>tuning-amg2023-r1-optimize</h3>\n<p>solve time (s), lower is better; no baseline; 0 trials: 0 kept, 0 reverted, 0 failed; the step failed</p>',
    );
    expect(html).toContain('No trial was measured');
  });

  it('writes optimization.csv next to the page', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fractale-report-'));
    try {
      const summary = optimizationSummary();
      const { files } = await writeReport(summary, root);
      expect(files.map((f) => f.slice(root.length + 1))).toEqual([
        'report.html',
        'attempts.csv',
        'failures.csv',
        'calls.csv',
        'stages.csv',
        'optimization.csv',
        'summary.json',
      ]);
      const csv = await readFile(join(root, 'optimization.csv'), 'utf8');
      expect(csv.split(/\r\n(?=tuning-)/)).toHaveLength(summary.optimization.length + 1);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters of markup', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
