// The report in a real browser: headless Chromium (Debian's package, driven by puppeteer-core) opens
// report.html from disk, with no network, and must log no error, raise no page error, and draw every
// chart's data marks. Full-page screenshots are left in test-results/ (report.png: the analysis of the
// experiment fixtures; report-optimization.png: the optimize steps of a tuning experiment) for a human
// to look at.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import type { Summary } from '../../src/analysis/types.ts';
import { reportCharts } from '../../src/report/charts.ts';
import { writeReport } from '../../src/report/index.ts';
import { analyzedSummary, experimentSummary, HOSTILE, optimizationSummary } from './fixture.ts';

const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const RESULTS = resolve(import.meta.dirname, '../../test-results');
const TIMEOUT = 60_000;

interface ChartMarks {
  id: string;
  mark: string;
  /** Elements inside the chart's `g.mark-<mark>.role-mark` groups. */
  marks: number;
  width: number;
  height: number;
}

/** Debian's Chromium, or a failure that says how to install it (a missing browser is not a skip). */
async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install Debian's package with \`apt-get update && apt-get install -y chromium\` (or set CHROMIUM to the executable)`,
    );
  }
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // A container has no user namespaces for the sandbox and no GPU.
    args: ['--no-sandbox', '--headless=new', '--disable-gpu'],
    timeout: TIMEOUT,
  });
}

/** Writes the report of `summary` into test-results/<dir>, opens it, and reads its charts' marks. */
async function openReport(browser: Browser, summary: Summary, name: string) {
  const dir = join(RESULTS, name);
  await writeReport(summary, dir);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error}`));
  page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()}`));
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.setViewport({ width: 1200, height: 900 });
  const url = pathToFileURL(join(dir, 'report.html')).href;
  await page.goto(url, { waitUntil: 'load', timeout: TIMEOUT });
  await page.waitForSelector('figure.chart svg', { timeout: TIMEOUT });
  const charts: ChartMarks[] = await page.$$eval('figure.chart', (figures) =>
    figures.map((figure) => {
      const mark = figure.getAttribute('data-mark') ?? '';
      const svg = figure.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      return {
        id: figure.getAttribute('data-chart') ?? '',
        mark,
        marks: svg
          ? svg.querySelectorAll(`g.mark-${mark}.role-mark > :is(path, rect, text, line)`).length
          : 0,
        width: box?.width ?? 0,
        height: box?.height ?? 0,
      };
    }),
  );
  return { page, errors, requests, url, charts };
}

/** Opens every <details> and leaves a full-page screenshot in test-results/. */
async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(RESULTS, { recursive: true });
  await page.$$eval('details', (all) => {
    for (const d of all) d.setAttribute('open', '');
  });
  const path = join(RESULTS, name);
  await page.screenshot({ path, fullPage: true });
  expect(existsSync(path)).toBe(true);
}

/** A model-written change label, as --analyze could write it: it must render as text. */
const LABEL = '<img src=x onerror=alert(1)>';

/** The analysis of the fixtures, with a hostile label on its first change. */
function labelledAnalysis(): Summary {
  const summary = analyzedSummary();
  summary.changes[0]!.label = LABEL;
  return summary;
}

const KEYWORDS = ['RUN', 'RUN', 'COPY', 'RUN', 'FROM', 'ENV', 'RUN', 'WORKDIR'];

/**
 * The hand-made experiment with a change for each retry its attempts record (it has none of its
 * own): instructions of several kinds over two applications, some labelled, one label hostile.
 */
function handMadeWithChanges(): Summary {
  const summary = experimentSummary();
  summary.changes = summary.attempts
    .filter((a) => a.changedLines !== undefined)
    .map(({ stepRun, agent, attempt, changedLines, ...rest }, i) => {
      const keyword = KEYWORDS[i % KEYWORDS.length]!;
      return {
        plan: rest.plan,
        cell: rest.cell,
        application: rest.application,
        variant: rest.variant,
        model: rest.model,
        repetition: rest.repetition,
        key: `change-${i}`,
        step: rest.step,
        stepRun,
        agent,
        fromAttempt: attempt - 1,
        toAttempt: attempt,
        linesChanged: changedLines!,
        firstChanged: `${keyword} ${i % 5 === 0 ? HOSTILE : 'apt-get install -y --no-install-recommends ca-certificates'}`,
        firstChangedInstruction: keyword,
        firstChangedIndex: i % 6,
        ...(i % 3 === 0 ? { label: i === 0 ? LABEL : 'added a library' } : {}),
      };
    });
  return summary;
}

const CASES = [
  // The analysis of the experiment fixtures: what a real report draws (every kind of chart).
  { name: 'analysis', summary: labelledAnalysis, dir: 'report', screenshot: 'report.png' },
  // The hand-made experiment: facets by model, many cells.
  {
    name: 'hand-made',
    summary: handMadeWithChanges,
    dir: 'report-fixture',
    screenshot: 'report-fixture.png',
  },
];

