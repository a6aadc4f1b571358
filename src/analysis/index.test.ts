import { describe, expect, it } from 'vitest';
import { loadRun, loadRuns } from '../../test/fixtures/experiment/load.ts';
import { analyze, runFromResults } from './index.ts';

const runs = loadRuns();
const generated = '2026-12-04T00:00:00.000Z';

describe('analyze', () => {
  const summary = analyze(runs, { generated });

  it('gives the headline figures', () => {
    expect(summary.experiment).toBe('agents');
    expect(summary.generated).toBe(generated);
    expect(summary.axes).toEqual({ applications: ['lammps'], variants: ['specific', 'vague'], models: [] });
    expect(summary.headline).toMatchObject({
      runs: 5,
      succeeded: 4,
      successRate: 0.8,
      // numpy.median([2, 3, 5, 6])
      medianAttempts: 4,
      tokens: 43820,
      // TLS and wrong-command both 3: the tie goes to the category's name.
      topFailure: { category: 'tls', label: 'TLS / CA certificates', count: 3 },
    });
    expect(summary.headline.dollars).toBeCloseTo(0.115325, 12);
  });

  it('puts runs and cells in order: application, variant, model, then repetition', () => {
    expect(summary.runs.map((r) => r.plan)).toEqual([
      'agents-lammps-specific-r1',
      'agents-lammps-specific-r2',
      'agents-lammps-vague-r1',
      'agents-lammps-vague-r2',
      'agents-lammps-vague-r3',
    ]);
    expect(summary.cells.map((c) => [c.name, c.successRate, c.attempts.median])).toEqual([
      ['lammps-specific', 0.5, 2],
      ['lammps-vague', 1, 5],
    ]);
    expect(summary.groups.map((g) => `${g.axis}=${g.value}`)).toEqual([
      'application=lammps',
      'variant=specific',
      'variant=vague',
    ]);
    expect(summary.tokens.map((t) => [t.cell, t.totalTokens])).toEqual([
      ['lammps-specific', 13730],
      ['lammps-vague', 30090],
    ]);
  });

  it('composes every table', () => {
    expect(summary.attempts).toHaveLength(21);
    expect(summary.failures).toHaveLength(11);
    expect(summary.failureCounts).toHaveLength(6);
    expect(summary.repeatedMistakes).toEqual([
      {
        cell: 'lammps-vague',
        step: 'build',
        category: 'tls',
        label: 'TLS / CA certificates',
        repetitions: 3,
        of: 3,
      },
    ]);
    expect(summary.changes).toHaveLength(9);
    expect(summary.consistency).toHaveLength(4);
    expect(summary.stages.length).toBeGreaterThan(0);
    expect(summary.buildCache).toHaveLength(5);
    expect(summary.calls).toHaveLength(32);
    // Every row of attempts.csv, failures.csv, calls.csv and stages.csv has its plan's outcome.
    const status = new Map(summary.runs.map((r) => [r.plan, r.status]));
    for (const row of [...summary.attempts, ...summary.failures, ...summary.calls, ...summary.stages])
      expect(row.planStatus, row.plan).toBe(status.get(row.plan));
    // And every call its step run, one of the attempts' step runs.
    const stepRuns = new Set(summary.attempts.map((a) => a.stepRun));
    for (const call of summary.calls) expect(stepRuns, call.stepRun).toContain(call.stepRun);
    expect(summary.artifacts).toHaveLength(8);
    expect(summary.artifacts[0]).toEqual({
      cell: 'lammps-specific',
      plan: 'agents-lammps-specific-r1',
      repetition: 1,
      step: 'build',
      agent: 'build',
      artifact: expect.stringMatching(/^FROM ubuntu:24\.04\n/),
    });
  });

  it('is deterministic, whatever order the runs come in, and leaves its input alone', () => {
    const before = structuredClone(runs);
    const again = analyze(runs, { generated });
    expect(again).toEqual(summary);
    expect(JSON.stringify(again)).toBe(JSON.stringify(summary));
    const shuffled = [runs[3]!, runs[0]!, runs[4]!, runs[2]!, runs[1]!];
    expect(analyze(shuffled, { generated })).toEqual(summary);
    expect(runs).toEqual(before);
    expect(Object.isFrozen(runs)).toBe(false);
    // Frozen input is fine too: nothing is written to it.
    const frozen = structuredClone(runs).map((r) => deepFreeze(r));
    expect(analyze(frozen, { generated })).toEqual(summary);
  });

  it('applies labels and prices from the options', () => {
    const key = summary.changes[3]!.key;
    const labelled = analyze(runs, {
      generated,
      labels: { [key]: 'added ca-certificates' },
      prices: { 'gemini-2.5-pro': { inputPerMillion: 2, outputPerMillion: 20 } },
    });
    expect(labelled.changes.filter((c) => c.label === 'added ca-certificates')).toHaveLength(2);
    // (36,900 × 2 + 6,920 × 20) / 1e6
    expect(labelled.headline.dollars).toBeCloseTo(0.2122, 12);
    expect(analyze(runs, { generated, prices: {} }).headline.dollars).toBeUndefined();
  });

  it('gives an empty summary for no runs', () => {
    const empty = analyze([], { generated });
    expect(empty.headline).toEqual({ runs: 0, succeeded: 0, successRate: 0, medianAttempts: 0, tokens: 0 });
    expect(empty.cells).toEqual([]);
    expect(empty.experiment).toBeUndefined();
  });
});

describe('runFromResults', () => {
  const { results } = loadRun('lammps-vague-r2');

  it('places a plan by its experiment labels', () => {
    const run = runFromResults(results, {
      'fractale.dev/experiment': 'agents',
      'fractale.dev/application': 'lammps',
      'fractale.dev/variant': 'vague',
      'fractale.dev/cell': 'lammps-vague',
      'fractale.dev/repetition': '2',
    });
    expect(run).toMatchObject({
      plan: 'agents-lammps-vague-r2',
      namespace: 'research',
      experiment: 'agents',
      cell: 'lammps-vague',
      application: 'lammps',
      variant: 'vague',
      repetition: 2,
    });
    expect(run.model).toBeUndefined();
    expect(run.results).toBe(results);
  });

  it('makes a plan on its own its own application and cell', () => {
    const run = runFromResults(results);
    expect(run).toMatchObject({
      plan: 'agents-lammps-vague-r2',
      cell: 'agents-lammps-vague-r2',
      application: 'agents-lammps-vague-r2',
      repetition: 1,
    });
    expect(run.variant).toBeUndefined();
    expect(runFromResults(results, { 'fractale.dev/repetition': 'x' }).repetition).toBe(1);
    const summary = analyze([run], { generated });
    expect(summary.axes).toEqual({ applications: ['agents-lammps-vague-r2'], variants: [], models: [] });
    expect(summary.groups.map((g) => g.axis)).toEqual(['application']);
    // No model name: no price, no dollars.
    expect(summary.headline.dollars).toBeUndefined();
  });
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
