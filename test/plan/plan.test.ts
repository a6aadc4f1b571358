// AgentPlans end to end: the sample plans applied with the real kubectl to the simulated cluster, run
// by the operator with a scripted model.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkDockerfile, imageReference } from '../../src/agents/build/dockerfile.ts';
import type { AgentPlan } from '../../src/api/agentplan.ts';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import type { LanguageModel } from '../../src/llm/types.ts';
import type { ResultsDocument } from '../../src/results/document.ts';
import { decodeResults } from '../../src/results/writer.ts';
import type { BehaviorsInput } from '../../src/sim/index.ts';
import { kubectl } from '../helpers/kubectl.ts';
import {
  agentStep,
  startTestOperator,
  TEST_REGISTRY,
  type TestOperator,
  waitForPhase,
} from '../helpers/operator.ts';

type Plan = AgentPlan & { metadata: { name: string } };
type Step = AgentStep & { metadata: { name: string } };
const plans = join(import.meta.dirname, '../../plans');

const NO_CERTS =
  'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y git cmake g++ make\nRUN git clone https://github.com/lammps/lammps.git /opt/lammps';
const WITH_CERTS =
  'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y ca-certificates git cmake g++ make\nRUN git clone https://github.com/lammps/lammps.git /opt/lammps && cmake && make install\nWORKDIR /opt/lammps/examples/reaxff/HNS';
const LMP_ON_PATH = `${WITH_CERTS}\nRUN cp /opt/lammps/build/lmp /usr/local/bin/lmp`;
const imageOf = (dockerfile: string) =>
  imageReference(TEST_REGISTRY, 'lammps', (checkDockerfile(dockerfile) as { dockerfile: string }).dockerfile);

const indent = (text: string, spaces = 6) =>
  text
    .split('\n')
    .map((l) => ' '.repeat(spaces) + l)
    .join('\n');
const dockerfileAnswer = (dockerfile: string) =>
  `|\n      \`\`\`dockerfile\n${indent(dockerfile)}\n      \`\`\``;
const jobAnswer = (image: string) => `|
      \`\`\`yaml
      apiVersion: batch/v1
      kind: Job
      metadata: { name: lammps }
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: lammps
                image: ${image}
                workingDir: /opt/lammps/examples/reaxff/HNS
                command: ["lmp", "-v", "x", "2", "-v", "y", "2", "-v", "z", "2", "-in", "./in.reaxff.hns", "-nocite"]
      \`\`\``;

function behaviors(brokenImages: string[] = []): BehaviorsInput {
  return {
    pullable: ['cgr.dev/.*', 'ghcr.io/.*'],
    builds: [
      { match: 'ca-certificates', outcome: 'Succeeded', runSeconds: 30, log: '[100%] Built target lmp' },
      {
        outcome: 'Failed',
        runSeconds: 5,
        log: "Cloning into 'lammps'...\nfatal: unable to access 'https://github.com/lammps/lammps.git/': server certificate verification failed",
      },
    ],
    pods: [
      ...brokenImages.map((image) => ({
        image: image.replace(/[.]/g, '\\.'),
        outcome: 'Failed' as const,
        exitCode: 127,
        runSeconds: 1,
        log: 'sh: 1: lmp: not found\n',
      })),
      {
        command: 'lmp',
        outcome: 'Succeeded',
        runSeconds: 5,
        log: 'LAMMPS (2 Aug 2023)\nLoop time of 2.1 on 4 procs for 100 steps with 2432 atoms\nTotal wall time: 0:00:02\n',
      },
    ],
  };
}

let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

async function results(op: TestOperator, plan: Plan): Promise<ResultsDocument> {
  const ref = plan.status?.resultsRef;
  expect(ref?.name).toBe(`${plan.metadata.name}-results`);
  const cm = await op.client.get<{
    metadata: object;
    data?: Record<string, string>;
    binaryData?: Record<string, string>;
  }>(RESOURCES.configMaps, 'default', ref!.name);
  return decodeResults(cm);
}

