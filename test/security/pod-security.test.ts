// What the operator generates, held to the Pod Security Standards by the sim's admission checker
// (src/sim/pod-security.ts, which test/agreement/pod-security agrees with a real kube-apiserver):
// the run Jobs of the demo's scripted answers and MiniClusters (as the Flux Operator turns them into
// pods) meet `restricted` with --run-as-non-root and every other restricted rule without it; the Kaniko
// Job needs `baseline`. Then end to end: a run in a namespace enforcing restricted succeeds, and a
// refusal ends the attempt at once, saying why, instead of waiting for the deadline.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kanikoJob } from '../../src/agents/build/manifests.ts';
import { acceptManifest } from '../../src/agents/run.ts';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { parseScript } from '../../src/llm/scripted.ts';
import { miniClusterJob } from '../../src/sim/controllers/flux.ts';
import type { BehaviorsInput } from '../../src/sim/index.ts';
import {
  forbiddenDetail,
  type LevelVersion,
  podTemplateOf,
  podViolations,
} from '../../src/sim/pod-security.ts';
import type { KubeObject } from '../../src/sim/store.ts';
import type { AgentSettings, AttemptInput } from '../../src/step/driver.ts';
import { jobManifestAnswer, TEST_IMAGE } from '../helpers/answers.ts';
import { agentStep, startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

type Step = AgentStep & { metadata: { name: string } };
const RESTRICTED: LevelVersion = { level: 'restricted', version: 'latest' };
const BASELINE: LevelVersion = { level: 'baseline', version: 'latest' };

const settings = (extra: Partial<AgentSettings> = {}): AgentSettings => ({
  insecureRegistry: false,
  kanikoImage: 'cgr.dev/chainguard/kaniko:latest',
  runServiceAccount: 'default',
  defaultMaxRuntime: 600,
  logBudgetTokens: 2000,
  ...extra,
});

function attempt(agent: 'kubernetes-job' | 'minicluster', extra: Partial<AgentSettings> = {}): AttemptInput {
  return {
    namespace: 'team',
    stepName: 'run',
    agent,
    context: { container: TEST_IMAGE },
    attempt: 1,
    avoid: [],
    settings: settings(extra),
    cluster: {},
    objectName: 'run-1',
    labels: { 'app.kubernetes.io/managed-by': 'fractale', 'fractale.dev/step': 'run' },
    ownerReference: {
      apiVersion: 'fractale.dev/v1alpha1',
      kind: 'AgentStep',
      name: 'run',
      uid: '00000000-0000-0000-0000-000000000001',
      controller: true,
      blockOwnerDeletion: true,
    },
    maxRuntimeSeconds: 600,
  };
}

/** The violations of the pods an object makes (a MiniCluster's through the Flux Operator's Job). */
function violations(lv: LevelVersion, object: Record<string, unknown>): string {
  const kind = String(object['kind']);
  const podMaker = kind === 'MiniCluster' ? miniClusterJob(object as KubeObject) : object;
  const template = podTemplateOf(String(podMaker['kind']), podMaker as Record<string, unknown>);
  if (!template) throw new Error(`${kind} has no pod template`);
  return forbiddenDetail(podViolations(lv, template.metadata, template.spec));
}

function accepted(kind: 'Job' | 'MiniCluster', answer: string, extra: Partial<AgentSettings> = {}) {
  const result = acceptManifest(
    kind,
    answer,
    attempt(kind === 'Job' ? 'kubernetes-job' : 'minicluster', extra),
  );
  if (!result.ok) throw new Error(result.error);
  return { object: result.objects[0] as unknown as Record<string, unknown>, changes: result.changes ?? [] };
}

const demo = parseScript(
  readFileSync(join(import.meta.dirname, '../../demo/run-lammps.script.yaml'), 'utf8'),
  'demo/run-lammps.script.yaml',
);
const demoJobs = demo.responses.filter((r) => r.agent === 'kubernetes-job').map((r) => r.text);

const MINICLUSTER = `\`\`\`yaml
apiVersion: flux-framework.org/v1alpha2
kind: MiniCluster
metadata:
  name: lammps
spec:
  size: 2
  logging:
    strict: true
  containers:
    - image: ${TEST_IMAGE}
      workingDir: /opt/lammps/examples/reaxff/HNS
      command: lmp -in in.reaxff.hns
\`\`\``;

describe('generated objects against the Pod Security Standards', () => {
  it('finds the demo’s Job answers', () => {
    expect(demoJobs).toHaveLength(2);
  });

  it.each(demoJobs.map((text, i) => [i + 1, text]))(
    'demo Job %i: restricted with --run-as-non-root, restricted but runAsNonRoot without it',
    (_i, text) => {
      expect(violations(RESTRICTED, accepted('Job', text as string, { runAsNonRoot: true }).object)).toBe('');
      const asRoot = accepted('Job', text as string).object;
      expect(violations(BASELINE, asRoot)).toBe('');
      expect(violations(RESTRICTED, asRoot)).toBe(
        'runAsNonRoot != true (pod or container "lammps" must set securityContext.runAsNonRoot=true)',
      );
    },
  );

  it('records what it set among the policy’s changes', () => {
    const { changes } = accepted('Job', demoJobs[0]!);
    expect(changes).toEqual(
      expect.arrayContaining([
        'spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation: set to false',
        'spec.template.spec.containers[0].securityContext.capabilities.drop: ALL added',
        'spec.template.spec.securityContext.seccompProfile: set to {"type":"RuntimeDefault"}',
      ]),
    );
  });

  it('a Job with an init container and its own seccomp profile: every container is covered', () => {
    const answer = `\`\`\`yaml
apiVersion: batch/v1
kind: Job
metadata: { name: lammps }
spec:
  template:
    spec:
      restartPolicy: Never
      securityContext:
        seccompProfile: { type: Localhost, localhostProfile: hpc.json }
      initContainers:
        - name: stage
          image: busybox
          command: ["true"]
          securityContext: { capabilities: { drop: [NET_RAW] } }
      containers:
        - name: lammps
          image: ${TEST_IMAGE}
          command: ["lmp", "-in", "in.reaxff.hns"]
\`\`\``;
    const { object } = accepted('Job', answer, { runAsNonRoot: true });
    expect(violations(RESTRICTED, object)).toBe('');
    const pod = (object['spec'] as { template: { spec: Record<string, unknown> } }).template.spec;
    expect(pod['securityContext']).toMatchObject({ seccompProfile: { type: 'Localhost' } });
    expect(pod['initContainers']).toMatchObject([
      { securityContext: { capabilities: { drop: ['NET_RAW', 'ALL'] }, allowPrivilegeEscalation: false } },
    ]);
  });

  it('a MiniCluster’s pods (flux view init container included) meet restricted with --run-as-non-root', () => {
    const { object } = accepted('MiniCluster', MINICLUSTER, { runAsNonRoot: true });
    expect(violations(RESTRICTED, object)).toBe('');
    const asRoot = accepted('MiniCluster', MINICLUSTER).object;
    expect(violations(BASELINE, asRoot)).toBe('');
    expect(violations(RESTRICTED, asRoot)).toBe(
      'runAsNonRoot != true (pod or containers "flux-view", "run-1" must set securityContext.runAsNonRoot=true)',
    );
  });

  it('the Kaniko Job meets baseline, not restricted: it runs as root with the default capabilities', () => {
    const job = kanikoJob({
      name: 'build-1',
      namespace: 'team',
      dockerfile: 'FROM ubuntu:22.04',
      image: 'registry.example:5000/lammps:abc',
      labels: {},
      activeDeadlineSeconds: 1800,
      pushSecret: 'registry-push',
    }) as unknown as Record<string, unknown>;
    expect(violations(BASELINE, job)).toBe('');
    expect(violations(RESTRICTED, job)).toBe(
      'allowPrivilegeEscalation != false (container "kaniko" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "kaniko" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "kaniko" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "kaniko" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
  });
});

const BEHAVIORS: BehaviorsInput = {
  pullable: ['ghcr.io/.*', 'docker.io/library/.*', 'cgr.dev/.*'],
  builds: [{ outcome: 'Succeeded', log: 'built' }],
  pods: [{ command: 'lmp', outcome: 'Succeeded', runSeconds: 1, log: 'LAMMPS\nTotal wall time: 0:00:01\n' }],
};

const RUN_SCRIPT = `responses:\n  - agent: kubernetes-job\n    text: |${jobManifestAnswer('lmp -in in.reaxff.hns')}\n`;

let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

async function restrictedNamespace(op: TestOperator, name: string) {
  await op.client.create(RESOURCES.namespaces, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
  });
}

const inNamespace = (step: ReturnType<typeof agentStep>, namespace: string) => ({
  ...step,
  metadata: { ...step.metadata, namespace },
});

describe('in a namespace that enforces restricted', () => {
  it('a run succeeds with --run-as-non-root, its pod admitted', async () => {
    operator = await startTestOperator({
      script: RUN_SCRIPT,
      sim: { behaviors: BEHAVIORS },
      config: { runAsNonRoot: true },
    });
    await restrictedNamespace(operator, 'secure');
    await operator.client.create(
      RESOURCES.agentSteps,
      inNamespace(agentStep('run', 'kubernetes-job', { container: TEST_IMAGE }), 'secure') as never,
    );
    const step = await waitForPhase<Step>(
      operator.client,
      'AgentStep',
      'secure',
      'run',
      ['Succeeded', 'Failed'],
      60_000,
    );
    expect(step.status?.phase, JSON.stringify(step.status)).toBe('Succeeded');
    expect(step.status?.attempt).toBe(1);
    expect(step.status?.result).toContain('Total wall time');
  });

  it('without --run-as-non-root the refused pods end the attempt at once, naming the rule', async () => {
    operator = await startTestOperator({
      script: RUN_SCRIPT,
      sim: { behaviors: BEHAVIORS },
    });
    await restrictedNamespace(operator, 'secure');
    await operator.client.create(
      RESOURCES.agentSteps,
      // One attempt, an hour's limit: only the refusal can end it within the wait.
      inNamespace(
        agentStep('run', 'kubernetes-job', { container: TEST_IMAGE, maxAttempts: 1, maxRuntime: 3600 }),
        'secure',
      ) as never,
    );
    const step = await waitForPhase<Step>(
      operator.client,
      'AgentStep',
      'secure',
      'run',
      ['Succeeded', 'Failed'],
      60_000,
    );
    expect(step.status?.phase).toBe('Failed');
    expect(step.status?.history?.[0]?.reason).toBe('PodSecurityRefused');
    expect(step.status?.message).toContain(
      'violates PodSecurity "restricted:latest": runAsNonRoot != true (pod or container',
    );
  });

  it('a build fails at once as BuilderUnavailable, spending no attempt: Kaniko needs baseline', async () => {
    operator = await startTestOperator({
      script:
        'responses:\n  - agent: build\n    text: |\n      ```dockerfile\n      FROM ubuntu:22.04\n      RUN true\n      ```\n',
      sim: { behaviors: BEHAVIORS },
    });
    await restrictedNamespace(operator, 'secure');
    await operator.client.create(
      RESOURCES.agentSteps,
      inNamespace(agentStep('build', 'build', { application: 'lammps' }), 'secure') as never,
    );
    const step = await waitForPhase<Step>(
      operator.client,
      'AgentStep',
      'secure',
      'build',
      ['Succeeded', 'Failed'],
      60_000,
    );
    expect(step.status?.phase).toBe('Failed');
    expect(step.status?.reason).toBe('BuilderUnavailable');
    expect(step.status?.attempt).toBe(1);
    expect(step.status?.message).toContain(
      'the Kaniko pod was refused: violates PodSecurity "restricted:latest"',
    );
    expect(step.status?.message).toContain('pod-security.kubernetes.io/enforce=baseline');
  });
});
