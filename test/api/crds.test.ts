import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { agentExperimentCrd, agentPlanCrd, agentStepCrd, crdDrift, crdFiles } from '../../src/api/index.ts';
import { versionSchemaErrors } from '../../src/sim/server/crd-schema.ts';

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

  it.each([agentExperimentCrd(), agentPlanCrd(), agentStepCrd()])(
    '$spec.names.kind has a description on every field',
    (crd) => {
      const missing: string[] = [];
      // metadata is the API server's ObjectMeta, documented by it; a CRD may not describe it.
      const serverOwned = `${crd.spec.names.kind}.metadata`;
      const walk = (schema: Record<string, unknown>, path: string) => {
        if (!schema['description'] && path !== serverOwned) missing.push(path);
        const props = (schema['properties'] ?? {}) as Record<string, Record<string, unknown>>;
        for (const [k, v] of Object.entries(props)) walk(v, `${path}.${k}`);
        if (schema['items']) walk(schema['items'] as Record<string, unknown>, `${path}[]`);
      };
      walk(crd.spec.versions[0]!.schema.openAPIV3Schema as Record<string, unknown>, crd.spec.names.kind);
      expect(missing).toEqual([]);
    },
  );

  it('has the printer columns, short names, category and status subresource users rely on', () => {
    const step = agentStepCrd().spec;
    expect(step.versions[0]!.additionalPrinterColumns.map((c) => [c.name, c.priority ?? 0])).toEqual([
      ['Plan', 0],
      ['Agent', 0],
      ['Phase', 0],
      ['Attempt', 0],
      ['Age', 0],
      ['Best', 1],
      ['Ratio', 1],
      ['Message', 1],
    ]);
    const plan = agentPlanCrd().spec;
    expect(plan.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority).map((c) => c.name)).toEqual([
      'Phase',
      'Step',
      'Recoveries',
      'Age',
    ]);
    const experiment = agentExperimentCrd().spec;
    expect(
      experiment.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority).map((c) => c.name),
    ).toEqual(['Phase', 'Plans', 'Done', 'Failed', 'Age']);
    for (const spec of [step, plan, experiment]) {
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

describe('generated CRDs against the API server rules', () => {
  it.each([agentPlanCrd(), agentStepCrd()])(
    '$spec.names.kind passes the structural-schema, defaulting and rule-cost checks',
    (crd) => {
      expect(versionSchemaErrors(crd.spec.versions)).toEqual([]);
    },
  );

  it('would have refused the metadata description the first CRDs carried', () => {
    const crd = structuredClone(agentPlanCrd());
    const schema = crd.spec.versions[0]!.schema.openAPIV3Schema as { properties: Record<string, unknown> };
    schema.properties['metadata'] = {
      type: 'object',
      description: 'metadata: the standard object metadata.',
    };
    expect(versionSchemaErrors(crd.spec.versions).map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.validation.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified',
    ]);
  });
});

describe('the CRD schema check of the tests', () => {
  it('knows the date-time format: a malformed time is refused, and ajv prints no "unknown format"', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      // Compiled when first imported, which is when ajv would warn of an unknown format.
      const { crdErrors } = await import('./crd-schema.ts');
      const step = (startTime: string) => ({
        apiVersion: 'fractale.dev/v1alpha1',
        kind: 'AgentStep',
        metadata: { name: 'timed' },
        spec: { agent: 'cost', context: { instruction: 'estimate' } },
        status: { phase: 'Running', startTime },
      });
      expect(crdErrors(step('2026-01-01T00:00:00Z'))).toEqual([]);
      expect(crdErrors(step('yesterday'))).toEqual(['status.startTime: must match format "date-time"']);
      const printed = [...warn.mock.calls, ...log.mock.calls].map((args) => args.join(' '));
      expect(printed.filter((line) => line.includes('unknown format'))).toEqual([]);
    } finally {
      warn.mockRestore();
      log.mockRestore();
    }
  });
});