describe('plans/run-lammps.yaml', () => {
  it('applied with kubectl: a build that fails once, the built image handed to the run, a successful run, and results', async () => {
    const script = `responses:
  - agent: build
    text: ${dockerfileAnswer(NO_CERTS)}
  - agent: debug
    match: "server certificate verification failed"
    text: Install ca-certificates before cloning over HTTPS.
  - agent: build
    match: "Install ca-certificates before cloning"
    text: ${dockerfileAnswer(WITH_CERTS)}
  - agent: kubernetes-job
    match: "${imageOf(WITH_CERTS).replace(/[.]/g, '\\\\.')}"
    text: ${jobAnswer(imageOf(WITH_CERTS))}
`;
    operator = await startTestOperator({
      script,
      sim: { behaviors: behaviors() },
      config: { incremental: undefined },
    });
    const applied = await kubectl(operator.sim.kubeconfigPath, [
      'apply',
      '-f',
      join(plans, 'run-lammps.yaml'),
    ]);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('agentplan.fractale.dev/run-lammps created');
    const plan = await waitForPhase<Plan>(
      operator.client,
      'AgentPlan',
      'default',
      'run-lammps',
      ['Succeeded', 'Failed'],
      30_000,
    );
    expect(plan.status?.phase, JSON.stringify(plan.status, null, 1)).toBe('Succeeded');
    expect(plan.status?.steps?.map((s) => [s.name, s.phase, s.attempt])).toEqual([
      ['build', 'Succeeded', 2],
      ['run', 'Succeeded', 1],
    ]);
    const run = await operator.client.get<Step>(RESOURCES.agentSteps, 'default', 'run-lammps-run');
    expect(run.spec.context?.['container']).toBe(imageOf(WITH_CERTS));
    expect(run.spec.context?.['dockerfile']).toContain('ca-certificates');
    // noPull is the seed's "kind load"; a built image is pulled from the registry.
    expect(run.spec.context?.['noPull']).toBeUndefined();
    expect(run.status?.result).toContain('Total wall time');

    const doc = await results(operator, plan);
    expect(doc.status).toBe('Succeeded');
    expect(doc.steps.map((s) => [s.agent, s.attempts, s.status])).toEqual([
      ['build', 2, 'Succeeded'],
      ['kubernetes-job', 1, 'Succeeded'],
    ]);
    const build = doc.steps[0]!;
    expect(build.metadata.failures).toEqual([expect.objectContaining({ attempt: 1, reason: 'BuildFailed' })]);
    expect(build.metadata.failures[0]!.message).toContain('server certificate verification failed');
    expect(build.metadata.counts.retries).toBe(1);
    expect(build.metadata.ask_gemini).toHaveLength(3);
    expect(build.metadata.ask_gemini.every((c) => c.total_token_count > 0)).toBe(true);
    expect(typeof build.total_seconds).toBe('number');
    expect(build.result).toContain('ca-certificates');
    expect(doc.manager.recovery).toEqual({});
  });
});

