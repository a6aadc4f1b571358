import { describe, expect, it } from 'vitest';
import {
  BehaviorsError,
  behaviors,
  loadDefaultBehaviors,
  matchBuildRule,
  matchPodRule,
  parseBehaviors,
  processRun,
} from './behaviors.ts';
import { kanikoTranscript, parseKanikoArgs } from './controllers/kaniko.ts';

describe('parseBehaviors', () => {
  it('accepts the documented shape and fills defaults', () => {
    const parsed = parseBehaviors(`
pullable: ["docker.io/library/.*"]
builds:
  - match: "ca-certificates"
    outcome: Succeeded
pods:
  - image: lammps
    command: lmp
    outcome: Failed
    exitCode: 3
    log: "boom"
`);
    expect(parsed.pullable).toEqual(['docker.io/library/.*']);
    expect(parsed.builds[0]).toMatchObject({ match: 'ca-certificates', outcome: 'Succeeded', log: '' });
    expect(parsed.pods[0]).toMatchObject({ image: 'lammps', outcome: 'Failed', exitCode: 3 });
    expect(parsed.kanikoImage).toBe('(kaniko|executor)$');
  });

  it.each([
    {
      name: 'an unknown outcome',
      text: 'pods:\n  - image: x\n    outcome: Exploded\n',
      line: 3,
      field: 'pods[0].outcome',
    },
    {
      name: 'an invalid regex',
      text: 'pullable:\n  - "ok"\n  - "(unclosed"\n',
      line: 3,
      field: 'pullable[1]',
      message: 'not a valid regular expression',
    },
    {
      name: 'a misspelt field',
      text: 'builds:\n  - match: x\n    outcome: Failed\n  - outcom: Succeeded\n',
      line: 4,
      field: 'builds[1]',
      message: 'Unrecognized key: "outcom"',
    },
    {
      name: 'a missing outcome',
      text: 'pods:\n  - image: a\n    outcome: Hang\n  - image: b\n    log: hi\n',
      line: 4,
      field: 'pods[1].outcome',
    },
    {
      name: 'an exit code out of range',
      text: 'pods:\n\n  - outcome: Failed\n    exitCode: 300\n',
      line: 4,
      field: 'pods[0].exitCode',
    },
  ])('names the line and field of $name', ({ text, line, field, message }) => {
    let caught: unknown;
    try {
      parseBehaviors(text, 'bad.yaml');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BehaviorsError);
    const error = caught as BehaviorsError;
    const issue = error.issues.find((candidate) => candidate.field === field);
    expect(issue).toMatchObject({ line, field });
    if (message) expect(issue?.message).toBe(message);
    expect(error.message).toContain(`bad.yaml:${line}: ${field}`);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(() => parseBehaviors('pods:\n  - image: [a\n', 'broken.yaml')).toThrow(
      /broken\.yaml:\d+: \(yaml\)/,
    );
  });
});

describe('matching', () => {
  const rules = behaviors({
    builds: [
      { match: 'ca-certificates', outcome: 'Succeeded' },
      { outcome: 'Failed', log: 'no certs' },
    ],
    pods: [
      { image: 'lammps', command: 'lmp', outcome: 'Succeeded', log: 'LAMMPS' },
      { image: 'lammps', outcome: 'Failed' },
      { command: 'sleep', outcome: 'Hang' },
    ],
  });

  it('picks the first build rule whose match is found, and the catch-all otherwise', () => {
    expect(matchBuildRule(rules, 'RUN apt-get install -y ca-certificates git')?.outcome).toBe('Succeeded');
    expect(matchBuildRule(rules, 'RUN apt-get install -y git')?.log).toBe('no certs');
  });

  it('requires every matcher given to match', () => {
    expect(
      matchPodRule(rules, { image: 'ghcr.io/x/lammps:1', command: ['lmp'], args: ['-in', 'in.x'] })?.log,
    ).toBe('LAMMPS');
    expect(matchPodRule(rules, { image: 'ghcr.io/x/lammps:1', command: ['bash'] })?.outcome).toBe('Failed');
    expect(matchPodRule(rules, { image: 'busybox', args: ['sleep', '3600'] })?.outcome).toBe('Hang');
    expect(matchPodRule(rules, { image: 'busybox', command: ['true'] })).toBeUndefined();
  });

  it('derives exit codes from the outcome unless given', () => {
    expect(processRun({ outcome: 'OOMKilled', log: '' }).exitCode).toBe(137);
    expect(processRun({ outcome: 'Failed', log: '' }).exitCode).toBe(1);
    expect(processRun({ outcome: 'Succeeded', log: '' }).exitCode).toBe(0);
    expect(processRun({ outcome: 'Failed', exitCode: 42, log: '' }).exitCode).toBe(42);
    expect(processRun(undefined).outcome).toBe('Succeeded');
  });
});

describe('the shipped behaviours file', () => {
  const shipped = loadDefaultBehaviors();

  it('fails a LAMMPS build without CA certificates and builds one with them', () => {
    const without =
      'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y git cmake g++\nRUN git clone https://github.com/lammps/lammps.git\n';
    const withCerts = without.replace('git cmake', 'ca-certificates git cmake');
    expect(matchBuildRule(shipped, without)).toMatchObject({ outcome: 'Failed' });
    expect(matchBuildRule(shipped, without)?.log).toContain('server certificate verification failed');
    expect(matchBuildRule(shipped, withCerts)).toMatchObject({ outcome: 'Succeeded' });
  });

  it('runs lmp in a lammps image with a reaxff log, and anything else briefly', () => {
    const lammps = matchPodRule(shipped, {
      image: 'registry.local/lammps:abc',
      command: ['lmp', '-in', 'in.reaxc.hns'],
    });
    expect(lammps?.log).toMatch(/LAMMPS \(/);
    expect(lammps?.log).toMatch(/Total wall time/);
    expect(matchPodRule(shipped, { image: 'busybox', command: ['echo', 'hi'] })?.outcome).toBe('Succeeded');
  });
});

describe('the shipped build log', () => {
  it('prints the CMake output in the step that runs cmake, not the one that installs it', () => {
    const dockerfile =
      'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y ca-certificates git cmake g++\n' +
      'RUN git clone --depth 1 https://github.com/lammps/lammps.git /opt/lammps\n' +
      'RUN cd /opt/lammps && mkdir build && cd build && cmake ../cmake && make -j 4\n';
    const log = kanikoTranscript(
      dockerfile,
      parseKanikoArgs(['--destination=registry.local/lammps:1']),
      matchBuildRule(loadDefaultBehaviors(), dockerfile),
    )
      .output.map((piece) => piece.text)
      .join('');
    expect(log).toMatch(
      /Running: \[\/bin\/sh -c cd \/opt\/lammps .*make -j 4\]\n-- The CXX compiler identification/,
    );
  });
});
