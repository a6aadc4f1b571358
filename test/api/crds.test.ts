import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentPlanCrd, agentStepCrd, crdDrift, crdFiles } from '../../src/api/index.ts';

const root = join(import.meta.dirname, '../..');

describe('generated CRDs', () => {
  it.each(['crds', 'charts/fractale/crds', 'config/crd/bases'])(
    'the committed files in %s match the schemas (run `npm run generate:crds` after changing src/api)',
    (dir) => {
      if (dir !== 'crds' && !existsSync(join(root, dir))) return;
      expect(crdDrift(join(root, dir))).toEqual([]);
    },
  );

  it('a CRD file that no longer matches its schema is reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crds-'));
    for (const [file, text] of Object.entries(crdFiles())) writeFileSync(join(dir, file), text);
    expect(crdDrift(dir)).toEqual([]);
    const file = 'fractale.dev_agentsteps.yaml';
    writeFileSync(
      join(dir, file),
      readFileSync(join(dir, file), 'utf8').replace('maximum: 100', 'maximum: 99'),
    );
    expect(crdDrift(dir)).toEqual([file]);
  });

  it.each([agentPlanCrd(), agentStepCrd()])('$spec.names.kind has a description on every field', (crd) => {
    const missing: string[] = [];
    const walk = (schema: Record<string, unknown>, path: string) => {
      if (!schema['description']) missing.push(path);
      const props = (schema['properties'] ?? {}) as Record<string, Record<string, unknown>>;
      for (const [k, v] of Object.entries(props)) walk(v, `${path}.${k}`);
      if (schema['items']) walk(schema['items'] as Record<string, unknown>, `${path}[]`);
    };
    walk(crd.spec.versions[0]!.schema.openAPIV3Schema as Record<string, unknown>, crd.spec.names.kind);
    expect(missing).toEqual([]);
  });

  it('has the printer columns, short names, category and status subresource users rely on', () => {
    const step = agentStepCrd().spec;
    expect(step.versions[0]!.additionalPrinterColumns.map((c) => [c.name, c.priority ?? 0])).toEqual([
      ['Plan', 0],
      ['Agent', 0],
      ['Phase', 0],
      ['Attempt', 0],
      ['Age', 0],
      ['Message', 1],
    ]);
    const plan = agentPlanCrd().spec;
    expect(plan.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority).map((c) => c.name)).toEqual([
      'Phase',
      'Step',
      'Attempts',
      'Age',
    ]);
    for (const spec of [step, plan]) {
      expect(spec.names.categories).toEqual(['fractale']);
      expect(spec.names.shortNames.length).toBeGreaterThan(0);
      expect(spec.versions[0]!.subresources).toEqual({ status: {} });
      expect(spec.scope).toBe('Namespaced');
    }
  });

  it('declares the CEL rule for unique step names', () => {
    const spec = agentPlanCrd().spec.versions[0]!.schema.openAPIV3Schema.properties.spec as Record<
      string,
      unknown
    >;
    expect(spec['x-kubernetes-validations']).toEqual([
      expect.objectContaining({ rule: 'self.steps.all(s, self.steps.exists_one(t, t.name == s.name))' }),
    ]);
  });
});