describe('manager recovery', () => {
  it('sends the plan back to the build step when only a rebuild can fix the run', async () => {
    const brokenImage = imageOf(WITH_CERTS);
    const fixedImage = imageOf(LMP_ON_PATH);
    const script = `responses:
  - agent: build
    text: ${dockerfileAnswer(WITH_CERTS)}
  - agent: kubernetes-job
    text: ${jobAnswer(brokenImage)}
  - agent: manager
    match: "lmp: not found"
    text: |
      \`\`\`json
      {"agent_name": "build", "task_description": "You MUST install the lmp executable on the PATH (/usr/local/bin)."}
      \`\`\`
  - agent: build
    match: "You MUST install the lmp executable on the PATH"
    text: ${dockerfileAnswer(LMP_ON_PATH)}
  - agent: kubernetes-job
    text: ${jobAnswer(fixedImage)}
`;
    operator = await startTestOperator({ script, sim: { behaviors: behaviors([brokenImage]) } });
    await operator.client.create(RESOURCES.agentPlans, {
      apiVersion: 'fractale.dev/v1alpha1',
      kind: 'AgentPlan',
      metadata: { name: 'lammps', namespace: 'default' },
      spec: {
        goal: 'Run LAMMPS',
        steps: [
          { name: 'build', agent: 'build', description: 'Build LAMMPS', context: { application: 'lammps' } },
          { name: 'run', agent: 'kubernetes-job', description: 'Run LAMMPS', context: { max_attempts: 1 } },
        ],
      },
    } as never);
    const plan = await waitForPhase<Plan>(
      operator.client,
      'AgentPlan',
      'default',
      'lammps',
      ['Succeeded', 'Failed'],
      30_000,
    );
    expect(plan.status?.phase, JSON.stringify(plan.status, null, 1)).toBe('Succeeded');
    expect(plan.status?.attempts).toBe(1);
    expect(plan.status?.recoveries).toEqual([
      expect.objectContaining({
        attempt: 1,
        failedStep: 'run',
        restartStep: 'build',
        taskDescription: 'You MUST install the lmp executable on the PATH (/usr/local/bin).',
      }),
    ]);
    expect(plan.status?.steps?.map((s) => [s.name, s.stepRef, s.runs])).toEqual([
      ['build', 'lammps-build-r2', 2],
      ['run', 'lammps-run-r2', 2],
    ]);
    // The rebuilt step was told what to do differently and what to avoid.
    const rebuilt = await operator.client.get<Step>(RESOURCES.agentSteps, 'default', 'lammps-build-r2');
    expect(rebuilt.spec.context?.['instruction']).toContain('You MUST install the lmp executable');
    expect(String(rebuilt.spec.context?.['avoid'])).toContain('lmp: not found');
    // The replaced steps are kept for the record.
    expect(
      (await operator.client.get<Step>(RESOURCES.agentSteps, 'default', 'lammps-run')).status?.phase,
    ).toBe('Failed');
    const doc = await results(operator, plan);
    expect(doc.manager.recovery).toEqual({
      'kubernetes-job': [
        {
          agent_name: 'build',
          task_description: 'You MUST install the lmp executable on the PATH (/usr/local/bin).',
        },
      ],
    });
    expect(
      doc.steps.map((s) => [s.name, s.status]),
      JSON.stringify(doc.steps.map((s) => s.name)),
    ).toEqual([
      ['lammps-build', 'Succeeded'],
      ['lammps-run', 'Failed'],
      ['lammps-build-r2', 'Succeeded'],
      ['lammps-run-r2', 'Succeeded'],
    ]);
  });

  it('fails with a clear reason when the manager attempts run out, leaving no running Jobs', async () => {
    const brokenImage = imageOf(WITH_CERTS);
    const manager = `
  - agent: manager
    text: |
      {"agent_name": "run", "task_description": "You MUST try again."}`;
    const script = `responses:
  - agent: build
    text: ${dockerfileAnswer(WITH_CERTS)}
  - agent: kubernetes-job
    text: ${jobAnswer(brokenImage)}${manager}
  - agent: kubernetes-job
    match: "You MUST try again"
    text: ${jobAnswer(brokenImage).replace('name: lammps', 'name: lammps-again')}
`;
    operator = await startTestOperator({ script, sim: { behaviors: behaviors([brokenImage]) } });
    await operator.client.create(RESOURCES.agentPlans, {
      apiVersion: 'fractale.dev/v1alpha1',
      kind: 'AgentPlan',
      metadata: { name: 'doomed', namespace: 'default' },
      spec: {
        maxAttempts: 1,
        steps: [
          { name: 'build', agent: 'build', context: { application: 'lammps' } },
          { name: 'run', agent: 'kubernetes-job', context: { max_attempts: 1 } },
        ],
      },
    } as never);
    const plan = await waitForPhase<Plan>(
      operator.client,
      'AgentPlan',
      'default',
      'doomed',
      ['Succeeded', 'Failed'],
      80_000,
    );
    expect(plan.status?.phase).toBe('Failed');
    expect(plan.status?.reason).toBe('ManagerAttemptsExhausted');
    expect(plan.status?.message).toMatch(/manager used all 1 attempt.*lmp: not found/s);
    const jobs = await operator.client.list<{ metadata: object; status?: { active?: number } }>(
      RESOURCES.jobs,
      'default',
    );
    expect(jobs.items.filter((j) => (j.status?.active ?? 0) > 0)).toEqual([]);
    expect((await results(operator, plan)).status).toBe('Failed');
    // Real seconds on the real lane: its Job controller and a loaded machine take their time.
  }, 90_000);
});

