// What a user sees: `kubectl get agentsteps -w` (the real kubectl) shows each phase a step goes through.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RESOURCES } from '../../src/kube/resources.ts';
import { eventually } from '../helpers/kubeconfig.ts';
import { KUBECTL } from '../helpers/kubectl.ts';
import { agentStep, startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

describe('kubectl get agentsteps -w', () => {
  it('shows each transition of a build that fails once and then succeeds', async () => {
    const script = `responses:
  - agent: build
    text: |
      \`\`\`dockerfile
      FROM ubuntu:22.04
      RUN git clone https://github.com/lammps/lammps.git
      \`\`\`
  - agent: debug
    text: Install ca-certificates first.
  - agent: build
    match: "Install ca-certificates first"
    text: |
      \`\`\`dockerfile
      FROM ubuntu:22.04
      RUN apt-get install -y ca-certificates git && git clone https://github.com/lammps/lammps.git
      \`\`\`
`;
    operator = await startTestOperator({ script, sim: { speed: 0.05 } });
    const watcher = spawn(KUBECTL, [
      '--kubeconfig',
      operator.sim.kubeconfigPath,
      '--cache-dir',
      mkdtempSync(join(tmpdir(), 'kubectl-cache-')),
      'get',
      'agentsteps',
      '-w',
    ]);
    let output = '';
    watcher.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    watcher.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      // Once kubectl's watch is open (it shows a first step at once: one that fails, as a cost step
      // needs an instruction), the step is created and every change of it is shown.
      await operator.client.create(RESOURCES.agentSteps, agentStep('sentinel', 'cost', {}) as never);
      await eventually(() => output.includes('sentinel'), 20_000);
      await operator.client.create(
        RESOURCES.agentSteps,
        agentStep('lammps', 'build', { application: 'lammps' }) as never,
      );
      await waitForPhase(operator.client, 'AgentStep', 'default', 'lammps', ['Succeeded', 'Failed'], 30_000);
      await eventually(() => /lammps\s+build\s+Succeeded\s+2/.test(output), 10_000);
    } finally {
      watcher.kill();
    }
    const phases = output
      .split('\n')
      .filter((line) => line.startsWith('lammps '))
      .map((line) => line.split(/\s+/).slice(2, 4).join(' '));
    // Columns: NAME PLAN AGENT PHASE ATTEMPT AGE (PLAN is empty for an a-la-carte step).
    const seen = [...new Set(phases)];
    expect(seen).toEqual(
      expect.arrayContaining([
        'Generating 1',
        'Building 1',
        'Diagnosing 1',
        'Generating 2',
        'Building 2',
        'Succeeded 2',
      ]),
    );
    expect(seen.indexOf('Building 1')).toBeLessThan(seen.indexOf('Diagnosing 1'));
    expect(seen.indexOf('Diagnosing 1')).toBeLessThan(seen.indexOf('Succeeded 2'));
  });
});
