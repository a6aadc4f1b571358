// The README's "Try it by hand" blocks, run exactly as written: terminal 1 (the sim) and terminal 2
// (the operator) in the background, terminal 3 (a plan) to the end, then Ctrl-C to both.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect } from 'vitest';
import { simOnly } from '../helpers/cluster.ts';
import { eventually } from '../helpers/kubeconfig.ts';
import { tempDir } from './io.ts';

const root = join(import.meta.dirname, '../..');

/** The bash blocks between "**Try it by hand**" and the next bold paragraph. */
function tryItByHand(readme: string): string[] {
  const start = readme.indexOf('**Try it by hand**');
  const end = readme.indexOf('\n**', start + 1);
  expect(start, 'README has a "Try it by hand" paragraph').toBeGreaterThan(0);
  return [...readme.slice(start, end).matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

interface Terminal {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** The signal that ended it, if one did. */
  signal: () => NodeJS.Signals | null;
}

const terminals: Terminal[] = [];
afterEach(async () => {
  for (const t of terminals.splice(0)) {
    if (t.child.exitCode === null && t.child.signalCode === null) {
      process.kill(-t.child.pid!, 'SIGKILL');
      await t.exited;
    }
  }
});

function terminal(script: string, env: NodeJS.ProcessEnv): Terminal {
  // Its own process group, as a terminal's: Ctrl-C reaches npx and the command it runs.
  const child = spawn('bash', ['-e', '-c', script], { cwd: root, env, detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const t = { child, stdout: () => stdout, stderr: () => stderr, exited, signal: () => child.signalCode };
  terminals.push(t);
  return t;
}

describe('the README', () => {
  // The blocks start their own simulated cluster, whichever lane runs the suites.
  simOnly(
    'runs the try-it-by-hand blocks as written: the plan succeeds, Ctrl-C stops the operator and the sim',
    async () => {
      const blocks = tryItByHand(readFileSync(join(root, 'README.md'), 'utf8'));
      expect(blocks).toHaveLength(3);
      const env: NodeJS.ProcessEnv = {
        // A reader's shell: their own home, the project's Node 24 and npx, and kubectl on the PATH.
        HOME: tempDir('fractale-readme-home-'),
        PATH: [join(root, 'node_modules/.bin'), join(root, '.tools/bin'), process.env['PATH']].join(':'),
        // The only change from a reader's machine: this one runs other suites at the same time, so the
        // operator's endpoints take any free port instead of 8080 and 8081.
        FRACTALE_METRICS_PORT: '0',
        FRACTALE_HEALTH_PORT: '0',
      };
      const sim = terminal(blocks[0]!, env);
      await eventually(
        () => sim.stdout().includes('Press Ctrl+C to stop.') || sim.child.exitCode !== null,
        120_000,
      );
      expect(sim.stdout()).toContain('Run the operator with the demo');
      const operator = terminal(blocks[1]!, env);
      await eventually(
        () => operator.stderr().includes('Builds push to') || operator.child.exitCode !== null,
        120_000,
      );
      expect(operator.stderr()).toContain('Builds push to registry.fractale.demo:5000');

      const plan = terminal(blocks[2]!, env);
      const code = await plan.exited;
      expect({ code, stdout: plan.stdout(), stderr: plan.stderr() }).toMatchObject({ code: 0 });
      expect(plan.stdout()).toContain('agentplan.fractale.dev/run-lammps created');
      expect(plan.stdout()).toContain('agentplan.fractale.dev/run-lammps condition met');
      expect(plan.stdout()).toMatch(/run-lammps-build\s+run-lammps\s+build\s+Succeeded\s+2/);
      expect(plan.stdout()).toMatch(/run-lammps-run\s+run-lammps\s+kubernetes-job\s+Succeeded\s+2/);

      for (const t of [operator, sim]) process.kill(-t.child.pid!, 'SIGINT');
      // As in a terminal: the command stops cleanly, and npx and bash end as Ctrl-C ends them.
      for (const t of [operator, sim]) {
        const exit = await t.exited;
        expect([exit, t.signal()]).toSatisfy(
          ([c, signal]: [number | null, string | null]) => c === 0 || c === 130 || signal === 'SIGINT',
        );
      }
      expect(operator.stderr()).toContain('Stopping the operator');
      expect(sim.stdout()).toContain('Simulated cluster stopped');
      // No warnings from npm or Node on the way (EBADENGINE, experimental features, ...).
      for (const t of [sim, operator, plan])
        expect(t.stderr()).not.toMatch(/npm warn|EBADENGINE|Warning:|\(node:\d+\)/);
    },
    600_000,
  );
});
