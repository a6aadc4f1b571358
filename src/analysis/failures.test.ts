import { describe, expect, it } from 'vitest';
import { loadRuns } from '../../test/fixtures/experiment/load.ts';
import { cellRepeatedMistakes, failureCounts, failureRecords } from './failures.ts';

const runs = loadRuns();
const failures = failureRecords(runs);

describe('failure records', () => {
  it('classify every failed attempt with the line that decided', () => {
    expect(failures).toHaveLength(11);
    const tls = failures.find((f) => f.plan === 'agents-lammps-vague-r1')!;
    expect(tls).toMatchObject({
      planStatus: 'Succeeded',
      step: 'build',
      stepRun: 'agents-lammps-vague-r1-build',
      attempt: 1,
      reason: 'BuildFailed',
      category: 'tls',
      label: 'TLS / CA certificates',
      message: 'The build failed: exit status 128',
    });
    expect(tls.evidence).toContain('server certificate verification failed');
    // The failures of the run that never succeeded can be kept apart without a join.
    expect(failures.filter((f) => f.planStatus === 'Failed').map((f) => f.plan)).toEqual(
      failures.filter((f) => f.plan === 'agents-lammps-specific-r2').map((f) => f.plan),
    );
    expect(failures.filter((f) => f.planStatus === 'Failed').length).toBeGreaterThan(0);
    // The job that returned to the manager had run out of time: its diagnostics say so.
    expect(
      failures.filter((f) => f.plan === 'agents-lammps-vague-r3' && f.step === 'kubernetes-job'),
    ).toMatchObject([
      { attempt: 1, reason: 'DeadlineExceeded', category: 'deadline' },
      { attempt: 2, reason: 'ReturnedToManager', category: 'deadline' },
    ]);
  });

  it('count per application and category, most frequent first, ties by category', () => {
    expect(failureCounts(failures)).toEqual([
      { application: 'lammps', category: 'tls', label: 'TLS / CA certificates', count: 3 },
      { application: 'lammps', category: 'wrong-command', label: 'Wrong command or entrypoint', count: 3 },
      { application: 'lammps', category: 'deadline', label: 'Deadline', count: 2 },
      { application: 'lammps', category: 'link-error', label: 'Link error', count: 1 },
      { application: 'lammps', category: 'missing-file', label: 'Wrong path or missing file', count: 1 },
      { application: 'lammps', category: 'missing-package', label: 'Missing package', count: 1 },
    ]);
  });

  it('sort applications apart', () => {
    const other = failures
      .filter((f) => f.category === 'wrong-command')
      .slice(0, 2)
      .map((f) => ({ ...f, application: 'amg2023' }));
    expect(
      failureCounts([...failures, ...other]).map((c) => [c.application, c.category, c.count])[0],
    ).toEqual(['amg2023', 'wrong-command', 2]);
  });
});

describe('repeated mistakes', () => {
  it("name the first tries' categories that repetitions of a cell share, per step", () => {
    // Every vague build forgot ca-certificates on its first try; the specific job's mistake
    // happened once, and vague r3's job after the recovery (-r2) is not a first try.
    expect(cellRepeatedMistakes(runs, failures)).toEqual([
      {
        cell: 'lammps-vague',
        step: 'build',
        category: 'tls',
        label: 'TLS / CA certificates',
        repetitions: 3,
        of: 3,
      },
    ]);
  });

  it('count repetitions whose first try succeeded in `of`', () => {
    // Make specific r1's job fail its first try the way r2's did.
    const specificR1 = structuredClone(runs[0]!);
    const job = specificR1.results.steps[1]!;
    job.metadata.history = [
      { ...job.metadata.history![0]!, outcome: 'Failed', reason: 'RunFailed', message: 'exit code 134' },
    ];
    job.metadata.assets.attempts![0]!.diagnostics =
      'mpirun was unable to launch the specified application as it could not access';
    const changed = [specificR1, ...runs.slice(1)];
    const third = structuredClone(specificR1);
    third.plan = 'agents-lammps-specific-r3';
    third.repetition = 3;
    third.results.steps[1]!.metadata.history![0]!.outcome = 'Succeeded';
    const all = [...changed, third];
    expect(cellRepeatedMistakes(all, failureRecords(all))).toContainEqual({
      cell: 'lammps-specific',
      step: 'kubernetes-job',
      category: 'wrong-command',
      label: 'Wrong command or entrypoint',
      repetitions: 2,
      of: 3,
    });
  });
});
