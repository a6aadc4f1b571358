import { describe, expect, it } from 'vitest';
import { loadRuns } from '../../test/fixtures/experiment/load.ts';
import { consistency, finalArtifacts, jaccard, meanOffDiagonal } from './consistency.ts';

const runs = loadRuns();

describe('final artifacts', () => {
  it("are the last succeeded attempts' artifacts of each step's last run, for successful runs", () => {
    const finals = finalArtifacts(runs);
    expect(finals.map((f) => [f.plan, f.step])).toEqual([
      ['agents-lammps-specific-r1', 'build'],
      ['agents-lammps-specific-r1', 'kubernetes-job'],
      ['agents-lammps-vague-r1', 'build'],
      ['agents-lammps-vague-r1', 'kubernetes-job'],
      ['agents-lammps-vague-r2', 'build'],
      ['agents-lammps-vague-r2', 'kubernetes-job'],
      ['agents-lammps-vague-r3', 'build'],
      ['agents-lammps-vague-r3', 'kubernetes-job'],
    ]);
    // After the recovery, the -r2 build's Dockerfile is the one the plan ended with.
    expect(finals[6]!.artifact).toMatch(/^FROM ubuntu:22\.04/);
  });
});

describe('consistency', () => {
  const cells = consistency(runs);
  const of = (cell: string, step: string) => cells.find((c) => c.cell === cell && c.step === step)!;

  it('compares line sets pairwise in repetition order', () => {
    const build = of('lammps-vague', 'build');
    expect(build.plans).toEqual([
      'agents-lammps-vague-r1',
      'agents-lammps-vague-r2',
      'agents-lammps-vague-r3',
    ]);
    // r1 and r2 ended with the same Dockerfile (5 instructions); r3's has another base and one more
    // instruction: 4 in common of 7.
    const expected = [
      [1, 1, 4 / 7],
      [1, 1, 4 / 7],
      [4 / 7, 4 / 7, 1],
    ];
    build.matrix.forEach((row, i) => {
      row.forEach((value, j) => {
        expect(value).toBeCloseTo(expected[i]![j]!, 12);
      });
    });
    expect(build.mean).toBeCloseTo(5 / 7, 12);
    const job = of('lammps-vague', 'kubernetes-job');
    // Only the image tag differs in r3's Job: 12 lines in common of 14 distinct.
    expect(job.matrix[0]![2]).toBeCloseTo(6 / 7, 12);
    expect(job.mean).toBeCloseTo(19 / 21, 12);
  });

  it('has no mean with one artifact', () => {
    const single = of('lammps-specific', 'build');
    expect(single.matrix).toEqual([[1]]);
    expect(single.mean).toBeUndefined();
  });

  it('lists the most common lines, ties alphabetically', () => {
    expect(of('lammps-vague', 'build').commonLines).toEqual([
      {
        line: 'RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates git cmake g++ libopenmpi-dev openmpi-bin',
        count: 3,
      },
      { line: 'RUN cmake ../cmake -DPKG_REAXFF=on -DBUILD_MPI=on && make -j4 && make install', count: 3 },
      {
        line: 'RUN git clone --depth 1 --branch stable https://github.com/lammps/lammps /opt/lammps',
        count: 3,
      },
      { line: 'WORKDIR /opt/lammps/build', count: 3 },
      { line: 'FROM ubuntu:24.04', count: 2 },
      { line: 'ENV PATH=/usr/local/bin:$PATH', count: 1 },
      { line: 'FROM ubuntu:22.04', count: 1 },
    ]);
    expect(of('lammps-vague', 'kubernetes-job').commonLines).toHaveLength(10);
  });

  it('computes Jaccard and off-diagonal means', () => {
    expect(jaccard(new Set(['a', 'b']), new Set(['b', 'c']))).toBeCloseTo(1 / 3);
    expect(jaccard(new Set(), new Set())).toBe(1);
    expect(meanOffDiagonal([[1]])).toBeUndefined();
    expect(meanOffDiagonal([])).toBeUndefined();
  });
});
