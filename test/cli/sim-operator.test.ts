// `fractale sim` and `fractale operator` through the installed entry point, as a newcomer runs them:
// the sim says how to run the operator and how fast its time runs, advertises its registry, and the
// operator builds there unless told otherwise; the operator's logs are pretty on a terminal only.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_REGISTRY } from '../../src/cli/commands/demo.ts';
import { readPlanFile } from '../../src/cli/files.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import { simOnly, startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/kubeconfig.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';
import { tempDir } from './io.ts';

const root = join(import.meta.dirname, '../..');
const BIN = join(root, 'bin/fractale.js');
const SCRIPT = join(root, 'demo/run-lammps.script.yaml');
/** The operator on any free ports, without a Lease, with the demo's answers. */
const OPERATOR = [
  'operator',
  '--provider',
  'scripted',
  '--script',
  SCRIPT,
  '--leader-elect',
  'false',
  '--metrics-port',
  '0',
  '--health-port',
  '0',
];

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const running: Running[] = [];
let cluster: TestCluster | undefined;
let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
  for (const r of running.splice(0)) {
    if (r.child.exitCode === null && r.child.signalCode === null) {
      process.kill(-r.child.pid!, 'SIGTERM');
      await r.exited;
    }
  }
  await cluster?.stop();
  cluster = undefined;
});

