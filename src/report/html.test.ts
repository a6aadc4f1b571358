import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzedSummary, experimentSummary, HOSTILE, lonePlanSummary } from '../../test/report/fixture.ts';
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
    // A similarity map for each cell and step with two successful artifacts or more.
    expect(charts.length).toBe(5 + summary.consistency.filter((c) => c.plans.length > 1).length);
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

describe('escapeHtml', () => {
  it('escapes the five characters of markup', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
