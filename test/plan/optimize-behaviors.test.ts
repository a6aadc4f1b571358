// demo/optimize.behaviors.yaml carries the builds and runs a build → run → optimize plan needs:
// plans/run-lammps.yaml with the LAMMPS demo's scripted model succeeds on it as on the default
// behaviours, and its run's log (a LAMMPS performance model's) gives the optimize agent a figure.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFigure } from '../../src/agents/optimize/figure.ts';
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

describe('the optimize demo behaviours under the LAMMPS demo plan', () => {
  it('build and run LAMMPS, and the run prints a figure the optimize agent reads', async () => {
    operator = await startTestOperator({
      model: ScriptedModel.fromFile(DEMO_SCRIPT),
      sim: { behaviors: join(root, 'demo/optimize.behaviors.yaml') },
      config: { registry: DEMO_REGISTRY },
    });
    const plan = readPlanFile(join(root, 'plans/run-lammps.yaml')) as Plan;
    await operator.client.create(RESOURCES.agentPlans, {
      ...plan,
      metadata: { name: 'optimize-base', namespace: 'default' },
    } as never);
    const done = await waitForPhase<Plan>(
      operator.client,
      'AgentPlan',
      'default',
      'optimize-base',
      ['Succeeded', 'Failed'],
      120_000,
    );
    expect({ phase: done.status?.phase, message: done.status?.message }).toMatchObject({
      phase: 'Succeeded',
    });
    const run = await operator.client.find<Step>(RESOURCES.agentSteps, 'default', 'optimize-base-run');
    const log = run?.status?.result ?? '';
    expect(log).toContain('LAMMPS (2 Aug 2023 - Update 3)');
    // The scripted Job runs lmp alone (1 rank) asking for 2 CPUs: about LAMMPS's own 1-rank 5.678.
    const figure = parseFigure({ parser: 'lammps-timesteps' }, log);
    expect(figure.ok).toBe(true);
    if (figure.ok) {
      expect(figure.figure.value).toBeGreaterThan(5.678 * 0.9);
      expect(figure.figure.value).toBeLessThan(5.678 * 1.1);
    }
    expect(log).toContain('with 1 MPI tasks x 1 OpenMP threads');
  }, 180_000);
});
