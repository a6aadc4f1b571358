// The scripted model over more than one plan in one operator: the demo's script (reuse: true) serves
// any number of plans; a script whose answers run out fails the step at once, with that reason.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentPlan } from '../../src/api/agentplan.ts';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { DEMO_REGISTRY, DEMO_SCRIPT } from '../../src/cli/commands/demo.ts';
import { readPlanFile } from '../../src/cli/files.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import { startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

type Plan = AgentPlan & { metadata: { name: string } };
type Step = AgentStep & { metadata: { name: string } };

const root = join(import.meta.dirname, '../..');

let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

/** plans/run-lammps.yaml under another name. */
function lammpsPlan(name: string): Plan {
  const plan = readPlanFile(join(root, 'plans/run-lammps.yaml')) as Plan;
  return { ...plan, metadata: { name, namespace: 'default' } };
}

async function runPlan(op: TestOperator, name: string): Promise<Plan> {
  await op.client.create(RESOURCES.agentPlans, lammpsPlan(name) as never);
  return waitForPhase<Plan>(op.client, 'AgentPlan', 'default', name, ['Succeeded', 'Failed'], 120_000);
}

describe('the scripted model over several plans', () => {
  it("the demo's script serves a second and a third plan in the same operator", async () => {
    operator = await startTestOperator({
      model: ScriptedModel.fromFile(DEMO_SCRIPT),
      config: { registry: DEMO_REGISTRY },
    });
    for (const name of ['first', 'second', 'third']) {
      const plan = await runPlan(operator, name);
      expect({ name, phase: plan.status?.phase, message: plan.status?.message }).toMatchObject({
        phase: 'Succeeded',
      });
    }
    // Each build told the same story (two attempts). The first run pulled the image onto the node,
    // so later runs' imagePullPolicy: Never finds it there and works at once.
    const steps = await operator.client.list<Step>(RESOURCES.agentSteps, 'default');
    expect(steps.items.map((s) => [s.metadata.name, s.status?.attempt]).sort()).toEqual([
      ['first-build', 2],
      ['first-run', 2],
      ['second-build', 2],
      ['second-run', 1],
      ['third-build', 2],
      ['third-run', 1],
    ]);
  }, 300_000);

  it('a script whose answers are used up fails the step at once with that reason, and the plan without recovery', async () => {
    // The demo's answers, each used once: enough for one plan.
    const once = readFileSync(DEMO_SCRIPT, 'utf8').replace(/^reuse: true\n/m, '');
    expect(once).not.toMatch(/^reuse:/m);
    operator = await startTestOperator({
      model: ScriptedModel.fromYaml(once),
      config: { registry: DEMO_REGISTRY },
    });
    expect((await runPlan(operator, 'first')).status?.phase).toBe('Succeeded');
    const second = await runPlan(operator, 'second');
    expect(second.status?.phase).toBe('Failed');
    expect(second.status?.reason).toBe('ModelUnavailable');
    expect(second.status?.message).toContain('no scripted response left for agent');
    expect(second.status?.message).toContain('set reuse: true in the script');
    // No manager recovery was attempted, and the step spent one attempt, not ten.
    expect(second.status?.attempts ?? 0).toBe(0);
    const step = await operator.client.get<Step>(RESOURCES.agentSteps, 'default', 'second-build');
    expect(step.status?.phase).toBe('Failed');
    expect(step.status?.reason).toBe('ModelUnavailable');
    expect(step.status?.attempt).toBe(1);
    expect(step.status?.message).toContain('no scripted response left for agent');
  }, 300_000);
});
