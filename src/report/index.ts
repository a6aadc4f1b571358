// The research report of a Summary: report.html (one self-contained page of inline SVG charts and
// tables), the tidy CSVs it links to, and summary.json, all in one directory.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Summary } from '../analysis/types.ts';
import { reportCharts } from './charts.ts';
import { summaryCsvs } from './csv.ts';
import { buildPage, type PageOptions, type RenderedChart } from './html.ts';
import { renderSvg } from './render.ts';

export type { Chart } from './charts.ts';
export { CSV_COLUMNS, toCsv } from './csv.ts';
export { escapeHtml } from './html.ts';

export type ReportOptions = PageOptions;

/** The charts of a summary rendered to SVG, in page order. */
export async function renderCharts(summary: Summary): Promise<RenderedChart[]> {
  const charts = reportCharts(summary);
  // One at a time: a Vega view is cheap, and the order of ids stays that of the page.
  const rendered: RenderedChart[] = [];
  for (const chart of charts) rendered.push({ ...chart, svg: await renderSvg(chart.spec, chart.id) });
  return rendered;
}

/** report.html's text. */
export async function reportHtml(summary: Summary, options: ReportOptions = {}): Promise<string> {
  return buildPage(summary, await renderCharts(summary), options);
}

/**
 * Writes report.html, attempts.csv, failures.csv, calls.csv, stages.csv, optimization.csv (when a run
 * has an optimize step) and summary.json into `dir`.
 */
export async function writeReport(
  summary: Summary,
  dir: string,
  options: ReportOptions = {},
): Promise<{ files: string[] }> {
  await mkdir(dir, { recursive: true });
  const contents: Record<string, string> = {
    'report.html': await reportHtml(summary, options),
    ...summaryCsvs(summary),
    'summary.json': JSON.stringify(summary, null, 2) + '\n',
  };
  const files: string[] = [];
  for (const [name, text] of Object.entries(contents)) {
    const path = join(dir, name);
    await writeFile(path, text);
    files.push(path);
  }
  return { files };
}
