import { describe, expect, it } from 'vitest';
import { parseRecovery } from './recovery.ts';

const steps = [
  { name: 'build-lammps', agent: 'build' },
  { name: 'run-small', agent: 'kubernetes-job' },
  { name: 'run-large', agent: 'kubernetes-job' },
];

describe('parseRecovery', () => {
  it.each([
    {
      name: 'a step name',
      answer: '```json\n{"agent_name": "run-small", "task_description": "You MUST use 2 nodes."}\n```',
      want: { step: 'run-small', agent: 'kubernetes-job', instruction: 'You MUST use 2 nodes.' },
    },
    {
      name: 'an agent used by one step, as the seed answers',
      answer: '{"agent_name": "build", "task_description": "You MUST install libfftw3-dev."}',
      want: { step: 'build-lammps', agent: 'build', instruction: 'You MUST install libfftw3-dev.' },
    },
    {
      name: 'camelCase keys',
      answer: '{"agentName": "build-lammps", "taskDescription": "You MUST add MPI."}',
      want: { step: 'build-lammps', agent: 'build', instruction: 'You MUST add MPI.' },
    },
  ])('reads $name', ({ answer, want }) => {
    expect(parseRecovery(answer, steps)).toEqual({ ok: true, choice: want });
  });

  it.each([
    { name: 'not JSON', answer: 'Go back to the build.', says: /not valid JSON/ },
    { name: 'a list', answer: '[{"agent_name": "build"}]', says: /one JSON object/ },
    {
      name: 'a missing instruction',
      answer: '{"agent_name": "build"}',
      says: /non-empty agent_name and task_description/,
    },
    {
      name: 'an unknown step',
      answer: '{"agent_name": "deploy", "task_description": "x"}',
      says: /"deploy" is not a step of this plan; choose one of: build-lammps, run-small, run-large/,
    },
    {
      name: 'an agent of several steps',
      answer: '{"agent_name": "kubernetes-job", "task_description": "x"}',
      says: /several steps \(run-small, run-large\)/,
    },
  ])('explains $name', ({ answer, says }) => {
    const result = parseRecovery(answer, steps);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(says);
  });
});

describe('parseRecovery: a long name in the answer', () => {
  // Found by test/fuzz: the error quoted the model's agent_name whole, so a 100 KB name went into the
  // next manager prompt.
  it('is quoted cut short in the error', () => {
    const result = parseRecovery(
      JSON.stringify({ agent_name: 'x'.repeat(100_000), task_description: 'y' }),
      steps,
    );
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.length).toBeLessThan(300);
      expect(result.error).toMatch(/^agent_name "x{60}…" is not a step of this plan/);
    }
  });
});
