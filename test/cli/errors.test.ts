// Errors a person can act on: one line, exit 1, saying what to do.
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGeminiServer } from '../../src/llm/fake-gemini-server.ts';
import { writeSimKubeconfig } from '../../src/sim/index.ts';
import { startTestCluster, stepExists, type TestCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/kubeconfig.ts';
import { fractale, tempDir, testIO } from './io.ts';

const root = join(import.meta.dirname, '../..');

let sim: TestCluster | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe('cluster errors', () => {
  it('says no cluster is reachable, with the server URL and what to do', async () => {
    const url = await closedPortUrl();
    const kubeconfig = join(tempDir(), 'kubeconfig');
    writeSimKubeconfig(kubeconfig, url);
    const result = await fractale(['get', 'steps', '--kubeconfig', kubeconfig]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: no cluster reachable at ${url}`);
    expect(result.stderr).toContain('check KUBECONFIG');
    expect(result.stderr).toContain('fractale sim');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('says when there is no kubeconfig at all', async () => {
    const result = await fractale(['get', 'steps'], testIO({ env: { HOME: tempDir() } }));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: no kubeconfig found .*fractale sim/);
  });

  it('says the CRDs are not installed and how to install them', async () => {
    sim = await startTestCluster({ installCrds: false });
    const result = await fractale(['agent', 'build', 'lammps', '--kubeconfig', sim.kubeconfigPath]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the fractale CRDs');
    expect(result.stderr).toContain('`kubectl apply -f crds/`');
  });

  it('says the operator is not running when a new step gets no status', async () => {
    sim = await startTestCluster();
    const io = testIO({ operatorWaitMs: 300 });
    const result = await fractale(
      ['agent', 'build', 'lammps', '--name', 'orphan', '--kubeconfig', sim.kubeconfigPath],
      io,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('AgentStep orphan has no status');
    expect(result.stderr).toContain('`fractale operator`');
    expect(result.stderr).toContain('Helm chart');
  });

  it('stops following on Ctrl-C, leaves the step, and says how to check on it', async () => {
    sim = await startTestCluster();
    const io = testIO({ operatorWaitMs: 60_000 });
    const running = fractale(
      ['agent', 'build', 'lammps', '--name', 'left', '--kubeconfig', sim.kubeconfigPath],
      io,
    );
    await eventually(() => io.err.join('').includes('Created AgentStep left'));
    io.interrupt();
    const result = await running;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('Stopped following; the work goes on in the cluster');
    expect(result.stderr).toContain('`fractale get steps`');
    expect(result.stderr).toContain('kubectl get agentsteps -w');
    expect(await stepExists(sim, 'left')).toBe(true);
  });
});

describe('usage errors', () => {
  it('names the agents when the agent is unknown', async () => {
    const result = await fractale(['agent', 'compile', 'lammps']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: unknown agent "compile": choose one of build, kubernetes-job, minicluster, cost, flux-batch, optimize\n',
    );
  });

  it('names the flag when a value is wrong', async () => {
    const result = await fractale(['agent', 'build', 'lammps', '--max-attempts', 'many']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--max-attempts must be a positive whole number, not "many"');
  });
});

describe('fractale ask', () => {
  it('says no API key is configured', async () => {
    const result = await fractale(['ask', 'hello'], testIO({ env: {} }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no Gemini API key: set GEMINI_API_KEY');
    // ask takes no --api-key-secret, so it does not suggest one.
    expect(result.stderr).not.toContain('--api-key-secret');
  });

  it('through the installed command: one line, naming only what ask takes', async () => {
    const env = { ...process.env };
    delete env['GEMINI_API_KEY'];
    const failed = await promisify(execFile)(
      process.execPath,
      [join(root, 'bin/fractale.js'), 'ask', 'hello'],
      {
        env,
        encoding: 'utf8',
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toBe('error: no Gemini API key: set GEMINI_API_KEY\n');
  });

  it('prints the answer and the token usage from Gemini', async () => {
    const gemini = await startFakeGeminiServer({ apiKey: 'test-key' });
    try {
      gemini.enqueue({
        type: 'text',
        text: 'Use ca-certificates.',
        usage: { promptTokenCount: 7, candidatesTokenCount: 4, totalTokenCount: 11 },
      });
      const result = await fractale(
        ['ask', 'What do I forget?'],
        testIO({ env: { GEMINI_API_KEY: 'test-key', GEMINI_BASE_URL: gemini.url } }),
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe('Use ca-certificates.\n');
      expect(result.stderr).toMatch(/^tokens: 7 prompt \+ 4 output = 11 total/);
      expect(JSON.stringify(gemini.requests[0]?.body)).toContain('What do I forget?');
    } finally {
      await gemini.close();
    }
  });
});

describe('the installed command', () => {
  it('runs bin/fractale.js with Node 24', async () => {
    const node = join(root, 'node_modules/.bin/node');
    const { stdout } = await promisify(execFile)(node, [join(root, 'bin/fractale.js'), '--help'], {
      cwd: root,
    });
    for (const command of [
      'agent',
      'ask',
      'get',
      'logs',
      'answer',
      'results',
      'convert',
      'operator',
      'sim',
      'demo',
    ])
      expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    const failed = await promisify(execFile)(node, [join(root, 'bin/fractale.js'), 'agent', 'compile']).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringContaining('unknown agent "compile"') });
  });
});

describe('Ctrl-C in the installed command', () => {
  it('stops following at once and exits 130, leaving the step', async () => {
    sim = await startTestCluster();
    const node = join(root, 'node_modules/.bin/node');
    const child = spawn(
      node,
      [
        join(root, 'bin/fractale.js'),
        'agent',
        'build',
        'lammps',
        '--name',
        'sigint',
        '--kubeconfig',
        sim.kubeconfigPath,
      ],
      // The operator watchdog would keep a process alive this long if Ctrl-C left it running.
      { env: { ...process.env, FRACTALE_OPERATOR_WAIT_MS: '600000' } },
    );
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('Created AgentStep sigint')) resolve();
      }),
    );
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('Stopped following; the work goes on in the cluster');
    expect(await stepExists(sim, 'sigint')).toBe(true);
  }, 20_000);
});

describe('fractale validate', () => {
  /** Runs the installed entry point on a file with the given text. */
  async function validate(text: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const file = join(tempDir(), 'plan.yaml');
    writeFileSync(file, text);
    return await promisify(execFile)(process.execPath, [
      join(root, 'bin/fractale.js'),
      'validate',
      file,
    ]).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code ?? 1,
        stdout: error.stdout ?? '',
        stderr: error.stderr ?? '',
      }),
    );
  }

  it('refuses unknown fields as the API server does, suggesting the field meant', async () => {
    const result = await validate(`apiVersion: fractale.dev/v1alpha1
kind: AgentPlan
metadata: {name: typo}
spec:
  gaol: build lammps
  steps:
    - name: build
      agnet: build
      agent: build
`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown field "spec.gaol" (did you mean goal?)');
    expect(result.stderr).toContain('unknown field "spec.steps[0].agnet" (did you mean agent?)');
    expect(result.stdout).not.toContain('(valid)');
  });

  it('refuses a step maxAttempts below 1 in its context, as the CRD does', async () => {
    const result = await validate(`apiVersion: fractale.dev/v1alpha1
kind: AgentPlan
metadata: {name: negative}
spec:
  steps:
    - name: build
      agent: build
      context: {application: lammps, maxAttempts: -3}
`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('maxAttempts must be at least 1');
  });

  it('refuses an empty file instead of printing a blank line', async () => {
    const result = await validate('');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('holds no document: expected an AgentPlan, an AgentStep or a seed plan');
  });

  it('shows the line a YAML error is on, not a message ending in a colon', async () => {
    const result = await validate('spec:\n  steps: [a\n  b: c\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /not valid YAML: .* at line 3, column 3:\n\n {2}steps: \[a\n {2}b: c\n {2}\^/,
    );
  });

  it('still accepts the sample plans', async () => {
    const result = await validate(readFileSync(join(root, 'plans/run-lammps.yaml'), 'utf8'));
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('(valid)');
  });
});
