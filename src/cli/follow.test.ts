import { describe, expect, it } from 'vitest';
import type { AgentPlan, AgentStep } from '../api/index.ts';
import { planRows } from './follow.ts';

const plan = {
  apiVersion: 'fractale.dev/v1alpha1',
  kind: 'AgentPlan',
  metadata: { name: 'lammps', namespace: 'default' },
  spec: {
    goal: 'Run LAMMPS',
    maxAttempts: 10,
    useCache: false,
    steps: [
      { name: 'build', agent: 'build' },
      { name: 'run', agent: 'kubernetes-job' },
    ],
  },
} as AgentPlan;

const step = (name: string, stepName: string, created: string, phase: string, plan = 'lammps'): AgentStep =>
  ({
    apiVersion: 'fractale.dev/v1alpha1',
    kind: 'AgentStep',
    metadata: { name, namespace: 'default', creationTimestamp: created },
    spec: {
      agent: stepName === 'build' ? 'build' : 'kubernetes-job',
      planRef: { name: plan, step: stepName },
    },
    status: { phase: phase as never, attempt: 1, usage: { totalTokens: 10 } as never },
  }) as unknown as AgentStep;

describe('the rows of a followed plan', () => {
  it('lists its steps in creation order (recoveries add rows), then the steps not started', () => {
    const rows = planRows(
      plan as never,
      [
        step('lammps-build-r2', 'build', '2026-01-01T00:05:00Z', 'Building'),
        step('lammps-build', 'build', '2026-01-01T00:00:00Z', 'Succeeded'),
        step('lammps-run', 'run', '2026-01-01T00:02:00Z', 'Failed'),
        step('other-build', 'build', '2026-01-01T00:00:00Z', 'Running', 'other'),
      ] as never,
    );
    expect(rows.map((r) => [r.name, r.phase])).toEqual([
      ['lammps-build', 'Succeeded'],
      ['lammps-run', 'Failed'],
      ['lammps-build-r2', 'Building'],
    ]);
  });

  it('shows steps not created yet as Waiting', () => {
    const rows = planRows(
      plan as never,
      [step('lammps-build', 'build', '2026-01-01T00:00:00Z', 'Building')] as never,
    );
    expect(rows.map((r) => [r.name, r.agent, r.phase])).toEqual([
      ['lammps-build', 'build', 'Building'],
      ['lammps-run', 'kubernetes-job', 'Waiting'],
    ]);
  });
});
