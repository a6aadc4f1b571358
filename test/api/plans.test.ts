import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  convertSeedPlan,
  normalizeContextKeys,
  validateAgentPlan,
  validateAgentStep,
} from '../../src/api/index.ts';
import { crdErrors } from './crd-schema.ts';

const plansDir = join(import.meta.dirname, '../../plans');
const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(dir, f));
const resources = [...yamlFiles(plansDir), ...yamlFiles(join(plansDir, 'steps'))];

describe('sample plans and steps', () => {
  it('exist for every seed plan and a-la-carte command', () => {
    const names = resources.map((f) => f.slice(plansDir.length + 1)).sort();
    expect(names).toEqual([
      'cost-estimate.yaml',
      'flux-batch.yaml',
      'minicluster-lammps.yaml',
      'optimize-lammps.yaml',
      'run-lammps.yaml',
      'steps/build-lammps.yaml',
      'steps/kubernetes-job-lammps.yaml',
    ]);
  });

  it.each(resources)('%s validates against the CRD schema and the zod schemas', (file) => {
    const object = parse(readFileSync(file, 'utf8'));
    expect(crdErrors(object)).toEqual([]);
    const result = object.kind === 'AgentPlan' ? validateAgentPlan(object) : validateAgentStep(object);
    expect(result.ok ? [] : result.errors).toEqual([]);
  });

  it.each(yamlFiles(join(plansDir, 'seed')))('the seed plan %s converts to the sample AgentPlan', (file) => {
    const converted = convertSeedPlan(readFileSync(file, 'utf8'));
    if (!converted.ok) throw new Error(converted.errors.join('\n'));
    const sample = validateAgentPlan(parse(readFileSync(join(plansDir, file.split('/').pop()!), 'utf8')));
    if (!sample.ok) throw new Error(sample.errors.join('\n'));
    // Same agents in the same order, with the same context once the seed's snake_case is normalised.
    const shape = (steps: { agent: string; context?: Record<string, unknown> }[]) =>
      steps.map((s) => ({ agent: s.agent, context: normalizeContextKeys(s.context ?? {}).context }));
    expect(shape(converted.value.spec.steps)).toEqual(shape(sample.value.spec.steps));
    expect(converted.value.spec.description).toEqual(sample.value.spec.description);
  });
});
