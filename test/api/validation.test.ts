import { describe, expect, it } from 'vitest';
import { parseContext, validateAgentPlan } from '../../src/api/index.ts';
import { crdErrors } from './crd-schema.ts';

const step = (over: Record<string, unknown> = {}) => ({
  name: 'build',
  agent: 'build',
  context: { application: 'lammps' },
  ...over,
});
const plan = (spec: Record<string, unknown>) => ({
  apiVersion: 'fractale.dev/v1alpha1',
  kind: 'AgentPlan',
  metadata: { name: 'p' },
  spec,
});
const run = { name: 'run', agent: 'kubernetes-job', context: { details: 'run it' } };

// Each bad plan, the field its error must name, and whether the CRD schema alone refuses it at
// admission (the rest are refused by the operator's per-agent validation, or by CEL for uniqueness).
const badPlans: { name: string; spec: Record<string, unknown>; field: string; crd: boolean }[] = [
  {
    name: 'unknown agent',
    spec: { steps: [step({ agent: 'compile' })] },
    field: 'spec.steps[0].agent',
    crd: true,
  },
  {
    name: 'duplicate step names',
    spec: { steps: [step(), step()] },
    field: 'spec.steps[1].name',
    crd: false,
  },
  {
    name: 'step name with capitals',
    spec: { steps: [step({ name: 'Build' })] },
    field: 'spec.steps[0].name',
    crd: true,
  },
  {
    name: 'step name with underscore',
    spec: { steps: [step({ name: 'build_it' })] },
    field: 'spec.steps[0].name',
    crd: true,
  },
  {
    name: 'step name too long',
    spec: { steps: [step({ name: 'a'.repeat(64) })] },
    field: 'spec.steps[0].name',
    crd: true,
  },
  { name: 'empty step name', spec: { steps: [step({ name: '' })] }, field: 'spec.steps[0].name', crd: true },
  { name: 'maxAttempts 0', spec: { steps: [step()], maxAttempts: 0 }, field: 'spec.maxAttempts', crd: true },
  {
    name: 'maxAttempts 1000',
    spec: { steps: [step()], maxAttempts: 1000 },
    field: 'spec.maxAttempts',
    crd: true,
  },
  {
    name: 'step maxAttempts 0',
    spec: { steps: [step({ maxAttempts: 0 })] },
    field: 'spec.steps[0].maxAttempts',
    crd: true,
  },
  {
    name: 'maxAttempts not a number',
    spec: { steps: [step()], maxAttempts: 'ten' },
    field: 'spec.maxAttempts',
    crd: true,
  },
  {
    name: 'missing application for build',
    spec: { steps: [step({ context: { environment: 'cpu' } })] },
    field: 'spec.steps[0].context.application',
    crd: false,
  },
  {
    name: 'context not an object',
    spec: { steps: [step({ context: 'build lammps' })] },
    field: 'spec.steps[0].context',
    crd: true,
  },
  {
    name: 'context a list',
    spec: { steps: [step({ context: ['lammps'] })] },
    field: 'spec.steps[0].context',
    crd: true,
  },
  { name: 'no steps', spec: { steps: [] }, field: 'spec.steps', crd: true },
  { name: 'steps missing', spec: {}, field: 'spec.steps', crd: true },
  {
    name: 'step without agent',
    spec: { steps: [{ name: 'build', context: { application: 'x' } }] },
    field: 'spec.steps[0].agent',
    crd: true,
  },
  {
    name: 'step without name',
    spec: { steps: [{ agent: 'build', context: { application: 'x' } }] },
    field: 'spec.steps[0].name',
    crd: true,
  },
  {
    name: 'run step with no container and no build before it',
    spec: { steps: [run] },
    field: 'spec.steps[0].context.container',
    crd: false,
  },
  {
    name: 'cost without instruction',
    spec: { steps: [{ name: 'cost', agent: 'cost', context: {} }] },
    field: 'spec.steps[0].context.instruction',
    crd: false,
  },
  {
    name: 'context maxAttempts 1000 (seed spelling)',
    spec: { steps: [step({ context: { application: 'x', max_attempts: 1000 } })] },
    field: 'spec.steps[0].context.maxAttempts',
    crd: false,
  },
  {
    name: 'maxRuntime not a duration',
    spec: { steps: [step(), { ...run, context: { max_runtime: 'forever' } }] },
    field: 'spec.steps[1].context.maxRuntime',
    crd: false,
  },
  {
    name: 'noPull not a boolean',
    spec: { steps: [step(), { ...run, context: { no_pull: 'yes' } }] },
    field: 'spec.steps[1].context.noPull',
    crd: false,
  },
  {
    name: 'unknown model provider',
    spec: { steps: [step()], model: { provider: 'claude' } },
    field: 'spec.model.provider',
    crd: true,
  },
  {
    name: 'snake and camel disagree',
    spec: { steps: [step({ context: { application: 'x', maxAttempts: 3, max_attempts: 4 } })] },
    field: 'spec.steps[0].context',
    crd: false,
  },
];

describe('bad plans', () => {
  it('the table has at least 15 cases', () => expect(badPlans.length).toBeGreaterThanOrEqual(15));

  it.each(badPlans)('$name is refused naming $field', ({ spec, field }) => {
    const result = validateAgentPlan(plan(spec));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.some((e) => e.startsWith(`${field}:`) || e.startsWith(`${field}.`))).toBe(true);
  });

  it.each(badPlans.filter((b) => b.crd))(
    '$name is refused by the CRD schema at $field',
    ({ spec, field }) => {
      const errors = crdErrors(plan(spec));
      expect(errors.some((e) => e.startsWith(field))).toBe(true);
    },
  );

  it('a good plan passes both', () => {
    const good = plan({ steps: [step(), { ...run, context: { no_pull: true, max_runtime: '30m' } }] });
    expect(crdErrors(good)).toEqual([]);
    expect(validateAgentPlan(good).ok).toBe(true);
  });

  it('errors say how to fix the field', () => {
    const result = validateAgentPlan(plan({ steps: [step({ name: 'Build' })] }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatch(/DNS label.*lower-case/);
  });
});

describe('per-agent contexts', () => {
  it('accepts the seed spellings and normalises them', () => {
    const result = parseContext('kubernetes-job', {
      container: 'lammps',
      no_pull: true,
      max_attempts: 3,
      max_runtime: '2h',
      allow_return_to_human: true,
      allow_return_to_manager: false,
    });
    expect(result).toEqual({
      ok: true,
      context: {
        container: 'lammps',
        noPull: true,
        maxAttempts: 3,
        maxRuntime: 7200,
        allowReturnToHuman: true,
        allowReturnToManager: false,
      },
    });
  });

  it('keeps keys it does not know, as the seed passes context through', () => {
    const result = parseContext('build', { application: 'lammps', cmake_flags: '-DPKG_REAXFF=on' });
    expect(result.ok && result.context).toMatchObject({
      application: 'lammps',
      cmakeFlags: '-DPKG_REAXFF=on',
    });
  });

  it('does not require what an earlier step provides', () => {
    expect(parseContext('minicluster', {}, { provided: ['container'] }).ok).toBe(true);
    expect(parseContext('minicluster', {}).ok).toBe(false);
  });
});
