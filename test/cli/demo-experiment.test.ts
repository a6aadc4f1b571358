// `fractale demo experiment` headless: the demo's 18 plans run on the simulated cluster with the
// scripted model, the report is written, the headline figures are printed, nothing is left running,
// and a second run tells the same story.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Summary } from '../../src/analysis/types.ts';
import { fractale, tempDir, testIO } from './io.ts';

const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

/** Each plan's attempts per step, as the summary has them: the story a run of the demo tells. */
const story = (summary: Summary) =>
  summary.runs.map((run) => {
    const steps = ['build', 'run'].map(
      (step) => summary.attempts.filter((a) => a.plan === run.plan && a.step === step).length,
    );
    return `${run.plan} ${steps.join('/')} ${run.status}`;
  });

describe('fractale demo experiment', () => {
  it('runs 18 plans, writes the report, prints the headline and stops everything; a second run is the same', async () => {
    const before = servers();
    const results = tempDir();
    const result = await fractale(['demo', 'experiment', '--results', results], testIO());
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toContain(
      'fractale demo experiment: demo/experiment.yaml, 6 cells (lammps, amg2023, mpi-hello × vague, specific) × 3 repetitions',
    );
    expect(out).toContain('AgentExperiment demo: Completed, 18/18 plans ended (18 succeeded, 0 failed)');
    expect(out).toContain('Plans: 18, succeeded 18 (100 %)');
    expect(out).toMatch(
      /repeated mistake: lammps-vague build starts with "TLS \/ CA certificates" in 3 of 3 repetitions/,
    );
    expect(out).toContain(`Report: ${join(results, 'report.html')}`);
    for (const file of [
      'report.html',
      'attempts.csv',
      'failures.csv',
      'calls.csv',
      'stages.csv',
      'summary.json',
    ])
      expect(existsSync(join(results, file)), file).toBe(true);
    const url = /Cluster: simulated at (\S+)/.exec(out)?.[1];
    await expect(fetch(`${url}/version`)).rejects.toThrow();
    expect(servers()).toBe(before);

    const again = tempDir();
    const second = await fractale(['demo', 'experiment', '--results', again], testIO());
    expect(second.code, second.stderr).toBe(0);
    const first = JSON.parse(readFileSync(join(results, 'summary.json'), 'utf8')) as Summary;
    const next = JSON.parse(readFileSync(join(again, 'summary.json'), 'utf8')) as Summary;
    expect(story(next)).toEqual(story(first));
    expect(next.failures.map((f) => `${f.plan} ${f.step} ${f.attempt} ${f.category}`)).toEqual(
      first.failures.map((f) => `${f.plan} ${f.step} ${f.attempt} ${f.category}`),
    );
  }, 300_000);

  it('through the installed command: the report in one temporary folder, emptied by each run', async () => {
    const tmp = tempDir('fractale-demo-tmp-');
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(import.meta.dirname, '../../bin/fractale.js'), 'demo', 'experiment'],
      { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp }, timeout: 240_000 },
    );
    expect(stderr).not.toMatch(/Warning:|\(node:\d+\)|EBADENGINE/);
    const folder = join(tmp, 'fractale-demo-experiment');
    expect(stdout).toContain(`Report: ${join(folder, 'report.html')}`);
    expect(readdirSync(folder).sort()).toEqual([
      'attempts.csv',
      'calls.csv',
      'failures.csv',
      'report.html',
      'stages.csv',
      'summary.json',
    ]);
    expect(stdout.trimEnd().split('\n').at(-1)).toBe(
      'The simulated cluster is stopped; run `npm run demo -- experiment --keep` to explore it with kubectl',
    );
  }, 300_000);
});
