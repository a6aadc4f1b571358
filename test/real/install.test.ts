// Installation on a real kube-apiserver, as a user does it: `kubectl apply -k config/default`, the
// chart with the real helm (install, then upgrade), `kubectl apply -f crds/` and the sample plans,
// with the printer columns, `kubectl explain` and a refused plan. The real server validates every
// object (CRDs, RBAC, the Deployment, the Service) with its own rules.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { toolsDir } from '../../scripts/fetch-tools.ts';
import { chartDir, root } from '../../scripts/render-config.ts';
import { kindValues } from '../packaging/manifests.ts';
import { realKubeconfig } from './cluster.ts';

const run = promisify(execFile);
const NS = 'fractale-system';
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'fractale-real-install-'));
  // A user's first install: no fractale CRDs yet (another suite of the lane may have made them).
  await kubectl(
    'delete',
    'crd',
    'agentexperiments.fractale.dev',
    'agentplans.fractale.dev',
    'agentsteps.fractale.dev',
    '--ignore-not-found',
    '--wait',
  );
}, 120_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

async function tool(name: 'kubectl' | 'helm', args: string[], input?: string) {
  const env = { PATH: process.env['PATH'] ?? '', HOME: work, KUBECONFIG: realKubeconfig() };
  const extra = name === 'kubectl' ? ['--cache-dir', join(work, 'cache')] : [];
  try {
    const child = run(join(toolsDir, name), [...extra, ...args], { encoding: 'utf8', env });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    const { stdout, stderr } = await child;
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
  }
}
const kubectl = (...args: string[]) => tool('kubectl', args);

describe('installing fractale on a real kube-apiserver', () => {
  it('applies config/default with kubectl, again without change, and deletes it', async () => {
    // Removed even when an assertion fails, so the chart installs into a clean cluster next.
    onTestFinished(async () => {
      await kubectl(
        'delete',
        '-k',
        join(root, 'config', 'default'),
        '--ignore-not-found',
        '--wait',
        '--timeout=120s',
      );
    });
    const first = await kubectl('apply', '-k', join(root, 'config', 'default'));
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain(
      'customresourcedefinition.apiextensions.k8s.io/agentplans.fractale.dev created',
    );
    expect(first.stdout).toContain('deployment.apps/fractale created');
    expect(first.stdout).toContain('clusterrole.rbac.authorization.k8s.io/fractale-manager created');
    const second = await kubectl('apply', '-k', join(root, 'config', 'default'));
    expect(second.code).toBe(0);
    expect(
      second.stdout
        .trim()
        .split('\n')
        .filter((l) => !l.endsWith(' unchanged')),
    ).toEqual([]);
    const gone = await kubectl('delete', '-k', join(root, 'config', 'default'), '--wait', '--timeout=120s');
    expect(gone.stderr).toBe('');
  }, 180_000);

  it('installs the chart with helm, then upgrades it', async () => {
    const base = ['--namespace', NS, '--values', kindValues, '--set', 'model.apiKey.value=not-a-real-key'];
    const install = await tool('helm', ['install', 'fractale', chartDir, '--create-namespace', ...base]);
    expect(install.stderr).toBe('');
    expect(install.stdout).toMatch(/STATUS: deployed/);
    expect(install.stdout).toMatch(/REVISION: 1/);
    const upgrade = await tool('helm', ['upgrade', 'fractale', chartDir, ...base, '--set', 'concurrency=3']);
    expect(upgrade.stderr).toBe('');
    expect(upgrade.stdout).toMatch(/REVISION: 2/);
    const deployment = await kubectl(
      '-n',
      NS,
      'get',
      'deployment',
      'fractale',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].env[?(@.name=="FRACTALE_CONCURRENCY")].value}',
    );
    expect(deployment.stdout).toBe('3');
    const crds = await kubectl('get', 'crd', '-o', 'name');
    expect(crds.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/agentsteps.fractale.dev');
  }, 180_000);

  it('applies crds/ over the chart unchanged, then the sample plans, shown with their columns', async () => {
    const crds = await kubectl('apply', '--server-side', '--force-conflicts', '-f', join(root, 'crds'));
    expect(crds.stderr).toBe('');
    await kubectl(
      'wait',
      '--for=condition=Established',
      'crd/agentexperiments.fractale.dev',
      'crd/agentplans.fractale.dev',
      'crd/agentsteps.fractale.dev',
    );
    const plans = await kubectl(
      'apply',
      '-n',
      'default',
      '-f',
      join(root, 'plans'),
      '-f',
      join(root, 'plans', 'steps'),
    );
    expect(plans.stderr).toBe('');
    for (const name of ['run-lammps', 'minicluster-lammps', 'cost-estimate', 'flux-batch'])
      expect(plans.stdout).toContain(`agentplan.fractale.dev/${name} created`);
    expect(plans.stdout).toMatch(/agentstep\.fractale\.dev\/\S+ created/);
    const table = await kubectl('get', 'agentplans', '-n', 'default');
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+PHASE\s+STEP\s+RECOVERIES\s+AGE$/);
    const steps = await kubectl('get', 'agentsteps', '-n', 'default', '-o', 'wide');
    expect(steps.stdout.split('\n')[0]).toMatch(
      /^NAME\s+PLAN\s+AGENT\s+PHASE\s+ATTEMPT\s+AGE\s+BEST\s+RATIO\s+MESSAGE$/,
    );
  }, 120_000);

  it('explains the fields from the CRD schema', async () => {
    const explain = await kubectl('explain', 'agentplan.spec.steps');
    expect(explain.code).toBe(0);
    expect(explain.stdout).toContain('FIELD: steps');
    expect(explain.stdout).toMatch(/agent\s+<string> -required-/);
  });

  it('refuses a plan with an unknown agent, naming the field', async () => {
    const bad = JSON.stringify({
      apiVersion: 'fractale.dev/v1alpha1',
      kind: 'AgentPlan',
      metadata: { name: 'bad', namespace: 'default' },
      spec: { steps: [{ name: 'x', agent: 'bulid' }] },
    });
    const res = await tool('kubectl', ['apply', '-f', '-'], bad);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('The AgentPlan "bad" is invalid:');
    expect(res.stderr).toContain(
      'spec.steps[0].agent: Unsupported value: "bulid": supported values: "build",',
    );
  });
});