describe('failures no model can fix', () => {
  it('stop the plan at once with the cause and its fix: no recovery, no new step, no model call', async () => {
    let modelCalls = 0;
    const scripted = ScriptedModel.fromYaml(`responses:
  - agent: manager
    text: |
      {"agent_name": "build", "task_description": "try again"}
`);
    const model: LanguageModel = {
      ...scripted,
      provider: scripted.provider,
      generate: (request) => {
        modelCalls++;
        return scripted.generate(request);
      },
    };
    // No registry for the build to push to: configuration, which no answer of a model changes.
    operator = await startTestOperator({
      model,
      config: { registry: undefined },
      sim: { behaviors: behaviors() },
    });
    await operator.client.create(RESOURCES.agentPlans, {
      apiVersion: 'fractale.dev/v1alpha1',
      kind: 'AgentPlan',
      metadata: { name: 'unregistered', namespace: 'default' },
      spec: {
        maxAttempts: 10,
        steps: [
          { name: 'build', agent: 'build', context: { application: 'lammps' } },
          { name: 'run', agent: 'kubernetes-job' },
        ],
      },
    } as never);
    const plan = await waitForPhase<Plan>(
      operator.client,
      'AgentPlan',
      'default',
      'unregistered',
      ['Succeeded', 'Failed'],
      30_000,
    );
    expect(plan.status?.phase).toBe('Failed');
    expect(plan.status?.reason).toBe('InvalidContext');
    expect(plan.status?.message).toContain('no model can fix (InvalidContext)');
    expect(plan.status?.message).toContain("set the operator's --registry");
    expect(plan.status?.attempts ?? 0).toBe(0);
    const steps = await operator.client.list<Step>(RESOURCES.agentSteps, 'default');
    expect(steps.items.map((s) => s.metadata.name)).toEqual(['unregistered-build']);
    expect(modelCalls).toBe(0);
  });

  it('stop at a later step too, where a recovery would ask the manager: the manager is not asked', async () => {
    const calls: string[] = [];
    const scripted = ScriptedModel.fromYaml(`responses:
  - agent: cost
    text: |
      [{"application": "LAMMPS", "environment": "Google Cloud", "instance": "c2-standard-8", "type": "cpu", "reason": "fast cores", "estimate": 3.2}]
  - agent: manager
    text: |
      {"agent_name": "build", "task_description": "try again"}
`);
    const model: LanguageModel = {
      ...scripted,
      provider: scripted.provider,
      generate: (request) => {
        calls.push(request.agent ?? '');
        return scripted.generate(request);
      },
    };
    operator = await startTestOperator({
      model,
      config: { registry: undefined },
      sim: { behaviors: behaviors() },
    });
    await operator.client.create(RESOURCES.agentPlans, {
      apiVersion: 'fractale.dev/v1alpha1',
      kind: 'AgentPlan',
      metadata: { name: 'cost-then-build', namespace: 'default' },
      spec: {
        maxAttempts: 10,
        steps: [
          { name: 'cost', agent: 'cost', context: { instruction: 'Price LAMMPS on Google Cloud.' } },
          // The second step fails on configuration; without the stop, the manager would be asked
          // which step to go back to (the first step's recovery needs no model call).
          { name: 'build', agent: 'build', context: { application: 'lammps' } },
        ],
      },
    } as never);
    const plan = await waitForPhase<Plan>(
      operator.client,
      'AgentPlan',
      'default',
      'cost-then-build',
      ['Succeeded', 'Failed'],
      30_000,
    );
    expect(plan.status?.phase).toBe('Failed');
    expect(plan.status?.reason).toBe('InvalidContext');
    expect(plan.status?.message).toContain("set the operator's --registry");
    expect(plan.status?.attempts ?? 0).toBe(0);
    expect(plan.status?.recoveries ?? []).toEqual([]);
    const steps = await operator.client.list<Step>(RESOURCES.agentSteps, 'default');
    expect(steps.items.map((s) => s.metadata.name).sort()).toEqual([
      'cost-then-build-build',
      'cost-then-build-cost',
    ]);
    expect(calls).toEqual(['cost']);
  });
});

