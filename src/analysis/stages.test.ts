import { describe, expect, it } from 'vitest';
import { loadRuns } from '../../test/fixtures/experiment/load.ts';
import { changeRecords } from './change.ts';
import { buildCacheRecords, stageRecords } from './stages.ts';
import type { Stage } from './types.ts';

const runs = loadRuns();
const stages = stageRecords(runs);
const total = (stage: Stage, cell?: string) =>
  stages.filter((s) => s.stage === stage && (!cell || s.cell === cell)).reduce((n, s) => n + s.seconds, 0);

describe('stage records', () => {
  it('sum seconds per stage from the history', () => {
    expect(total('build')).toBe(2040);
    expect(total('run')).toBe(1452);
    expect(total('run', 'lammps-vague')).toBe(1385);
    expect(total('diagnose')).toBe(27);
    expect(total('human')).toBe(30);
    expect(total('generate')).toBe(102);
    expect(total('deploy')).toBe(29);
  });

  it("carry the plan's outcome", () => {
    expect(
      stages.every((s) => s.planStatus === (s.plan === 'agents-lammps-specific-r2' ? 'Failed' : 'Succeeded')),
    ).toBe(true);
  });

  it('ignore phases that are not stages of work', () => {
    // vague r2's first job attempt spent 1 s Pending.
    const attempt = stages.filter(
      (s) => s.stepRun === 'agents-lammps-vague-r2-kubernetes-job' && s.attempt === 1,
    );
    expect(attempt.map((s) => [s.stage, s.seconds])).toEqual([
      ['generate', 4],
      ['deploy', 3],
      ['run', 5],
      ['diagnose', 2],
    ]);
  });
});

describe('build cache records', () => {
  it("put each changed build's time against its first changed instruction", () => {
    const records = buildCacheRecords(runs, changeRecords(runs));
    expect(
      records.map((r) => [
        r.stepRun.replace('agents-lammps-', ''),
        r.attempt,
        r.firstChangedIndex,
        r.instructions,
        r.buildSeconds,
      ]),
    ).toEqual([
      // The link fix changed only the last RUN: the layers before it came from the cache.
      ['specific-r2-build', 2, 4, 6, 95],
      ['vague-r1-build', 2, 1, 5, 300],
      ['vague-r2-build', 2, 1, 5, 12],
      ['vague-r2-build', 3, 1, 5, 310],
      ['vague-r3-build', 2, 1, 5, 295],
    ]);
  });
});
