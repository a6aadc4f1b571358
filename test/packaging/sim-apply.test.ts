// The chart's manifests, applied with the real kubectl to the simulated cluster: the CRDs first (as
// Helm does), then the operator's objects, then the sample plans against those CRDs.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { toolsDir } from '../../scripts/fetch-tools.ts';
import { root, runHelm } from '../../scripts/render-config.ts';
import { type SimCluster, startSimCluster } from '../../src/sim/index.ts';
import { Store } from '../../src/sim/store.ts';
import { chartDir, kindValues, type Manifest, parseManifests } from './manifests.ts';

const run = promisify(execFile);
const NS = 'fractale-system';

let cluster: SimCluster;
let work: string;

async function kubectl(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(
    join(toolsDir, 'kubectl'),
    ['--kubeconfig', cluster.kubeconfigPath, '--cache-dir', join(work, 'cache'), ...args],
    { encoding: 'utf8' },
  );
}

function writeManifests(name: string, objects: Manifest[]): string {
  const path = join(work, name);
  writeFileSync(path, objects.map((o) => stringify(o)).join('---\n'));
  return path;
}

const rendered = parseManifests(
  runHelm([
    'template',
    'fractale',
    chartDir,
    '--namespace',
    NS,
    '--include-crds',
    '--values',
    kindValues,
    '--set',
    'model.apiKey.value=not-a-real-key',
  ]),
);
const crds = rendered.filter((o) => o.kind === 'CustomResourceDefinition');
const operatorObjects = rendered.filter((o) => o.kind !== 'CustomResourceDefinition');

// The simulated API server serves a subset of Kubernetes; a fresh Store tells which kinds.
const probe = new Store();
const served = (object: Manifest) =>
  probe.resolve(object.kind, object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '') !==
  undefined;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'fractale-sim-apply-'));
  // The chart brings its own CRDs; the simulated cluster starts without them.
  cluster = await startSimCluster({ installCrds: false, speed: 0.001 });
});

afterAll(async () => {
  await cluster?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the chart applied with kubectl to the simulated cluster', () => {
  it('creates the CRDs, which are then served', async () => {
    expect(crds).toHaveLength(3);
    const { stdout } = await kubectl('apply', '-f', writeManifests('crds.yaml', crds));
    expect(stdout).toContain(
      'customresourcedefinition.apiextensions.k8s.io/agentexperiments.fractale.dev created',
    );
    expect(stdout).toContain('customresourcedefinition.apiextensions.k8s.io/agentplans.fractale.dev created');
    expect(stdout).toContain('customresourcedefinition.apiextensions.k8s.io/agentsteps.fractale.dev created');
    const resources = await kubectl('api-resources', '--api-group', 'fractale.dev', '-o', 'name');
    expect(resources.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'agentexperiments.fractale.dev',
      'agentplans.fractale.dev',
      'agentsteps.fractale.dev',
    ]);
  });

  async function applyTwice(name: string, objects: Manifest[]): Promise<void> {
    const file = writeManifests(name, objects);
    const first = await kubectl('apply', '-f', file);
    expect(first.stdout.trim().split('\n')).toHaveLength(objects.length);
    expect(first.stdout).not.toMatch(/unchanged|configured/);
    const second = await kubectl('apply', '-f', file);
    expect(
      second.stdout
        .trim()
        .split('\n')
        .filter((line) => !line.endsWith(' unchanged')),
    ).toEqual([]);
    const back = JSON.parse((await kubectl('get', '-f', file, '-o', 'json')).stdout) as { items: Manifest[] };
    const key = (o: Manifest) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    expect(back.items.map(key).sort()).toEqual(objects.map(key).sort());
  }

  it('creates every operator object (Deployment, RBAC, Service, ...), and a second apply changes nothing', async () => {
    expect(operatorObjects.filter((o) => !served(o)).map((o) => o.kind)).toEqual([]);
    await kubectl('create', 'namespace', NS);
    expect(operatorObjects.map((o) => o.kind)).toEqual(
      expect.arrayContaining([
        'Deployment',
        'ServiceAccount',
        'ClusterRole',
        'ClusterRoleBinding',
        'Role',
        'RoleBinding',
        'Service',
        'Secret',
      ]),
    );
    await applyTwice('operator.yaml', operatorObjects);
  });

  it('accepts the sample plans of config/samples against the CRDs from the chart', async () => {
    const { stdout } = await kubectl('apply', '-n', 'default', '-k', join(root, 'config', 'samples'));
    expect(stdout).toContain('agentplan.fractale.dev/run-lammps created');
    const plans = await kubectl('get', 'agentplans', '-n', 'default', '-o', 'name');
    expect(plans.stdout).toContain('agentplan.fractale.dev/run-lammps');
  });
});
