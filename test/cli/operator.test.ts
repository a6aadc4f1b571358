// `fractale operator` and `fractale sim` as commands: started, used by other commands, stopped by Ctrl-C.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/kubeconfig.ts';
import { fractale, tempDir, testIO } from './io.ts';

const BIN = join(import.meta.dirname, '../../bin/fractale.js');

const DOCKERFILE =
  'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y ca-certificates git cmake g++ make\nRUN git clone https://github.com/lammps/lammps.git /opt/lammps && cd /opt/lammps && cmake cmake && make install';

let sim: TestCluster | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe('fractale operator', () => {
  it('runs the operator against the kubeconfig until Ctrl-C', async () => {
    sim = await startTestCluster({ speed: 0.005 });
    const dir = tempDir();
    const script = join(dir, 'script.yaml');
    writeFileSync(
      script,
      `responses:\n  - agent: build\n    text: |\n      \`\`\`dockerfile\n${DOCKERFILE.split('\n')
        .map((l) => `      ${l}`)
        .join('\n')}\n      \`\`\`\n`,
    );
    const operatorIO = testIO();
    const operator = fractale(
      [
        'operator',
        '--kubeconfig',
        sim.kubeconfigPath,
        '--provider',
        'scripted',
        '--script',
        script,
        '--leader-elect',
        'false',
        '--metrics-port',
        '0',
        '--health-port',
        '0',
        '--registry',
        'registry.fractale.test:5000',
      ],
      operatorIO,
    );
    await eventually(() => operatorIO.err.join('').includes('fractale operator running against'), 10_000);

    const build = await fractale(
      ['agent', 'build', 'lammps', '--outfile', 'Dockerfile', '--kubeconfig', sim.kubeconfigPath],
      testIO({ cwd: dir }),
    );
    expect(build.code, build.stderr).toBe(0);
    expect(readFileSync(join(dir, 'Dockerfile'), 'utf8')).toContain('ca-certificates');

    operatorIO.interrupt();
    const stopped = await operator;
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toContain('Stopping the operator');
    // Its logs are JSON lines on stderr.
    const logs = stopped.stderr.split('\n').filter((l) => l.startsWith('{'));
    expect(logs.length).toBeGreaterThan(0);
    expect(() => logs.map((l) => JSON.parse(l))).not.toThrow();
  });

  it('says in one line which flag to change when a port it serves is taken, and exits 1', async () => {
    const cluster = await startTestCluster({ speed: 0.005 });
    sim = cluster;
    const script = join(tempDir(), 'script.yaml');
    writeFileSync(script, 'responses: []\n');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      for (const [flag, other, endpoint, env] of [
        ['--health-port', '--metrics-port', 'health', 'FRACTALE_HEALTH_PORT'],
        ['--metrics-port', '--health-port', 'metrics', 'FRACTALE_METRICS_PORT'],
      ] as const) {
        // Through the installed entry point, as a person runs it (asynchronously: the sim serves
        // from this process).
        const result = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
          execFile(
            process.execPath,
            [
              BIN,
              'operator',
              '--kubeconfig',
              cluster.kubeconfigPath,
              '--provider',
              'scripted',
              '--script',
              script,
              '--leader-elect',
              'false',
              flag,
              String(port),
              other,
              '0',
            ],
            { encoding: 'utf8', timeout: 60_000 },
            (error, _stdout, stderr) =>
              resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
          );
        });
        expect(result.status, result.stderr).toBe(1);
        expect(result.stderr.trim()).toBe(
          `error: port ${port} for the ${endpoint} endpoint is in use (EADDRINUSE): choose another with ${flag} or ${env} (0: any free port)`,
        );
      }
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('names the flag and the variable of a wrong setting', async () => {
    const result = await fractale(['operator', '--concurrency', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--concurrency (FRACTALE_CONCURRENCY)');
  });

  it.each([
    [
      ['--model-concurrency', '0'],
      '--model-concurrency (FRACTALE_MODEL_CONCURRENCY): must be a whole number from 1 to 1000',
    ],
    [
      ['--model-tokens-per-minute', 'lots'],
      '--model-tokens-per-minute (FRACTALE_MODEL_TOKENS_PER_MINUTE): must be a whole number from 0',
    ],
  ])('refuses the model limits %j, naming the flag and the variable', async (flags, message) => {
    const result = await fractale(['operator', ...flags]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
  });
});

describe('fractale sim', () => {
  it('serves a cluster the other commands use, until Ctrl-C', async () => {
    const kubeconfig = join(tempDir(), 'kubeconfig');
    const simIO = testIO();
    const running = fractale(['sim', '--kubeconfig-out', kubeconfig], simIO);
    await eventually(() => simIO.out.join('').includes('Press Ctrl+C to stop.'), 10_000);
    expect(simIO.out.join('')).toContain(`export KUBECONFIG=${kubeconfig}`);
    const listed = await fractale(['get', 'plans', '--kubeconfig', kubeconfig]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stderr).toBe('No AgentPlans in namespace default\n');
    simIO.interrupt();
    const stopped = await running;
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('Simulated cluster stopped');
  });
});
