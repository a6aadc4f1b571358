// config/ (kustomize, for installs without Helm) must be what the chart renders, and every copy of
// the CRDs must be the generated one.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toolsDir } from '../../scripts/fetch-tools.ts';
import { CONFIG_RELEASE, renderConfig, root, staleConfigFiles } from '../../scripts/render-config.ts';
import { find, type Manifest, parseManifests, render, validateManifest } from './manifests.ts';

const cacheDir = mkdtempSync(join(tmpdir(), 'fractale-kubectl-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

const kustomize = (dir: string) =>
  parseManifests(
    execFileSync(join(toolsDir, 'kubectl'), ['kustomize', join(root, dir), '--cache-dir', cacheDir], {
      encoding: 'utf8',
    }),
  );

/** The object without the labels that say which tool manages it. */
function comparable(object: Manifest): Manifest {
  const copy = structuredClone(object);
  const strip = (labels?: Record<string, string>) => {
    if (!labels) return;
    delete labels['helm.sh/chart'];
    delete labels['app.kubernetes.io/managed-by'];
  };
  strip(copy.metadata.labels);
  strip(
    (copy['spec'] as { template?: { metadata?: { labels?: Record<string, string> } } })?.template?.metadata
      ?.labels,
  );
  return copy;
}

describe('config/', () => {
  const rendered = renderConfig();

  it('is exactly what scripts/render-config.ts renders from the chart (run it after changing the chart)', () => {
    for (const [path, text] of rendered) expect(readFileSync(join(root, path), 'utf8'), path).toBe(text);
    expect(staleConfigFiles(rendered)).toEqual([]);
  });

  it('marks every rendered file as generated', () => {
    for (const [path, text] of rendered)
      expect(text.split('\n')[0], path).toMatch(/^# (Generated|Copied) from /);
  });

  it('builds with kustomize into the chart-rendered objects plus the namespace and CRDs', () => {
    const built = kustomize('config/default');
    const chart = render();
    for (const object of built) validateManifest(object);
    const key = (o: Manifest) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const crds = find(built, 'CustomResourceDefinition');
    expect(crds.map((c) => c.metadata.name).sort()).toEqual([
      'agentexperiments.fractale.dev',
      'agentplans.fractale.dev',
      'agentsteps.fractale.dev',
    ]);
    expect(find(built, 'Namespace').map((n) => n.metadata.name)).toEqual([CONFIG_RELEASE.namespace]);
    const operatorObjects = built.filter(
      (o) => o.kind !== 'CustomResourceDefinition' && o.kind !== 'Namespace',
    );
    expect(operatorObjects.map(key).sort()).toEqual(chart.map(key).sort());
    for (const object of operatorObjects) {
      const twin = chart.find((o) => key(o) === key(object));
      expect(comparable(object), key(object)).toEqual(comparable(twin!));
      expect(object.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('kustomize');
    }
  });

  it('carries the sample plans and steps unchanged below their header', () => {
    const samples = kustomize('config/samples');
    const plans = readdirSync(join(root, 'plans')).filter((f) => f.endsWith('.yaml'));
    const steps = readdirSync(join(root, 'plans', 'steps')).filter((f) => f.endsWith('.yaml'));
    expect(samples).toHaveLength(plans.length + steps.length);
    expect(find(samples, 'AgentPlan').map((p) => p.metadata.name)).toContain('run-lammps');
    for (const file of plans) {
      const copy = readFileSync(join(root, 'config', 'samples', file), 'utf8');
      expect(copy.slice(copy.indexOf('\n') + 1)).toBe(readFileSync(join(root, 'plans', file), 'utf8'));
    }
  });
});

describe('CRDs', () => {
  const generated = readdirSync(join(root, 'crds')).filter((f) => f.endsWith('.yaml'));

  it.each(['charts/fractale/crds', 'config/crd/bases'])(
    '%s holds the generated crds/ byte for byte',
    (dir) => {
      expect(generated.length).toBeGreaterThan(0);
      expect(readdirSync(join(root, dir)).sort()).toEqual([...generated].sort());
      for (const file of generated) {
        expect(readFileSync(join(root, dir, file), 'utf8'), `${dir}/${file}`).toBe(
          readFileSync(join(root, 'crds', file), 'utf8'),
        );
      }
    },
  );
});
