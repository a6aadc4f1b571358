// The invalid plans and steps of bad-input.ts, applied with the real kubectl: the admission cases are
// refused by the API server (the CRD's schema and CEL rule), naming the field; the operator cases are
// admitted and then failed by the operator with a condition naming the field and the fix. Applied all
// together with one valid plan, they do not stop the operator: the valid plan still runs to the end.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Condition } from '../../src/api/common.ts';
import type { KubeObject } from '../../src/kube/client.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import type { GenerateRequest } from '../../src/llm/types.ts';
import { jobManifestAnswer, TEST_IMAGE } from '../helpers/answers.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';
import { expectAdmissionRefusals, manifest, YAML_1_1 } from './admission.ts';
import { BAD_PLANS, BAD_STEPS, type BadInput, OVER_CAP_STEP } from './bad-input.ts';

type Phased = KubeObject & {
  status?: { phase?: string; reason?: string; message?: string; conditions?: Condition[] };
};

const isStep = (b: BadInput) => b.name.startsWith('step:');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fractale-bad-input-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kubectl apply of the admission cases', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('refuses every one at the API server, naming the field, and stores none', async () => {
    cluster = await startTestCluster();
    await expectAdmissionRefusals(cluster.kubeconfigPath, dir);
  });
});

describe('the operator, given every operator case and one valid plan at once', () => {
  let operator: TestOperator | undefined;
  afterEach(async () => {
    await operator?.stop();
    operator = undefined;
  });

  it('runs the valid plan to the end and fails each invalid one with a condition naming the field and the fix', async () => {
    const scripted = ScriptedModel.fromYaml(`responses:
  - agent: kubernetes-job
    text: |${jobManifestAnswer('echo done')}
`);
    const requests: GenerateRequest[] = [];
    operator = await startTestOperator({
      model: {
        provider: scripted.provider,
        model: scripted.model,
        generate: (request) => {
          requests.push(request);
          return scripted.generate(request);
        },
      },
      sim: {
        behaviors: {
          pullable: ['ghcr.io/.*'],
          pods: [{ outcome: 'Succeeded', runSeconds: 1, log: 'done\n' }],
        },
      },
    });
    const cases = [...BAD_PLANS, ...BAD_STEPS, OVER_CAP_STEP].filter((b) => b.by === 'operator');
    // A plan whose errors are longer than a status message may be (4096 characters): the operator
    // must still be able to write that it failed (before the message was cut, the status write was
    // refused by the CRD's maxLength on every pass, and the plan stayed without a status for good).
    const many: BadInput = {
      name: 'thirty-two steps, each invalid twice',
      spec: {
        steps: Array.from({ length: 32 }, (_, i) => ({
          name: `s${i}`,
          agent: 'build',
          context: { platforms: ['not a platform'] },
        })),
      },
      field: 'spec.steps[0].context.application',
      fix: /application is required/,
      by: 'operator',
      schema: false,
    };
    const named = [...cases, many].map((b, i) => ({ b, name: `bad-${String(i).padStart(2, '0')}` }));
    const documents = [
      ...named.map(({ b, name }) => manifest(b, name)),
      {
        apiVersion: 'fractale.dev/v1alpha1',
        kind: 'AgentPlan',
        metadata: { name: 'good', namespace: 'default' },
        spec: { steps: [{ name: 'run', agent: 'kubernetes-job', context: { container: TEST_IMAGE } }] },
      },
    ];
    const file = join(dir, 'operator-cases.yaml');
    writeFileSync(file, documents.map((d) => stringify(d, YAML_1_1)).join('---\n'));
    const applied = await kubectl(operator.sim.kubeconfigPath, ['apply', '-f', file]);
    expect(applied.stderr).toBe('');
    expect(applied.stdout.trim().split('\n')).toHaveLength(documents.length);

    const good = await waitForPhase<Phased>(
      operator.client,
      'AgentPlan',
      'default',
      'good',
      ['Succeeded', 'Failed'],
      60_000,
    );
    expect(good.status?.phase, JSON.stringify(good.status, null, 1)).toBe('Succeeded');

    for (const { b, name } of named) {
      const kind = isStep(b) ? 'AgentStep' : 'AgentPlan';
      const object = await waitForPhase<Phased>(
        operator.client,
        kind,
        'default',
        name,
        ['Failed', 'Succeeded'],
        30_000,
      );
      const condition = object.status?.conditions?.find((c) => c.type === 'Succeeded');
      const reason = kind === 'AgentStep' ? 'InvalidContext' : 'InvalidPlan';
      expect({
        case: b.name,
        phase: object.status?.phase,
        condition: condition?.status,
        reason: condition?.reason,
      }).toEqual({
        case: b.name,
        phase: 'Failed',
        condition: 'False',
        reason,
      });
      const message = condition?.message ?? '';
      expect(message, b.name).toContain(`${b.field}:`);
      expect(message.slice(message.indexOf(`${b.field}:`)), b.name).toMatch(b.fix);
      expect(message.length).toBeLessThanOrEqual(4096);
    }
    // The invalid ones cost no model call and started no step: only the valid plan's run asked.
    expect(requests.map((r) => r.agent)).toEqual(['kubernetes-job']);
    const steps = await operator.client.list(RESOURCES.agentSteps, 'default');
    const fromPlans = steps.items.map((s) => s.metadata.name!).filter((n) => !/^bad-\d\d$/.test(n));
    expect(fromPlans).toEqual(['good-run']);
  }, 180_000);
});
