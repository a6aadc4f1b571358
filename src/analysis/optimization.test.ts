import { describe, expect, it } from 'vitest';
import { loadOptimizeRun, loadRuns } from '../../test/fixtures/experiment/load.ts';
import { analyze } from './index.ts';
import { optimizationPoints, optimizationSummaries, trialHeader } from './optimization.ts';
import type { RunRecord } from './types.ts';

const run = loadOptimizeRun();
const key = {
  plan: 'tuning-lammps-r1',
  cell: 'lammps',
  application: 'lammps',
  variant: '',
  model: '',
  repetition: 1,
  planStatus: 'Succeeded',
  step: 'optimize',
  stepRun: 'tuning-lammps-r1-optimize',
  figure: 'timesteps/s',
  direction: 'higher',
} as const;

describe('optimization points', () => {
  const points = optimizationPoints([run]);

  it('give every trial with its figures, outcome and the best so far', () => {
    expect(points.map(({ diff: _, ...p }) => p)).toEqual([
      {
        ...key,
        trial: 0,
        attempt: 1,
        outcome: 'baseline',
        repetitions: 3,
        figures: [98, 100, 103],
        median: 100,
        spread: 5,
        min: 98,
        max: 103,
        bestSoFar: 100,
        message: 'baseline 100 timesteps/s (spread 5)',
      },
      {
        ...key,
        trial: 1,
        attempt: 2,
        from: 1,
        outcome: 'kept',
        repetitions: 3,
        figures: [300, 305, 309],
        median: 305,
        spread: 9,
        min: 300,
        max: 309,
        bestSoFar: 305,
        change: 'Run 8 MPI ranks instead of 2 and request 8 CPUs',
        reason: 'The node has 8 cores and the run used 2 of them; ReaxFF scales well within a node.',
        message: 'kept: 305 beats 100 by 205, more than the noise 9',
      },
      {
        // 311 is above the best's 305, but by less than the noise: the best stays 305.
        ...key,
        trial: 2,
        attempt: 3,
        from: 2,
        outcome: 'reverted',
        repetitions: 3,
        figures: [302, 311, 318],
        median: 311,
        spread: 16,
        min: 302,
        max: 318,
        bestSoFar: 305,
        change: 'Add OMP_NUM_THREADS=2 and the OPENMP suffix (-sf omp)',
        reason: 'Two threads per rank may use the hyperthreads the ranks leave idle.',
        message: 'reverted: 311 against the best 305 (a gain of 6 is within the noise 16)',
      },
      {
        // A failed trial measured nothing; its change is read from its manifest's header.
        ...key,
        trial: 3,
        attempt: 4,
        from: 2,
        outcome: 'failed',
        repetitions: 0,
        figures: [],
        bestSoFar: 305,
        change: 'Use the KOKKOS package with 2 threads per rank (-k on t 2 -sf kk)',
        reason: 'KOKKOS has a faster ReaxFF pair style than the default one.',
        message: 'RunFailed: The Job failed: exit code 1',
      },
    ]);
  });

  it("carry each trial's diff from the manifest it changed, none for the baseline", () => {
    expect(points.map((p) => p.diff?.split('\n')[0])).toEqual([
      undefined,
      '+++ attempt-2',
      '+++ attempt-3',
      '+++ attempt-4',
    ]);
    expect(points[3]!.diff).toContain(
      '+          command: ["mpirun", "-np", "8", "lmp", "-in", "in.reaxff.hns", "-k", "on", "t", "2", "-sf", "kk"]',
    );
  });

  it('leave out steps without a trajectory, and compute a median the record lacks', () => {
    expect(optimizationPoints(loadRuns())).toEqual([]);
    const bare = structuredClone(run);
    const trial = bare.results.steps[1]!.metadata.optimization!.trials[2]!;
    delete trial.median;
    delete trial.spread;
    trial.figures = [302, 318, 311, 300];
    const row = optimizationPoints([bare])[2]!;
    // numpy.median([300, 302, 311, 318]); the range 318 - 300.
    expect([row.median, row.spread, row.min, row.max]).toEqual([306.5, 18, 300, 318]);
  });

  it('follow the direction: for a figure where lower is better the best so far falls', () => {
    const lower = structuredClone(run);
    const o = lower.results.steps[1]!.metadata.optimization!;
    o.figure = 'loop time (s)';
    o.direction = 'lower';
    for (const t of o.trials) {
      t.figures = t.figures.map((x) => 1000 / x);
      if (t.median !== undefined) t.median = 1000 / t.median;
    }
    expect(optimizationPoints([lower]).map((p) => p.bestSoFar)).toEqual([
      10,
      1000 / 305,
      1000 / 305,
      1000 / 305,
    ]);
  });
});

describe('optimization summaries', () => {
  it('give per step run the baseline, the best, the counts of trials and why it stopped', () => {
    expect(optimizationSummaries([run])).toEqual([
      {
        ...key,
        status: 'Succeeded',
        baseline: 100,
        best: 305,
        ratio: 3.05,
        bestAttempt: 2,
        trials: 3,
        kept: 1,
        reverted: 1,
        failed: 1,
        stopReason:
          'Trial 3 failed (RunFailed); the next starts from the best; stopping: 2 trial(s) in a row did not beat the best (plateau 2)',
      },
    ]);
  });

  it('count a step whose baseline could not be measured as no trials', () => {
    const failed: RunRecord = structuredClone(run);
    const step = failed.results.steps[1]!;
    step.status = 'Failed';
    step.metadata.optimization = {
      figure: 'timesteps/s',
      direction: 'higher',
      trials: [],
      stopReason: 'The starting Job could not be measured: no "Performance: ... timesteps/s" line',
    };
    expect(optimizationPoints([failed])).toEqual([]);
    expect(optimizationSummaries([failed])).toEqual([
      {
        ...key,
        status: 'Failed',
        trials: 0,
        kept: 0,
        reverted: 0,
        failed: 0,
        stopReason: 'The starting Job could not be measured: no "Performance: ... timesteps/s" line',
      },
    ]);
  });
});

describe('analyze', () => {
  it('fills optimization and optimizations, empty arrays without an optimize step', () => {
    const summary = analyze([run], { generated: '2026-12-04T00:00:00.000Z' });
    expect(summary.optimization).toEqual(optimizationPoints([run]));
    expect(summary.optimizations).toEqual(optimizationSummaries([run]));
    const none = analyze(loadRuns(), { generated: '2026-12-04T00:00:00.000Z' });
    expect(none.optimization).toEqual([]);
    expect(none.optimizations).toEqual([]);
  });
});

describe('trialHeader', () => {
  it('reads the change and reason lines at the top of a manifest, and nothing below', () => {
    expect(
      trialHeader(
        '# fractale-trial change: more ranks\n# fractale-trial reason: idle cores\napiVersion: batch/v1\n# fractale-trial change: not this\n',
      ),
    ).toEqual({ change: 'more ranks', reason: 'idle cores' });
    expect(trialHeader('apiVersion: batch/v1\n')).toEqual({});
    expect(trialHeader(undefined)).toEqual({});
  });
});