describe('the cost and flux-batch plans', () => {
  it('cost-estimate succeeds after a malformed answer is corrected', async () => {
    const script = `responses:
  - agent: cost
    text: "Here are my estimates: LAMMPS on c2-standard-8 for about 3 dollars"
  - agent: cost
    match: "refused"
    text: |
      \`\`\`json
      [{"application": "LAMMPS", "environment": "Google Cloud", "instance": "c2-standard-8", "type": "cpu", "reason": "fast cores", "estimate": 3.2},
       {"application": "LAMMPS", "environment": "Amazon Web Services", "instance": "g5.xlarge", "type": "gpu", "reason": "KOKKOS GPU", "estimate": 4.1}]
      \`\`\`
`;
    operator = await startTestOperator({ script });
    const applied = await kubectl(operator.sim.kubeconfigPath, [
      'apply',
      '-f',
      join(plans, 'cost-estimate.yaml'),
    ]);
    expect(applied.code).toBe(0);
    const plan = await waitForPhase<Plan>(operator.client, 'AgentPlan', 'default', 'cost-estimate', [
      'Succeeded',
      'Failed',
    ]);
    expect(plan.status?.phase, JSON.stringify(plan.status)).toBe('Succeeded');
    const step = await operator.client.get<Step>(RESOURCES.agentSteps, 'default', 'cost-estimate-cost');
    expect(step.status?.attempt).toBe(2);
    expect(step.status?.history?.[0]).toMatchObject({ outcome: 'Failed', reason: 'InvalidArtifact' });
    expect(step.status?.result).toContain('instance: c2-standard-8');
  });

  it('flux-batch succeeds after an invalid script is corrected', async () => {
    const script = `responses:
  - agent: flux-batch
    text: |
      \`\`\`bash
      #!/bin/bash
      flux run -N 2 lmp -in in.reaxff.hns
      #FLUX: -N 2
      \`\`\`
  - agent: flux-batch
    match: "refused"
    text: |
      \`\`\`bash
      #!/bin/bash
      #FLUX: -N 2
      #FLUX: -n 8
      #FLUX: --job-name=lammps-reaxff
      flux run -N 2 -n 8 lmp -v x 2 -v y 2 -v z 2 -in in.reaxff.hns
      \`\`\`
`;
    operator = await startTestOperator({ script });
    const applied = await kubectl(operator.sim.kubeconfigPath, [
      'apply',
      '-f',
      join(plans, 'flux-batch.yaml'),
    ]);
    expect(applied.code).toBe(0);
    const plan = await waitForPhase<Plan>(operator.client, 'AgentPlan', 'default', 'flux-batch', [
      'Succeeded',
      'Failed',
    ]);
    expect(plan.status?.phase, JSON.stringify(plan.status)).toBe('Succeeded');
    const step = await operator.client.get<Step>(RESOURCES.agentSteps, 'default', 'flux-batch-flux-batch');
    expect(step.status?.attempt).toBe(2);
    expect(step.status?.result).toMatch(/^#!\/bin\/bash\n#FLUX: -N 2/);
  });
});

describe('the cache workflow', () => {
  it('an a-la-carte build with useCache, then run-lammps with useCache reuses it', async () => {
    const image = imageOf(WITH_CERTS);
    const script = `responses:
  - agent: build
    text: ${dockerfileAnswer(WITH_CERTS)}
  - agent: kubernetes-job
    text: ${jobAnswer(image)}
`;
    operator = await startTestOperator({ script, sim: { behaviors: behaviors() } });
    // The seed's `fractale agent build lammps ... --use-cache`, with run-lammps.yaml's build context.
    const { parse } = await import('yaml');
    const { readFileSync } = await import('node:fs');
    const planText = readFileSync(join(plans, 'run-lammps.yaml'), 'utf8');
    const buildContext = parse(planText).spec.steps[0].context;
    await operator.client.create(
      RESOURCES.agentSteps,
      agentStep('build-lammps', 'build', buildContext, { useCache: true }) as never,
    );
    const alacarte = await waitForPhase<Step>(operator.client, 'AgentStep', 'default', 'build-lammps', [
      'Succeeded',
      'Failed',
    ]);
    expect(alacarte.status?.cache).toBe('Saved');
    const withCache = planText.replace('spec:\n', 'spec:\n  useCache: true\n');
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'plan-')), 'run-lammps.yaml');
    writeFileSync(file, withCache);
    expect((await kubectl(operator.sim.kubeconfigPath, ['apply', '-f', file])).code).toBe(0);
    const plan = await waitForPhase<Plan>(
      operator.client,
      'AgentPlan',
      'default',
      'run-lammps',
      ['Succeeded', 'Failed'],
      30_000,
    );
    expect(plan.status?.phase, JSON.stringify(plan.status)).toBe('Succeeded');
    const build = await operator.client.get<Step>(RESOURCES.agentSteps, 'default', 'run-lammps-build');
    expect(build.status).toMatchObject({ cache: 'Hit', phase: 'Succeeded' });
    expect(build.status?.outputs?.['container']).toBe(image);
    // One build in all: the a-la-carte one.
    const jobs = await operator.client.list(RESOURCES.jobs, 'default');
    expect(jobs.items.map((j) => j.metadata.name).sort()).toEqual(['build-lammps-1', 'run-lammps-run-1']);
  });
});

