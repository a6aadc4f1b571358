import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../command.ts';
import { generateStepName } from '../steps.ts';
import { stepFor } from './agent.ts';

const ctx = (cwd = process.cwd()): CommandContext => ({
  io: {
    stdout: { write: () => true },
    stderr: { write: () => true },
    env: {},
    cwd,
    operatorWaitMs: 1000,
    signal: new AbortController().signal,
    now: () => new Date(),
    random: () => 0.5,
  },
  exit: () => {},
});

describe('the AgentStep an agent command creates', () => {
  it("turns the seed's run flags into the context: --context-file, --no-pull, --max-runtime", () => {
    const dir = mkdtempSync(join(tmpdir(), 'fractale-agent-'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM ubuntu:22.04\n');
    const step = stepFor(
      'kubernetes-job',
      'ghcr.io/me/lammps:1',
      { contextFile: 'Dockerfile', pull: false, maxRuntime: '600', environment: 'google cloud CPU' },
      ctx(dir),
      'science',
    );
    expect(step.metadata).toEqual({ name: 'kubernetes-job-lammps-sssss', namespace: 'science' });
    expect(step.spec).toEqual({
      agent: 'kubernetes-job',
      useCache: false,
      context: {
        container: 'ghcr.io/me/lammps:1',
        dockerfile: 'FROM ubuntu:22.04\n',
        noPull: true,
        maxRuntime: 600,
        environment: 'google cloud CPU',
      },
    });
  });

  it('gives build its application, cost its instruction, and --use-cache and --max-attempts to the spec', () => {
    const build = stepFor(
      'build',
      'lammps',
      { useCache: true, maxAttempts: 3, name: 'mine' },
      ctx(),
      'default',
    );
    expect(build.metadata.name).toBe('mine');
    expect(build.spec).toMatchObject({ useCache: true, maxAttempts: 3, context: { application: 'lammps' } });
    const cost = stepFor('cost', 'LAMMPS on 4 nodes', {}, ctx(), 'default');
    expect(cost.spec.context).toEqual({ instruction: 'LAMMPS on 4 nodes' });
    expect(cost.metadata.name).toBe('cost-sssss');
  });

  it('refuses a bad runtime with the field named', () => {
    expect(() => stepFor('minicluster', 'lammps', { maxRuntime: 'soon' }, ctx(), 'default')).toThrow(
      /maxRuntime/,
    );
  });

  it('generates names from the agent and application with a random suffix', () => {
    let i = 0;
    const random = () => [0, 0.1, 0.5, 0.9, 0.99][i++ % 5]!;
    expect(generateStepName('build', 'LAMMPS (reaxff)', random)).toBe('build-lammps-reaxff-ads69');
  });
});
