// The experiment demo's script and behaviours (demo/experiment.*.yaml): every application × variant
// × repetition plan, made from demo/experiment-plan.yaml as an experiment makes them, succeeds on the
// simulated cluster, and the answers differ as the demo needs them to: vague details cost more build
// attempts than specific ones, and repetitions of one cell are not all alike.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AgentPlan } from '../../src/api/agentplan.ts';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { DEMO_REGISTRY } from '../../src/cli/commands/demo.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import { startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

type Plan = AgentPlan & { metadata: { name: string } };
type Step = AgentStep & { metadata: { name: string } };
type Context = Record<string, unknown>;

interface Axis {
  name: string;
  context?: Context;
}
interface ExperimentDemo {
  applications: Axis[];
  variants: Axis[];
  plan: AgentPlan['spec'];
}

const demo = join(import.meta.dirname, '../../demo');
const experiment = parse(readFileSync(join(demo, 'experiment-plan.yaml'), 'utf8')) as ExperimentDemo;
const REPETITIONS = 3;

/** The template with the application's context, then the variant's, merged into every step's. */
function cellPlan(name: string, application: Axis, variant: Axis): Plan {
  return {
    apiVersion: 'fractale.dev/v1alpha1',
    kind: 'AgentPlan',
    metadata: { name, namespace: 'default' },
    spec: {
      ...experiment.plan,
      steps: experiment.plan.steps.map((step) => ({
        ...step,
        context: { ...step.context, ...application.context, ...variant.context },
      })),
    },
  } as Plan;
}

let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

interface Run {
  plan: string;
  application: string;
  variant: string;
  phase: string | undefined;
  message: string | undefined;
  buildAttempts: number;
  runAttempts: number;
  dockerfile: string | undefined;
}

describe("the experiment demo's script and behaviours", () => {
  it('run every cell and repetition to success, with vague details costing more build attempts', async () => {
    operator = await startTestOperator({
      model: ScriptedModel.fromFile(join(demo, 'experiment.script.yaml')),
      sim: { behaviors: join(demo, 'experiment.behaviors.yaml') },
      config: { registry: DEMO_REGISTRY },
    });
    const client = operator.client;
    const cells = experiment.applications.flatMap((application) =>
      experiment.variants.flatMap((variant) =>
        Array.from({ length: REPETITIONS }, (_, r) => ({
          name: `demo-${application.name}-${variant.name}-r${r + 1}`,
          application,
          variant,
        })),
      ),
    );
    expect(cells).toHaveLength(18);
    // All at once, as an experiment with enough concurrency would run them.
    for (const cell of cells)
      await client.create(RESOURCES.agentPlans, cellPlan(cell.name, cell.application, cell.variant) as never);

    const runs: Run[] = [];
    for (const cell of cells) {
      const plan = await waitForPhase<Plan>(
        client,
        'AgentPlan',
        'default',
        cell.name,
        ['Succeeded', 'Failed'],
        240_000,
      );
      // A plan whose build failed has no run step.
      const build = await client.find<Step>(RESOURCES.agentSteps, 'default', `${cell.name}-build`);
      const run = await client.find<Step>(RESOURCES.agentSteps, 'default', `${cell.name}-run`);
      runs.push({
        plan: cell.name,
        application: cell.application.name,
        variant: cell.variant.name,
        phase: plan.status?.phase,
        message: plan.status?.message,
        buildAttempts: build?.status?.attempt ?? 0,
        runAttempts: run?.status?.attempt ?? 0,
        dockerfile: build?.status?.outputs?.['dockerfile'],
      });
    }

    const failed = runs.filter((run) => run.phase !== 'Succeeded');
    expect(failed, JSON.stringify(runs, null, 1)).toEqual([]);
    // No step needed more than the script means it to (three builds, two runs) of its four.
    for (const run of runs) {
      expect(run.buildAttempts, run.plan).toBeGreaterThanOrEqual(1);
      expect(run.buildAttempts, run.plan).toBeLessThanOrEqual(3);
      expect(run.runAttempts, run.plan).toBeGreaterThanOrEqual(1);
      expect(run.runAttempts, run.plan).toBeLessThanOrEqual(2);
    }

    const attempts = (application: string, variant: string) =>
      runs
        .filter((run) => run.application === application && run.variant === variant)
        .reduce((sum, run) => sum + run.buildAttempts, 0);
    for (const application of experiment.applications) {
      expect(
        attempts(application.name, 'vague'),
        `${application.name}: build attempts, vague vs specific`,
      ).toBeGreaterThan(attempts(application.name, 'specific'));
    }

    // Repetitions differ: in some vague cell, two runs took different attempts or built other files.
    const differing = experiment.applications.filter((application) => {
      const repetitions = runs.filter(
        (run) => run.application === application.name && run.variant === 'vague',
      );
      return (
        new Set(repetitions.map((run) => run.buildAttempts)).size > 1 ||
        new Set(repetitions.map((run) => run.dockerfile)).size > 1
      );
    });
    expect(differing.length, JSON.stringify(runs, null, 1)).toBeGreaterThan(0);
  }, 300_000);
});
