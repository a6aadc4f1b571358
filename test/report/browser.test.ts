// The report in a real browser: headless Chromium (Debian's package, driven by puppeteer-core) opens
// report.html from disk, with no network, and must log no error, raise no page error, and draw every
// chart's data marks. Full-page screenshots are left in test-results/ (report.png: the analysis of the
// experiment fixtures) for a human to look at.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import type { Summary } from '../../src/analysis/types.ts';
import { reportCharts } from '../../src/report/charts.ts';
import { writeReport } from '../../src/report/index.ts';
import { analyzedSummary, experimentSummary, HOSTILE } from './fixture.ts';

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
        const dir = join(RESULTS, c.dir);
        const summary = c.summary();
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

        await mkdir(RESULTS, { recursive: true });
        // Open every <details> so the screenshot shows the artifacts and their diffs too.
        await page.$$eval('details', (all) => {
          for (const d of all) d.setAttribute('open', '');
        });
        const screenshot = join(RESULTS, c.screenshot);
        await page.screenshot({ path: screenshot, fullPage: true });
        expect(existsSync(screenshot)).toBe(true);
        await page.close();
      } finally {
        await browser.close();
      }
    },
    TIMEOUT * 2,
  );
});
