import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadRuns } from '../../test/fixtures/experiment/load.ts';
import { withoutAttemptNames } from '../kube/names.ts';
import { dockerfileInstructions } from './artifact.ts';
import {
  changeKey,
  changeRecords,
  changeTexts,
  firstChangedInstruction,
  firstChangedLine,
  firstDifference,
} from './change.ts';

const runs = loadRuns();

describe('Dockerfile instructions', () => {
  it('join continuations, skip comments and blank lines, upper-case the keyword', () => {
    const text = `# syntax=docker/dockerfile:1
from ubuntu:24.04

RUN apt-get update && \\
    # a comment inside a continuation
    apt-get install -y   git   \\
    cmake
WORKDIR /opt`;
    expect(dockerfileInstructions(text)).toEqual([
      { keyword: 'FROM', text: 'FROM ubuntu:24.04' },
      { keyword: 'RUN', text: 'RUN apt-get update && apt-get install -y git cmake' },
      { keyword: 'WORKDIR', text: 'WORKDIR /opt' },
    ]);
  });

  it('find the first instruction that differs, or the first past the shorter', () => {
    expect(firstDifference(['a', 'b', 'c'], ['a', 'x', 'c'])).toBe(1);
    expect(firstDifference(['a', 'b'], ['a', 'b', 'c'])).toBe(2);
    expect(firstDifference(['a', 'b', 'c'], ['a', 'b'])).toBe(2);
    expect(firstDifference(['a'], ['a'])).toBeUndefined();
    // An instruction removed at the end: the earlier artifact's instruction is the change.
    expect(firstChangedInstruction('FROM a\nRUN x\nRUN y\n', 'FROM a\nRUN x\n')).toEqual({
      index: 2,
      text: 'RUN y',
      keyword: 'RUN',
    });
    // A changed comment or re-wrapped line is no instruction change.
    expect(firstChangedInstruction('FROM a\n# one\nRUN x && \\\n y\n', 'FROM a\n# two\nRUN x && y\n')).toBe(
      undefined,
    );
  });
});

describe('change records', () => {
  const changes = changeRecords(runs);

  it('have one record per consecutive pair of attempts with artifacts', () => {
    expect(changes.map((c) => [c.stepRun.replace('agents-lammps-', ''), c.fromAttempt, c.toAttempt])).toEqual(
      [
        ['specific-r2-build', 1, 2],
        ['specific-r2-kubernetes-job', 1, 2],
        ['specific-r2-kubernetes-job', 2, 3],
        ['vague-r1-build', 1, 2],
        ['vague-r2-build', 1, 2],
        ['vague-r2-build', 2, 3],
        ['vague-r2-kubernetes-job', 1, 2],
        ['vague-r3-build', 1, 2],
        ['vague-r3-kubernetes-job', 1, 2],
      ],
    );
  });

  it('give lines changed and the first changed instruction of a Dockerfile', () => {
    const caCertificates = changes.find((c) => c.plan === 'agents-lammps-vague-r1')!;
    expect(caCertificates).toMatchObject({
      step: 'build',
      agent: 'build',
      // One physical line of the apt-get instruction replaced: one removed, one added.
      linesChanged: 2,
      firstChangedIndex: 1,
      firstChangedInstruction: 'RUN',
      firstChanged:
        'RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates git cmake g++ libopenmpi-dev openmpi-bin',
    });
    // The link fix is in the last RUN (index 4 of 6 instructions, past a comment line).
    expect(changes[0]).toMatchObject({
      linesChanged: 2,
      firstChangedIndex: 4,
      firstChangedInstruction: 'RUN',
    });
    expect(changes[0]!.firstChanged).toContain('-DBUILD_OMP=on');
  });

  it('give the first changed normalised line of a manifest', () => {
    const workingDir = changes.find((c) => c.stepRun === 'agents-lammps-vague-r2-kubernetes-job')!;
    expect(workingDir).toMatchObject({
      linesChanged: 2,
      firstChanged: 'workingDir: /opt/lammps/examples/reaxff/HNS',
      firstChangedIndex: 12,
    });
    expect(workingDir.firstChangedInstruction).toBeUndefined();
  });

  it('key a change by both artifacts, so the same change in two runs has one key', () => {
    const r1 = changes.find((c) => c.stepRun === 'agents-lammps-vague-r1-build')!;
    const r3 = changes.find((c) => c.stepRun === 'agents-lammps-vague-r3-build')!;
    expect(r1.key).toBe(r3.key);
    expect(r1.key).toMatch(/^[0-9a-f]{16}$/);
    const { before, after } = changeTexts(runs).get(r1.key)!;
    expect(r1.key).toBe(createHash('sha256').update(`${before}\0${after}`).digest('hex').slice(0, 16));
    expect(changeKey(before, after)).toBe(r1.key);
    expect(new Set(changes.map((c) => c.key)).size).toBe(8);
  });

  it('carry labels by key', () => {
    const key = changes[3]!.key;
    const labelled = changeRecords(runs, { [key]: 'added ca-certificates' });
    expect(labelled.filter((c) => c.label === 'added ca-certificates')).toHaveLength(2);
    expect(labelled.filter((c) => c.label === undefined)).toHaveLength(7);
  });
});

describe('names the operator gives each attempt', () => {
  it('are not the change: a Job whose command changed first differs at the command', () => {
    const job = (attempt: number, command: string) =>
      `apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: demo-r1-run-${attempt}\n  labels:\n    fractale.dev/attempt: "${attempt}"\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          command: ["${command}"]\n`;
    const before = withoutAttemptNames(job(1, 'lmpx'), 'demo-r1-run', 1);
    const after = withoutAttemptNames(job(2, 'lmp'), 'demo-r1-run', 2);
    expect(before).toContain('name: demo-r1-run-<attempt>');
    expect(before).not.toContain('"1"');
    expect(firstChangedLine(before, after)).toEqual({ index: 11, text: 'command: ["lmp"]' });
  });
});
