// `fractale get`, `logs`, `answer` and `convert` against the simulated cluster and a running operator.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AgentStep } from '../../src/api/index.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { eventually } from '../helpers/kubeconfig.ts';
import { agentStep, startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';
import { fractale } from './io.ts';

type Step = AgentStep & { metadata: { name: string } };

const NO_CERTS =
  'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y git cmake g++ make\nRUN git clone https://github.com/lammps/lammps.git /opt/lammps';
const WITH_CERTS =
  'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y ca-certificates git cmake g++ make\nRUN git clone https://github.com/lammps/lammps.git /opt/lammps && cd /opt/lammps && cmake cmake && make install';
const block = (lang: string, text: string) =>
  `|\n      \`\`\`${lang}\n${text
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n')}\n      \`\`\``;

let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});
const kc = () => ['--kubeconfig', operator!.sim.kubeconfigPath];

describe('fractale get and logs', () => {
  it("lists steps and prints each attempt's build log, from the pod and then from the saved copy", async () => {
    operator = await startTestOperator({
      script: `responses:
  - agent: build
    text: ${block('dockerfile', NO_CERTS)}
  - agent: debug
    text: Install ca-certificates before cloning.
  - agent: build
    match: "Install ca-certificates before cloning"
    text: ${block('dockerfile', WITH_CERTS)}
`,
    });
    const built = await fractale(['agent', 'build', 'lammps', '--name', 'lammps', ...kc()]);
    expect(built.code, built.stderr).toBe(0);

    const listed = await fractale(['get', 'steps', ...kc()]);
    expect(listed.code).toBe(0);
    const [header, row] = listed.stdout.trim().split('\n');
    expect(header).toMatch(/^NAME\s+AGENT\s+PHASE\s+ATTEMPT\s+AGE\s+MESSAGE$/);
    expect(row).toMatch(/^lammps\s+build\s+Succeeded\s+2\s+\d+s\s+Succeeded on attempt 2$/);

    const current = await fractale(['logs', 'lammps', ...kc()]);
    expect(current.code, current.stderr).toBe(0);
    expect(current.stdout).toContain('Built target lmp');

    const first = await fractale(['logs', 'lammps', '--attempt', '1', ...kc()]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('server certificate verification failed');

    // Without the Job and its pods, the log saved with the attempt is shown.
    // The failed attempt's Job and pod were kept (retain.failedAttempts defaults to 1): that log was the pod's.
    const pods = await operator.client.list(RESOURCES.pods, 'default', {
      labelSelector: 'batch.kubernetes.io/job-name=lammps-1',
    });
    expect(pods.items.length).toBeGreaterThan(0);
    expect(await operator.client.delete(RESOURCES.jobs, 'default', 'lammps-1')).toBe(true);
    for (const pod of pods.items) await operator.client.delete(RESOURCES.pods, 'default', pod.metadata.name!);
    await eventually(async () => {
      const left = await operator!.client.list(RESOURCES.pods, 'default', {
        labelSelector: 'batch.kubernetes.io/job-name=lammps-1',
      });
      return left.items.length === 0;
    });
    const saved = await fractale(['logs', 'lammps', '--attempt', '1', ...kc()]);
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout).toContain('server certificate verification failed');

    const missing = await fractale(['logs', 'nope', ...kc()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('AgentStep nope not found in namespace default');
  });
});

describe('fractale answer', () => {
  it('answers a step waiting for a person, and refuses when it is not waiting', async () => {
    const job = (command: string) =>
      block(
        'yaml',
        `apiVersion: batch/v1\nkind: Job\nmetadata: { name: run }\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - { name: run, image: ghcr.io/lammps/lammps:stable, command: [${command}] }`,
      );
    operator = await startTestOperator({
      script: `responses:
  - agent: kubernetes-job
    text: ${job('"sh", "-c", "exit 3"')}
  - agent: debug
    text: |
      The command exits 3.
      RETURN TO HUMAN: Which input file should the run use?
  - agent: kubernetes-job
    match: "A person answered"
    text: ${job('"lmp", "-in", "in.reaxff.hns"')}
`,
      sim: {
        behaviors: {
          pullable: ['ghcr.io/.*'],
          pods: [
            { command: 'exit 3', outcome: 'Failed', exitCode: 3, runSeconds: 1, log: 'no input\n' },
            { command: 'lmp', outcome: 'Succeeded', runSeconds: 1, log: 'Total wall time: 0:00:01\n' },
          ],
        },
      },
    });
    await operator.client.create(
      RESOURCES.agentSteps,
      agentStep('ask', 'kubernetes-job', {
        container: 'ghcr.io/lammps/lammps:stable',
        allow_return_to_human: true,
      }) as never,
    );
    await waitForPhase<Step>(operator.client, 'AgentStep', 'default', 'ask', ['AwaitingHuman']);

    const answered = await fractale(['answer', 'ask', 'Use in.reaxff.hns', ...kc()]);
    expect(answered.code, answered.stderr).toBe(0);
    expect(answered.stdout).toContain('Question: Which input file should the run use?');
    const done = await waitForPhase<Step>(operator.client, 'AgentStep', 'default', 'ask', [
      'Succeeded',
      'Failed',
    ]);
    expect(done.status?.phase).toBe('Succeeded');
    expect(done.status?.advice).toContain('Use in.reaxff.hns');
    // The history says the first attempt asked a person; the wait counts in the next attempt's stages.
    expect(done.status?.history?.map((h) => [h.attempt, h.outcome, h.askedHuman ?? false])).toEqual([
      [1, 'Failed', true],
      [2, 'Succeeded', false],
    ]);
    expect(Object.keys(done.status?.history?.[1]?.stages ?? {})).toContain('AwaitingHuman');

    const again = await fractale(['answer', 'ask', 'too late', ...kc()]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('AgentStep ask is not waiting for an answer (phase Succeeded)');
  });
});

describe('fractale convert', () => {
  it("turns a seed plan into an AgentPlan, keeping the seed's snake_case context", async () => {
    const result = await fractale(['convert', join(import.meta.dirname, '../../plans/seed/run-lammps.yaml')]);
    expect(result.code, result.stderr).toBe(0);
    const plan = parse(result.stdout);
    expect(plan.kind).toBe('AgentPlan');
    expect(plan.metadata.name).toBe('build-and-deploy-lammps');
    expect(plan.spec.steps.map((s: { agent: string }) => s.agent)).toEqual(['build', 'kubernetes-job']);
  });
});
