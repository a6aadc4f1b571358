import { describe, expect, it } from 'vitest';
import { loadRuns } from '../../test/fixtures/experiment/load.ts';
import { attemptRows, cellSummary, groupSummaries, runSummary } from './attempts.ts';
import { DEFAULT_PRICES } from './tokens.ts';

const runs = loadRuns();
const summaries = runs.map((r) => runSummary(r, DEFAULT_PRICES));
const byPlan = (plan: string) => summaries.find((s) => s.plan === `agents-${plan}`)!;

describe('run summaries', () => {
  it('count the attempts of every step run, recoveries included', () => {
    expect(summaries.map((s) => [s.plan, s.status, s.attempts])).toEqual([
      ['agents-lammps-specific-r1', 'Succeeded', 2],
      ['agents-lammps-specific-r2', 'Failed', 5],
      ['agents-lammps-vague-r1', 'Succeeded', 3],
      ['agents-lammps-vague-r2', 'Succeeded', 5],
      ['agents-lammps-vague-r3', 'Succeeded', 6],
    ]);
    expect(byPlan('lammps-vague-r3').recoveries).toBe(1);
    expect(byPlan('lammps-specific-r2').returnsToHuman).toBe(1);
  });

  it("count the steps' tokens and the manager's", () => {
    // vague r3: steps 11,490 tokens, the manager's recovery call 2,100.
    expect(byPlan('lammps-vague-r3').tokens).toBe(13590);
    expect(byPlan('lammps-specific-r1').tokens).toBe(2300);
    // (1,800 × 1.25 + 500 × 10) / 1e6
    expect(byPlan('lammps-specific-r1').dollars).toBeCloseTo(0.00725, 10);
    expect(runSummary(runs[0]!).dollars).toBeUndefined();
  });

  it("take the plan's own clock", () => {
    expect(byPlan('lammps-specific-r1').seconds).toBe(389);
  });
});

describe('cell summaries', () => {
  it('give attempts to success over the successful runs only', () => {
    const vague = cellSummary(summaries.filter((s) => s.cell === 'lammps-vague'));
    expect(vague).toMatchObject({
      name: 'lammps-vague',
      application: 'lammps',
      variant: 'vague',
      model: '',
      runs: 3,
      succeeded: 3,
      failed: 0,
      successRate: 1,
      recoveries: 1,
      returnsToHuman: 0,
      tokens: 30090,
      tokensPerSuccess: 10030,
    });
    expect(vague.attempts).toEqual({
      n: 3,
      min: 3,
      q1: 4,
      median: 5,
      q3: 5.5,
      max: 6,
      mean: 14 / 3,
      histogram: [
        { value: 3, count: 1 },
        { value: 5, count: 1 },
        { value: 6, count: 1 },
      ],
    });
    const specific = cellSummary(summaries.filter((s) => s.cell === 'lammps-specific'));
    expect(specific).toMatchObject({ runs: 2, succeeded: 1, failed: 1, successRate: 0.5, returnsToHuman: 1 });
    // The failed run's 5 attempts are not attempts to success.
    expect(specific.attempts).toMatchObject({ n: 1, median: 2, histogram: [{ value: 2, count: 1 }] });
    expect(specific.dollars).toBeCloseTo(0.036675, 10);
    expect(specific.dollarsPerSuccess).toBeCloseTo(0.036675, 10);
  });
});

describe('group summaries', () => {
  it('cover the axes that have values', () => {
    const groups = groupSummaries(summaries, {
      applications: ['lammps'],
      variants: ['specific', 'vague'],
      models: [],
    });
    expect(groups.map((g) => [g.axis, g.value, g.runs, g.succeeded, g.successRate])).toEqual([
      ['application', 'lammps', 5, 4, 0.8],
      ['variant', 'specific', 2, 1, 0.5],
      ['variant', 'vague', 3, 3, 1],
    ]);
    // numpy.percentile([2, 3, 5, 6], [25, 50, 75])
    expect(groups[0]!.attempts).toMatchObject({ n: 4, q1: 2.75, median: 4, q3: 5.25 });
  });
});

describe('attempt rows', () => {
  const rows = attemptRows(runs);

  it('have one row per attempt of every step run', () => {
    expect(rows).toHaveLength(21);
    expect(rows.filter((r) => r.outcome === 'Failed')).toHaveLength(11);
    expect(rows.filter((r) => r.stepRun.endsWith('-r2')).map((r) => r.stepRun)).toEqual([
      'agents-lammps-vague-r3-build-r2',
      'agents-lammps-vague-r3-kubernetes-job-r2',
    ]);
  });

  it('classify failed attempts and carry the changed lines', () => {
    const vagueR2Build = rows.filter((r) => r.stepRun === 'agents-lammps-vague-r2-build');
    expect(vagueR2Build.map((r) => [r.attempt, r.outcome, r.category, r.changedLines])).toEqual([
      [1, 'Failed', 'tls', undefined],
      [2, 'Failed', 'missing-package', 2],
      [3, 'Succeeded', undefined, 2],
    ]);
    expect(vagueR2Build[1]).toMatchObject({
      plan: 'agents-lammps-vague-r2',
      cell: 'lammps-vague',
      variant: 'vague',
      repetition: 2,
      planStatus: 'Succeeded',
      step: 'build',
      agent: 'build',
      reason: 'BuildFailed',
      seconds: 20,
      tokens: 3170,
      modelCalls: 2,
    });
    // The first keys of a row, in order: the run's key, then its plan's outcome.
    expect(Object.keys(vagueR2Build[0]!).slice(0, 8)).toEqual([
      'plan',
      'cell',
      'application',
      'variant',
      'model',
      'repetition',
      'planStatus',
      'step',
    ]);
  });

  it("carry the plan's outcome, so attempts to success come from the rows alone", () => {
    expect(
      new Set(rows.filter((r) => r.plan === 'agents-lammps-specific-r2').map((r) => r.planStatus)),
    ).toEqual(new Set(['Failed']));
    const perRun = new Map<string, { cell: string; attempts: number }>();
    for (const r of rows.filter((row) => row.planStatus === 'Succeeded')) {
      const run = perRun.get(r.plan) ?? { cell: r.cell, attempts: 0 };
      run.attempts += 1;
      perRun.set(r.plan, run);
    }
    for (const cell of ['lammps-specific', 'lammps-vague']) {
      const fromRows = [...perRun.values()].filter((r) => r.cell === cell).map((r) => r.attempts);
      const expected = cellSummary(summaries.filter((s) => s.cell === cell)).attempts;
      expect(
        fromRows.sort((a, b) => a - b),
        cell,
      ).toEqual(expected.histogram.flatMap((h) => Array<number>(h.count).fill(h.value)));
    }
  });
});
