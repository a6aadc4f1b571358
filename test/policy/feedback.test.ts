// A refusal is fed back: the scripted model first answers a hostile Job, then a good one. The hostile
// Job never reaches the API server, the attempt ends PolicyRefused with the explanation, and the
// second prompt carries that explanation (the fields and the fixes), so the model can act on it.
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import type { GenerateRequest, LanguageModel } from '../../src/llm/types.ts';
import { jobManifestAnswer, TEST_IMAGE } from '../helpers/answers.ts';
import { eventually } from '../helpers/kubeconfig.ts';
import { agentStep, startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

type Step = AgentStep & { metadata: { name: string } };

let operator: TestOperator | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await operator?.stop();
  operator = undefined;
});

/** The scripted model, recording every request it is asked. */
function recording(script: string): { model: LanguageModel; requests: GenerateRequest[] } {
  const scripted = ScriptedModel.fromYaml(script);
  const requests: GenerateRequest[] = [];
  return {
    requests,
    model: {
      provider: scripted.provider,
      model: scripted.model,
      generate: (request) => {
        requests.push(request);
        return scripted.generate(request);
      },
    },
  };
}

const HOSTILE_EXTRA = `            hostNetwork: true
            volumes:
              - name: host
                hostPath: { path: / }`;

async function run(script: string) {
  const { model, requests } = recording(script);
  operator = await startTestOperator({
    model,
    sim: {
      behaviors: { pullable: ['ghcr.io/.*'], pods: [{ outcome: 'Succeeded', runSeconds: 1, log: 'done\n' }] },
    },
  });
  const jobs = new Set<string>();
  cleanups.push(
    operator.sim.watch(RESOURCES.jobs, (event, job) => {
      if (event === 'add') jobs.add(job.metadata.name!);
    }),
  );
  await operator.client.create(
    RESOURCES.agentSteps,
    agentStep('run', 'kubernetes-job', { container: TEST_IMAGE, max_attempts: 3 }) as never,
  );
  const step = await waitForPhase<Step>(
    operator.client,
    'AgentStep',
    'default',
    'run',
    ['Succeeded', 'Failed'],
    60_000,
  );
  return { step, requests, jobs };
}

describe('a refused manifest is fed back to the model', () => {
  it('a hostile Job is never created, and the next prompt carries the refusal with the fields and the fixes', async () => {
    const { step, requests, jobs } = await run(`responses:
  - agent: kubernetes-job
    text: |${jobManifestAnswer('echo hi', HOSTILE_EXTRA)}
  - agent: kubernetes-job
    match: "hostPath volumes are not allowed"
    text: |${jobManifestAnswer('echo hi')}
`);
    expect(step.status?.phase, JSON.stringify(step.status, null, 1)).toBe('Succeeded');
    expect(step.status?.attempt).toBe(2);
    const [first] = step.status?.history ?? [];
    expect(first).toMatchObject({ attempt: 1, outcome: 'Failed', reason: 'PolicyRefused' });
    expect(first?.message).toContain('spec.template.spec.hostNetwork: host namespaces are not allowed');

    const asked = requests.filter((r) => r.agent === 'kubernetes-job');
    expect(asked).toHaveLength(2);
    expect(asked[0]!.prompt).not.toContain('was not created because');
    for (const part of [
      'The Job was not created because spec.template.spec.hostNetwork: host namespaces are not allowed',
      'spec.template.spec.volumes[0].hostPath: hostPath volumes are not allowed',
      'Remove hostNetwork, hostPID, hostIPC and hostProcess',
      'Use an emptyDir volume for scratch space instead of a path on the node.',
    ])
      expect(asked[1]!.prompt).toContain(part);
    // No debug call for a refusal: the explanation is the advice.
    expect(requests.map((r) => r.agent)).toEqual(['kubernetes-job', 'kubernetes-job']);

    // Only the second attempt's Job ever existed (watched from before the step was created).
    await eventually(() => jobs.has('run-2'));
    expect([...jobs]).toEqual(['run-2']);
    const listed = await operator!.client.list(RESOURCES.jobs, 'default');
    expect(listed.items.map((j) => j.metadata.name)).toEqual(['run-2']);
    expect(listed.items[0]!.spec).not.toHaveProperty('template.spec.hostNetwork');
  });

  it('a 5 MB answer is refused as TooLarge, stored cut short, and the next prompt says why', async () => {
    const padding = `      # ${'x'.repeat(1000)}\n`.repeat(5000);
    const { step, requests, jobs } = await run(`responses:
  - agent: kubernetes-job
    text: |${jobManifestAnswer('echo hi')}
${padding}
  - agent: kubernetes-job
    match: "larger than the 256 KiB an answer may be"
    text: |${jobManifestAnswer('echo hi')}
`);
    expect(step.status?.phase, JSON.stringify(step.status, null, 1)).toBe('Succeeded');
    expect(step.status?.history?.[0]).toMatchObject({ reason: 'PolicyRefused' });
    expect(step.status?.history?.[0]?.message).toMatch(/^The answer is \d+ KiB, larger than the 256 KiB/);
    const asked = requests.filter((r) => r.agent === 'kubernetes-job');
    expect(asked[1]!.prompt).toContain('larger than the 256 KiB an answer may be');
    // The refused answer is kept for the record, but cut: the API server caps a ConfigMap at 1 MiB,
    // and the next prompt would carry it whole.
    const stored = await operator!.client.get<{ metadata: object; data?: Record<string, string> }>(
      RESOURCES.configMaps,
      'default',
      'run-1',
    );
    expect(Buffer.byteLength(stored.data?.['artifact'] ?? '')).toBeLessThanOrEqual(32 * 1024 + 100);
    expect(asked[1]!.prompt.length).toBeLessThan(100_000);
    await eventually(() => jobs.has('run-2'));
    expect([...jobs]).toEqual(['run-2']);
  });

  // Found reading a fuzz case (test/fuzz): the policy holds a manifest to the OpenAPI schema, but the API server checks
  // more (label syntax, names, resource names). Its refusal of a Job it was sent ended nothing: the
  // create failed on every pass, and the step stayed Deploying.
  it('a Job the API server refuses ends the attempt with the server message, and the model is told', async () => {
    const badLabel = `        labels:
          app: "not a valid label value!"`;
    const { step, requests, jobs } = await run(`responses:
  - agent: kubernetes-job
    text: |${jobManifestAnswer('echo hi').replace('        name: lammps\n', `        name: lammps\n${badLabel}\n`)}
  - agent: kubernetes-job
    match: "The API server refused the Job"
    text: |${jobManifestAnswer('echo hi')}
`);
    expect(step.status?.phase, JSON.stringify(step.status, null, 1)).toBe('Succeeded');
    expect(step.status?.history?.[0]).toMatchObject({ attempt: 1, reason: 'InvalidArtifact' });
    expect(step.status?.history?.[0]?.message).toMatch(/^The API server refused the Job: .*metadata\.labels/);
    const asked = requests.filter((r) => r.agent === 'kubernetes-job');
    expect(asked[1]!.prompt).toContain('The API server refused the Job');
    await eventually(() => jobs.has('run-2'));
    expect([...jobs]).toEqual(['run-2']);
  }, 90_000);
});
