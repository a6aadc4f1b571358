import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { describe, expect, it } from 'vitest';
import { kanikoTranscript, locateMountedFile, parseDockerfile, parseKanikoArgs } from './kaniko.ts';

describe('parseKanikoArgs', () => {
  it('reads both flag styles and resolves the Dockerfile against the context', () => {
    const args = parseKanikoArgs([
      '--dockerfile=Dockerfile',
      '--context',
      'dir:///workspace',
      '--destination=registry.local/lammps:1',
      '-d',
      'registry.local/lammps:latest',
      '--cache=true',
    ]);
    expect(args).toMatchObject({
      dockerfile: '/workspace/Dockerfile',
      destinations: ['registry.local/lammps:1', 'registry.local/lammps:latest'],
      noPush: false,
      cache: true,
    });
    expect(parseKanikoArgs(['--dockerfile=/kaniko/build/Dockerfile', '--no-push']).dockerfile).toBe(
      '/kaniko/build/Dockerfile',
    );
    expect(parseKanikoArgs(['--no-push']).noPush).toBe(true);
    expect(parseKanikoArgs(['--no-push=false', '-d', 'x']).noPush).toBe(false);
    // Boolean flags never take the next argument as their value.
    expect(parseKanikoArgs(['--insecure', 'ignored', '--digest-file', '/dev/termination-log'])).toMatchObject(
      {
        digestFile: '/dev/termination-log',
        destinations: [],
      },
    );
  });
});

describe('locateMountedFile', () => {
  const container = {
    name: 'kaniko',
    image: 'gcr.io/kaniko-project/executor',
    volumeMounts: [
      { name: 'dockerfile', mountPath: '/workspace' },
      { name: 'items', mountPath: '/other/' },
    ],
  };
  const spec: IPodSpec = {
    containers: [container],
    volumes: [
      { name: 'dockerfile', configMap: { name: 'build-1' } },
      { name: 'items', configMap: { name: 'build-2', items: [{ key: 'df', path: 'sub/Dockerfile' }] } },
    ],
  };

  it('follows the mount to a ConfigMap key', () => {
    expect(locateMountedFile(spec, container, '/workspace/Dockerfile')).toEqual({
      kind: 'configMap',
      volume: 'dockerfile',
      configMap: 'build-1',
      key: 'Dockerfile',
      optional: false,
    });
    expect(locateMountedFile(spec, container, '/other/sub/Dockerfile')).toMatchObject({
      configMap: 'build-2',
      key: 'df',
    });
    expect(locateMountedFile(spec, container, '/tmp/Dockerfile')).toEqual({
      kind: 'notMounted',
      path: '/tmp/Dockerfile',
    });
  });
});

describe('parseDockerfile', () => {
  it('joins continuation lines and skips comments', () => {
    expect(
      parseDockerfile(
        '# base\nFROM ubuntu:22.04\nRUN apt-get update && \\\n    apt-get install -y git\n\nWORKDIR /opt\n',
      ),
    ).toEqual([
      { keyword: 'FROM', arguments: 'ubuntu:22.04' },
      { keyword: 'RUN', arguments: 'apt-get update && apt-get install -y git' },
      { keyword: 'WORKDIR', arguments: '/opt' },
    ]);
  });
});

describe('kanikoTranscript', () => {
  const dockerfile =
    'FROM ubuntu:22.04\nRUN apt-get install -y git\nRUN git clone https://github.com/lammps/lammps.git\nRUN cmake ../cmake && make\n';
  const args = parseKanikoArgs([
    '--dockerfile=Dockerfile',
    '--context=dir:///workspace',
    '--destination=registry.local/lammps:1',
  ]);
  const text = (transcript: ReturnType<typeof kanikoTranscript>) =>
    transcript.output.map((chunk) => chunk.text).join('');

  it('prints a successful build and pushes its destinations', () => {
    const transcript = kanikoTranscript(dockerfile, args, {
      outcome: 'Succeeded',
      log: 'BUILT',
      runSeconds: 30,
    });
    const log = text(transcript);
    expect(log).toMatch(/^INFO\[0000\] Retrieving image manifest ubuntu:22.04\n/);
    expect(log).toContain('Running: [/bin/sh -c cmake ../cmake && make]\nBUILT\n');
    expect(log).toMatch(
      /Pushing image to registry\.local\/lammps:1\n.*Pushed registry\.local\/lammps@sha256:/,
    );
    expect(transcript).toMatchObject({ exitCode: 0, pushed: ['registry.local/lammps:1'] });
    const times = transcript.output.map((chunk) => chunk.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(transcript.exitAt).toBeLessThanOrEqual(30 + 1e-9);
  });

  it('stops at the failing step with the rule log and exits 1', () => {
    const transcript = kanikoTranscript(dockerfile, args, {
      outcome: 'Failed',
      step: 'git clone',
      log: 'fatal: unable to access',
      runSeconds: 5,
    });
    const log = text(transcript);
    expect(log).toContain(
      'Running: [/bin/sh -c git clone https://github.com/lammps/lammps.git]\nfatal: unable to access\n',
    );
    expect(log).not.toContain('cmake');
    expect(log).toMatch(/error building image: error building stage: failed to execute command/);
    expect(transcript).toMatchObject({ exitCode: 1, pushed: [] });
  });

  it('pushes nothing with --no-push', () => {
    const transcript = kanikoTranscript(
      dockerfile,
      parseKanikoArgs(['--no-push', '-d', 'registry.local/x:1']),
      undefined,
    );
    expect(text(transcript)).toContain('Skipping push to container registry due to --no-push flag');
    expect(transcript.pushed).toEqual([]);
  });

  it('refuses to build without a destination or --no-push', () => {
    expect(kanikoTranscript(dockerfile, parseKanikoArgs([]), undefined).exitCode).toBe(1);
  });
});