describe('plan lifecycle', () => {
  const twoBuilds = `responses:
  - agent: build
    text: ${dockerfileAnswer(NO_CERTS)}
  - agent: debug
    text: Install ca-certificates before cloning over HTTPS.
  - agent: build
    match: "Install ca-certificates before cloning"
    text: ${dockerfileAnswer(WITH_CERTS)}
`;
  const planObject = (name: string, spec: Record<string, unknown> = {}) => ({
    apiVersion: 'fractale.dev/v1alpha1',
    kind: 'AgentPlan',
    metadata: { name, namespace: 'default' },
    spec: { steps: [{ name: 'build', agent: 'build', context: { application: 'lammps' } }], ...spec },
  });

  it("with results.incremental, keeps every attempt's artifacts and how much each changed", async () => {
    operator = await startTestOperator({ script: twoBuilds, sim: { behaviors: behaviors() } });
    await operator.client.create(
      RESOURCES.agentPlans,
      planObject('inc', { results: { incremental: true } }) as never,
    );
    const plan = await waitForPhase<Plan>(
      operator.client,
      'AgentPlan',
      'default',
      'inc',
      ['Succeeded', 'Failed'],
      30_000,
    );
    expect(plan.status?.phase).toBe('Succeeded');
    const doc = await results(operator, plan);
    const assets = doc.steps[0]!.metadata.assets.attempts!;
    expect(assets.map((a) => a.attempt)).toEqual([1, 2]);
    expect(assets[0]!.artifact).toContain('git clone');
    expect(assets[0]!.diagnostics).toContain('server certificate verification failed');
    expect(assets[1]!.artifact).toContain('ca-certificates');
    expect(assets[1]!.changed_lines).toBeGreaterThan(0);
  });

  it('deleting a plan deletes its steps and everything they own', async () => {
    operator = await startTestOperator({ script: twoBuilds, sim: { behaviors: behaviors() } });
    await operator.client.create(RESOURCES.agentPlans, planObject('gone') as never);
    await waitForPhase<Plan>(
      operator.client,
      'AgentPlan',
      'default',
      'gone',
      ['Succeeded', 'Failed'],
      30_000,
    );
    expect((await operator.client.list(RESOURCES.jobs, 'default')).items.length).toBeGreaterThan(0);
    await operator.client.delete(RESOURCES.agentPlans, 'default', 'gone');
    const { eventually } = await import('../helpers/kubeconfig.ts');
    await eventually(async () => {
      const [steps, jobs, pods, configMaps] = await Promise.all([
        operator!.client.list(RESOURCES.agentSteps, 'default'),
        operator!.client.list(RESOURCES.jobs, 'default'),
        operator!.client.list(RESOURCES.pods, 'default'),
        operator!.client.list(RESOURCES.configMaps, 'default', { labelSelector: 'fractale.dev/plan=gone' }),
      ]);
      return steps.items.length + jobs.items.length + pods.items.length + configMaps.items.length === 0;
    }, 10_000);
  });

  it('a spec edit while the plan runs is reported, not applied', async () => {
    operator = await startTestOperator({ script: twoBuilds, sim: { behaviors: behaviors(), speed: 0.05 } });
    await operator.client.create(RESOURCES.agentPlans, planObject('edit') as never);
    await waitForPhase<Plan>(operator.client, 'AgentPlan', 'default', 'edit', ['Running'], 10_000);
    await operator.client.patch(RESOURCES.agentPlans, 'default', 'edit', {
      spec: { goal: 'Something else' },
    });
    const plan = await waitForPhase<Plan>(
      operator.client,
      'AgentPlan',
      'default',
      'edit',
      ['Succeeded', 'Failed'],
      30_000,
    );
    expect(plan.status?.conditions?.find((c) => c.type === 'SpecChanged')).toMatchObject({ status: 'True' });
    expect(plan.status?.steps?.map((s) => s.name)).toEqual(['build']);
  });
});

