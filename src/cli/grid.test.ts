import { describe, expect, it } from 'vitest';
import type { AgentExperiment } from '../api/agentexperiment.ts';
import type { AgentPlan } from '../api/agentplan.ts';
import { createGridView, experimentGrid, experimentHeadline } from './grid.ts';

const experiment = {
  apiVersion: 'fractale.dev/v1alpha1',
  kind: 'AgentExperiment',
  metadata: { name: 'demo', namespace: 'default' },
  spec: {
    plan: { steps: [{ name: 'build', agent: 'build' }] },
    matrix: { applications: [{ name: 'lammps' }, { name: 'amg2023' }], repetitions: 3 },
    concurrency: 2,
    useCache: false,
  },
  status: {
    phase: 'Running',
    plans: 6,
    done: 3,
    succeeded: 2,
    failed: 1,
    running: 2,
    cells: [
      { name: 'lammps', application: 'lammps', succeeded: 2, failed: 0, running: 1 },
      { name: 'amg2023', application: 'amg2023', succeeded: 0, failed: 1, running: 1 },
    ],
  },
} as unknown as AgentExperiment;

const plan = (cell: string, repetition: number, phase?: string, currentStep?: string): AgentPlan =>
  ({
    apiVersion: 'fractale.dev/v1alpha1',
    kind: 'AgentPlan',
    metadata: {
      name: `demo-${cell}-r${repetition}`,
      labels: {
        'fractale.dev/experiment': 'demo',
        'fractale.dev/cell': cell,
        'fractale.dev/repetition': String(repetition),
      },
    },
    spec: { steps: [] },
    status: { ...(phase ? { phase } : {}), ...(currentStep ? { currentStep } : {}) },
  }) as unknown as AgentPlan;

const plans = [
  plan('lammps', 1, 'Succeeded'),
  plan('lammps', 2, 'Succeeded'),
  plan('lammps', 3, 'Running', 'run'),
  plan('amg2023', 1, 'Failed'),
  plan('amg2023', 2, 'Running', 'build'),
  // Another experiment's plan is not drawn.
  { ...plan('lammps', 3, 'Failed'), metadata: { name: 'x', labels: { 'fractale.dev/experiment': 'other' } } },
] as AgentPlan[];

describe('the experiment grid', () => {
  it('draws a mark per repetition, the counts, and what running plans do', () => {
    expect(experimentGrid(experiment, plans).map((l) => l.text)).toEqual([
      'CELL     RUNS  DONE   FAILED  NOW',
      'lammps   ✓✓▸   2/3    0       r3 run',
      'amg2023  ✗▸·   1/3    1       r2 build',
    ]);
    expect(experimentHeadline(experiment)).toBe(
      'AgentExperiment demo: Running, 3/6 plans ended (2 succeeded, 1 failed), 2 running',
    );
  });

  it('prints a cell again off a TTY only when it changed', () => {
    const out: string[] = [];
    const view = createGridView({ write: (t: string) => out.push(t) });
    view.update(experiment, plans);
    view.update(experiment, plans);
    expect(out).toHaveLength(4);
    view.update(
      experiment,
      plans.map((p) => (p.metadata.name === 'demo-lammps-r3' ? plan('lammps', 3, 'Succeeded') : p)),
    );
    expect(out.slice(4)).toEqual(['lammps   ✓✓✓   2/3    0\n']);
  });
});
