// `fractale agent optimize` on its own, for AMG2023 on the simulated cluster (demo/optimize.behaviors.yaml:
// the figure of merit rises with ranks up to the CPUs; a process grid that does not match the ranks
// aborts as amg.c does): the baseline, a kept change, a trial that fails and goes through the debug
// agent, the budget that ends it, and the best Job written to --outfile.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { DEMO_REGISTRY } from '../../src/cli/commands/demo.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { startTestOperator, type TestOperator } from '../helpers/operator.ts';
import { fractale, tempDir, testIO } from './io.ts';

const root = join(import.meta.dirname, '../..');
const IMAGE = 'ghcr.io/llnl/amg2023:latest';
const job = (command: string) => `apiVersion: batch/v1
kind: Job
metadata: { name: amg }
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: amg
          image: ${IMAGE}
          command: ${command}
          resources:
            requests: { cpu: "4", memory: 4Gi }
`;
const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');

const SCRIPT = `reuse: true
responses:
  - agent: debug
    match: "Invalid number of processors"
    text: The process grid -P 4 2 1 has 8 processes but mpirun starts 4; make px*py*pz equal to the ranks.
  - agent: optimize
    match: "\\\\| 1 \\\\| "
    text: |
      \`\`\`json
      {"change": "a 4 x 2 x 1 process grid", "reason": "a flatter grid cuts communication"}
      \`\`\`
      \`\`\`yaml
${indent(job('["mpirun", "--allow-run-as-root", "-np", "4", "amg", "-P", "4", "2", "1"]'))}
      \`\`\`
  - agent: optimize
    text: |
      \`\`\`json
      {"change": "4 MPI ranks in a 2 x 2 x 1 grid", "reason": "one rank per requested CPU"}
      \`\`\`
      \`\`\`yaml
${indent(job('["mpirun", "--allow-run-as-root", "-np", "4", "amg", "-P", "2", "2", "1"]'))}
      \`\`\`
`;

let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

describe('fractale agent optimize', () => {
  it('makes AMG2023 faster, records a failed trial, stops on the budget and writes the best Job', async () => {
    operator = await startTestOperator({
      script: SCRIPT,
      sim: { behaviors: join(root, 'demo/optimize.behaviors.yaml'), speed: 0.01 },
      config: { registry: DEMO_REGISTRY },
    });
    const dir = tempDir();
    writeFileSync(join(dir, 'job.yaml'), job('["amg"]'));
    const io = testIO({ cwd: dir });
    const result = await fractale(
      [
        'agent',
        'optimize',
        IMAGE,
        '--name',
        'amg-opt',
        '--manifest',
        'job.yaml',
        '--figure',
        'amg-fom',
        '--repetitions',
        '2',
        '--max-trials',
        '2',
        '--outfile',
        'best.yaml',
        '--kubeconfig',
        operator.sim.kubeconfigPath,
      ],
      io,
    );
    expect(result.code, result.stderr).toBe(0);
    const step = await operator.client.get<AgentStep>(RESOURCES.agentSteps, 'default', 'amg-opt');
    const optimization = step.status!.optimization!;
    expect(step.status?.reason).toBe('BudgetSpent');
    expect(optimization.figure).toBe('AMG figure of merit');
    expect(optimization.direction).toBe('higher');
    expect(optimization.trials.map((t) => t.outcome)).toEqual(['baseline', 'kept', 'failed']);
    expect(optimization.trials[2]!.message).toContain('Invalid number of processors');
    expect(optimization.ratio).toBeGreaterThan(2);
    // The failed trial went through the debug agent; its advice is in the history.
    expect(step.status?.history?.map((h) => h.outcome)).toEqual(['Succeeded', 'Succeeded', 'Failed']);
    // --outfile is the best Job; stdout the trials table.
    expect(readFileSync(join(dir, 'best.yaml'), 'utf8')).toMatch(/- -P\n\s+- "2"\n\s+- "2"\n\s+- "1"/);
    expect(result.stdout).toMatch(/Best [\d.e+]+ AMG figure of merit \(baseline [\d.e+]+, ratio [\d.]+\)/);
    expect(result.stdout).toMatch(/ {2}1 {2}kept/);
  }, 240_000);

  it('refuses bad flags before the cluster, naming them', async () => {
    const noManifest = await fractale(['agent', 'optimize', IMAGE, '--figure', 'amg-fom']);
    expect(noManifest.code).toBe(1);
    expect(noManifest.stderr).toContain('--manifest is required');
    const dir = tempDir();
    writeFileSync(join(dir, 'job.yaml'), job('["amg"]'));
    const badParser = await fractale(
      ['agent', 'optimize', IMAGE, '--manifest', 'job.yaml', '--figure', 'gflops'],
      testIO({ cwd: dir }),
    );
    expect(badParser.code).toBe(1);
    expect(badParser.stderr).toContain('figureOfMerit.parser');
  });
});