describe('flux-batch with a validator image', () => {
  it("runs Flux's own check in a Job, and a script it refuses goes through the debug agent", async () => {
    const validatorBehaviors: BehaviorsInput = {
      pullable: ['ghcr.io/.*'],
      builds: [],
      pods: [
        // The validator refuses a script that asks for more slots than nodes allow.
        {
          image: 'flux-validator',
          command: 'batch\\.sh',
          outcome: 'Failed',
          exitCode: 1,
          runSeconds: 1,
          log: 'flux-batch: ERROR: number of slots to allocate (64) must be >= number of nodes (2)\n',
        },
      ],
    };
    const script = `responses:
  - agent: flux-batch
    text: |
      \`\`\`bash
      #!/bin/bash
      #FLUX: -N 2
      #FLUX: -n 64
      flux run -N 2 -n 64 lmp -in in.reaxff.hns
      \`\`\`
  - agent: debug
    match: "must be >= number of nodes"
    text: Ask for 8 slots on 2 nodes, as the request says.
  - agent: flux-batch
    match: "Ask for 8 slots"
    text: |
      \`\`\`bash
      #!/bin/bash
      #FLUX: -N 2
      #FLUX: -n 8
      flux run -N 2 -n 8 lmp -in in.reaxff.hns
      \`\`\`
`;
    operator = await startTestOperator({
      script,
      sim: { behaviors: validatorBehaviors },
      config: { fluxValidatorImage: 'ghcr.io/compspec/fractale:flux-validator' },
    });
    // Behaviour rules see the validator's command, which is the same for every script; so once the
    // first validation has failed, the test makes the validator accept the next one.
    const unsubscribe = operator.sim.watch(RESOURCES.jobs, (_, job) => {
      const status = job['status'] as { failed?: number } | undefined;
      if (job.metadata.name === 'flux-batch-flux-batch-1' && (status?.failed ?? 0) > 0) {
        operator!.sim.behaviors.pods.unshift({
          ...operator!.sim.behaviors.pods[0]!,
          outcome: 'Succeeded',
          exitCode: 0,
          log: 'valid\n',
        });
        unsubscribe();
      }
    });
    expect(
      (await kubectl(operator.sim.kubeconfigPath, ['apply', '-f', join(plans, 'flux-batch.yaml')])).code,
    ).toBe(0);
    const plan = await waitForPhase<Plan>(
      operator.client,
      'AgentPlan',
      'default',
      'flux-batch',
      ['Succeeded', 'Failed'],
      20_000,
    );
    expect(plan.status?.phase, JSON.stringify(plan.status)).toBe('Succeeded');
    const step = await operator.client.get<Step>(RESOURCES.agentSteps, 'default', 'flux-batch-flux-batch');
    expect(step.status?.history?.[0]).toMatchObject({ attempt: 1, reason: 'ValidationFailed' });
    expect(step.status?.result).toContain('#FLUX: -n 8');
    const jobs = await operator.client.list(RESOURCES.jobs, 'default');
    expect(jobs.items.map((j) => j.metadata.name).sort()).toEqual([
      'flux-batch-flux-batch-1',
      'flux-batch-flux-batch-2',
    ]);
  });
});
