import { describe, expect, it } from 'vitest';
import { parseContext, validateAgentPlan, validateAgentStep } from '../../src/api/index.ts';
import { BAD_PLANS, BAD_STEPS, OVER_CAP_STEP } from './bad-input.ts';
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
const agentStep = (spec: Record<string, unknown>) => ({
  apiVersion: 'fractale.dev/v1alpha1',
  kind: 'AgentStep',
  metadata: { name: 's' },
  spec,
});
const run = { name: 'run', agent: 'kubernetes-job', context: { details: 'run it' } };

/** The error that names the field, or undefined. */
const naming = (errors: string[], field: string) =>
  errors.find((e) => e.startsWith(`${field}:`) || e.startsWith(`${field}.`) || e.includes(`"${field}"`));

describe('bad plans and steps', () => {
  it('the tables hold at least 40 cases, of both kinds', () => {
    const all = [...BAD_PLANS, ...BAD_STEPS, OVER_CAP_STEP];
    expect(all.length).toBeGreaterThanOrEqual(40);
    expect(all.filter((b) => b.by === 'admission').length).toBeGreaterThanOrEqual(15);
    expect(all.filter((b) => b.by === 'operator').length).toBeGreaterThanOrEqual(15);
    expect(new Set(all.map((b) => b.name)).size).toBe(all.length);
  });

  it.each(BAD_PLANS)('$name is refused naming $field and the fix', ({ spec, field, fix }) => {
    const result = validateAgentPlan(plan(spec));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const error = naming(result.errors, field);
    expect(error, result.errors.join('\n')).toBeDefined();
    expect(error).toMatch(fix);
  });

  it.each(BAD_STEPS)('$name is refused naming $field and the fix', ({ spec, field, fix }) => {
    const result = validateAgentStep(agentStep(spec));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const error = naming(result.errors, field);
    expect(error, result.errors.join('\n')).toBeDefined();
    expect(error).toMatch(fix);
  });

  it.each(BAD_PLANS.filter((b) => b.schema))(
    '$name is refused by the CRD schema at $field',
    ({ spec, field: operatorField, admissionField }) => {
      const field = admissionField ?? operatorField;
      const errors = crdErrors(plan(spec));
      expect(errors.some((e) => e.startsWith(field) || e.includes(`(${field.split('.').pop()})`))).toBe(true);
    },
  );

  it.each(BAD_STEPS.filter((b) => b.schema))(
    '$name is refused by the CRD schema at $field',
    ({ spec, field }) => {
      const errors = crdErrors(agentStep(spec));
      expect(errors.some((e) => e.startsWith(field) || e.includes(`(${field.split('.').pop()})`))).toBe(true);
    },
  );

  it.each([...BAD_PLANS, ...BAD_STEPS].filter((b) => b.by === 'operator'))(
    '$name passes the CRD schema (the operator refuses it)',
    ({ spec, name }) => {
      const object = name.startsWith('step:') ? agentStep(spec) : plan(spec);
      expect(crdErrors(object)).toEqual([]);
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