describe('report.html in headless Chromium', () => {
  it.each(CASES)(
    '$name: loads from file:// without errors, draws every chart and leaves a screenshot',
    async (c) => {
      const browser = await launch();
      try {
        const summary = c.summary();
        const { page, errors, requests, url, charts } = await openReport(browser, summary, c.dir);
        expect(charts.map((chart) => chart.id)).toEqual(reportCharts(summary).map((chart) => chart.id));
        // Every kind of chart is there (a cell with one success has no similarity map).
        expect(new Set(charts.map((chart) => chart.id.replace(/-\d+$/, '')))).toEqual(
          new Set([
            'success-matrix',
            'attempts-histogram',
            'failure-bars',
            'change-keywords',
            'similarity',
            'stage-times',
            'build-cache',
          ]),
        );
        for (const chart of charts) {
          expect(chart.marks, `${chart.id} draws ${chart.mark} marks`).toBeGreaterThan(0);
          expect(chart.width, `${chart.id} has a width`).toBeGreaterThan(50);
          expect(chart.height, `${chart.id} has a height`).toBeGreaterThan(50);
        }
        // The heat-maps print their values: a text mark per square.
        const matrixTexts = await page.$$eval(
          '[data-chart="success-matrix"] g.mark-text.role-mark > text',
          (texts) => texts.length,
        );
        expect(matrixTexts).toBe(summary.cells.length);

        // The model-written markup in an artifact is text in the page, not an element.
        expect(await page.$$eval('img', (images) => images.length)).toBe(0);
        const artifactText = await page.$$eval('pre.artifact', (pres) =>
          pres.map((p) => p.textContent).join('\n'),
        );
        expect(artifactText).toContain('</script><img src=x onerror=alert(1)>');
        // So is a change's label, in the table of what changed between attempts.
        const changeCells = await page.$$eval('#changes td', (cells) => cells.map((td) => td.textContent));
        expect(changeCells).toContain(LABEL);
        expect(await page.$$eval('#changes table', (tables) => tables.length)).toBe(
          new Set(summary.changes.filter((c) => c.linesChanged > 0).map((c) => c.cell)).size,
        );
        // One bar segment per instruction keyword and application.
        const segments = new Set(
          summary.changes.flatMap((c) =>
            c.firstChangedInstruction ? [`${c.firstChangedInstruction}/${c.application}`] : [],
          ),
        ).size;
        expect(
          await page.$$eval(
            '[data-chart="change-keywords"] g.mark-rect.role-mark > path',
            (paths) => paths.length,
          ),
        ).toBe(segments);

        // Nothing was fetched but the page itself.
        expect(requests).toEqual([url]);
        expect(errors).toEqual([]);

        await screenshot(page, c.screenshot);
        await page.close();
      } finally {
        await browser.close();
      }
    },
    TIMEOUT * 2,
  );

  it(
    'optimization: draws the trajectory of the optimize steps, their tables and diffs, without errors',
    async () => {
      const browser = await launch();
      try {
        const summary = optimizationSummary();
        const { page, errors, requests, url, charts } = await openReport(
          browser,
          summary,
          'report-optimization',
        );
        expect(charts.map((chart) => chart.id)).toEqual(reportCharts(summary).map((chart) => chart.id));
        for (const chart of charts) {
          expect(chart.marks, `${chart.id} draws ${chart.mark} marks`).toBeGreaterThan(0);
          expect(chart.width, `${chart.id} has a width`).toBeGreaterThan(50);
          expect(chart.height, `${chart.id} has a height`).toBeGreaterThan(50);
        }
        // A chart per figure name: solve time (one step run), timesteps/s (two, a panel each).
        const optimization = charts.filter((chart) => chart.id.startsWith('optimization-'));
        expect(optimization.map((chart) => chart.id)).toEqual(['optimization-0', 'optimization-1']);
        for (const [i, figure] of ['solve time (s)', 'timesteps/s'].entries()) {
          const chart = `[data-chart="optimization-${i}"]`;
          const rows = summary.optimization.filter((p) => p.figure === figure);
          const runs = new Set(rows.map((p) => p.stepRun)).size;
          // A point per trial (failed ones as crosses on the line of the best so far).
          expect(optimization[i]!.marks, figure).toBe(rows.length);
          // The stepped line of the best so far, once per panel.
          expect(
            await page.$$eval(`${chart} g.mark-line.role-mark > path`, (paths) => paths.length),
            figure,
          ).toBe(runs);
          // An error bar (min to max of the repetitions) per measured trial.
          expect(
            await page.$$eval(`${chart} g.mark-rule.role-mark > line`, (lines) => lines.length),
            figure,
          ).toBe(rows.filter((p) => p.min !== undefined).length);
          const legend = await page.$$eval(`${chart} g.role-legend text`, (texts) =>
            texts.map((t) => t.textContent),
          );
          expect(legend).toEqual(expect.arrayContaining(['baseline', 'kept', 'reverted', 'failed']));
        }

        // A table per step run, a row per trial; the model-written change and diff are text.
        expect(await page.$$eval('#optimization table', (tables) => tables.length)).toBe(
          summary.optimizations.length,
        );
        expect(await page.$$eval('#optimization tbody tr', (rows) => rows.length)).toBe(
          summary.optimization.length,
        );
        expect(await page.$$eval('img', (images) => images.length)).toBe(0);
        const cells = await page.$$eval('#optimization td', (tds) => tds.map((td) => td.textContent ?? ''));
        expect(cells.some((text) => text.startsWith(`Pin each rank to a core ${HOSTILE}`))).toBe(true);
        const diffs = await page.$$eval('#optimization details pre.diff', (pres) =>
          pres.map((p) => p.textContent ?? ''),
        );
        expect(diffs).toHaveLength(summary.optimization.filter((p) => p.diff !== undefined).length);
        expect(diffs.join('\n')).toContain(`+          # ${HOSTILE}`);

        expect(requests).toEqual([url]);
        expect(errors).toEqual([]);
        await screenshot(page, 'report-optimization.png');
        await page.close();
      } finally {
        await browser.close();
      }
    },
    TIMEOUT * 2,
  );
});