/** Starts a command in its own process group; stdout and stderr are read together. */
function start(command: string, args: string[]): Running {
  const child = spawn(command, args, {
    cwd: root,
    detached: true,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const r = { child, output: () => output, exited };
  running.push(r);
  return r;
}

const fractale = (...args: string[]) => start(process.execPath, [BIN, ...args]);

async function stop(r: Running): Promise<string> {
  process.kill(-r.child.pid!, 'SIGINT');
  await r.exited;
  return r.output();
}

describe('fractale sim with fractale operator', () => {
  // `fractale sim` is the simulated cluster, whichever lane runs the suites.
  simOnly(
    'the sim prints the operator command, its speed and its registry; the operator builds there',
    async () => {
      const kubeconfig = join(tempDir(), 'kubeconfig');
      const sim = fractale('sim', '--kubeconfig-out', kubeconfig);
      await eventually(() => sim.output().includes('Press Ctrl+C to stop.'), 120_000);
      const out = sim.output();
      expect(out).toContain(
        'Time: real time (--speed 1), so a LAMMPS build attempt takes about 45 s; --speed 0.05 runs 20x faster, as the demo does',
      );
      expect(out).toContain(
        'Registry: builds push to registry.fractale.demo:5000 (advertised in kube-public/local-registry-hosting',
      );
      expect(out).toContain(
        `  export KUBECONFIG=${kubeconfig}\n  npx fractale operator --provider scripted --script ${SCRIPT}\n`,
      );
      expect(out).toContain(
        `  kubectl apply -f ${join(root, 'plans/run-lammps.yaml')}\n  kubectl get agentsteps -w\n`,
      );

      const operator = fractale(...OPERATOR, '--kubeconfig', kubeconfig);
      await eventually(() => operator.output().includes('Builds push to'), 120_000);
      expect(operator.output()).toContain(
        'Builds push to registry.fractale.demo:5000, the registry the cluster advertises in kube-public/local-registry-hosting (--registry overrides it)',
      );
      expect(await stop(operator)).toContain('Stopping the operator');

      // A registry given on the command line wins, and nothing is said about it.
      const given = fractale(...OPERATOR, '--kubeconfig', kubeconfig, '--registry', 'registry.example:5000');
      await eventually(() => given.output().includes('fractale operator running against'), 120_000);
      expect(await stop(given)).not.toContain('Builds push to');
      expect(await stop(sim)).toContain('Simulated cluster stopped');
    },
    300_000,
  );

  it('says in one line that builds need --registry when the cluster advertises none', async () => {
    cluster = await startTestCluster();
    const operator = fractale(...OPERATOR, '--kubeconfig', cluster.kubeconfigPath);
    await eventually(() => operator.output().includes('No registry'), 120_000);
    expect(operator.output()).toContain(
      'No registry for builds: build steps will fail until you give --registry <host[/path]> (or FRACTALE_REGISTRY)\n',
    );
    await stop(operator);
  }, 300_000);
});

// `script` gives the command a terminal, as a person's shell does.
const hasScript = spawnSync('script', ['--version']).status === 0;

describe('fractale operator logs', () => {
  it.skipIf(!hasScript)(
    'are pretty on a terminal, with clock times, not JSON',
    async () => {
      cluster = await startTestCluster();
      const command = [
        process.execPath,
        BIN,
        ...OPERATOR,
        '--kubeconfig',
        cluster.kubeconfigPath,
        '--registry',
        'r.test:5000',
      ]
        .map((word) => `'${word}'`)
        .join(' ');
      const tty = start('script', ['-qefc', command, '/dev/null']);
      await eventually(() => tty.output().includes('Started controllers'), 120_000);
      const output = tty.output();
      expect(output).toMatch(/\[\d\d:\d\d:\d\d\] .*INFO.*: .*Started controllers/);
      expect(output).not.toContain('{"level"');
    },
    300_000,
  );

  it('are JSON lines with epoch times when stderr is not a terminal', async () => {
    cluster = await startTestCluster();
    const operator = fractale(
      ...OPERATOR,
      '--kubeconfig',
      cluster.kubeconfigPath,
      '--registry',
      'r.test:5000',
    );
    await eventually(() => operator.output().includes('Started controllers'), 120_000);
    const line = operator
      .output()
      .split('\n')
      .find((l) => l.includes('Started controllers'))!;
    expect(JSON.parse(line)).toMatchObject({
      level: 30,
      time: expect.any(Number),
      msg: 'Started controllers',
    });
    await stop(operator);
  }, 300_000);
});

describe('fractale get and kubectl get', () => {
  it('agree: RECOVERIES for a plan, the same ATTEMPT number for a step', async () => {
    operator = await startTestOperator({
      model: ScriptedModel.fromFile(SCRIPT),
      config: { registry: DEMO_REGISTRY },
    });
    const plan = readPlanFile(join(root, 'plans/run-lammps.yaml'));
    await operator.client.create(RESOURCES.agentPlans, {
      ...plan,
      metadata: { ...plan.metadata, namespace: 'default' },
    } as never);
    await waitForPhase(
      operator.client,
      'AgentPlan',
      'default',
      'run-lammps',
      ['Succeeded', 'Failed'],
      120_000,
    );
    const kubeconfig = operator.sim.kubeconfigPath;
    const bin = async (...args: string[]) => {
      const r = fractale(...args, '--kubeconfig', kubeconfig);
      expect(await r.exited, r.output()).toBe(0);
      return r.output().trim().split('\n');
    };
    const columns = (line: string) => line.trim().split(/\s{2,}/);
    const [planHeader, planRow] = await bin('get', 'plans');
    const kubePlans = (await kubectl(kubeconfig, ['get', 'agentplans'])).stdout.trim().split('\n');
    expect(columns(planHeader!).slice(0, 4)).toEqual(['NAME', 'PHASE', 'STEP', 'RECOVERIES']);
    expect(columns(kubePlans[0]!).slice(0, 4)).toEqual(['NAME', 'PHASE', 'STEP', 'RECOVERIES']);
    expect(columns(planRow!).slice(0, 4)).toEqual(columns(kubePlans[1]!).slice(0, 4));

    const steps = await bin('get', 'steps');
    const kubeSteps = (await kubectl(kubeconfig, ['get', 'agentsteps'])).stdout.trim().split('\n');
    const attempt = (lines: string[]) => {
      const at = columns(lines[0]!).indexOf('ATTEMPT');
      return Object.fromEntries(lines.slice(1).map((l) => [columns(l)[0], columns(l)[at]]));
    };
    expect(attempt(steps)).toEqual({ 'run-lammps-build': '2', 'run-lammps-run': '2' });
    expect(attempt(kubeSteps)).toEqual(attempt(steps));
  }, 300_000);
});
