// The experiment demo's script and behaviours (demo/experiment.*.yaml): every plan of
// demo/experiment.yaml, made by experimentRuns as the experiment controller makes them, succeeds on
// the simulated cluster with exactly the attempts below. Outcomes follow from the answers alone (the
// Dockerfile a build rule matches, the command a pod rule matches), never from timing or scheduling,
// so the table is the same in every run of the demo; vague details cost more attempts than specific
// ones, and repetitions of one cell are not all alike.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentPlan } from '../../src/api/agentplan.ts';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { DEMO_REGISTRY } from '../../src/cli/commands/demo.ts';
import { readExperimentFile } from '../../src/cli/commands/experiment.ts';
import { experimentRuns } from '../../src/experiment/matrix.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import { startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

type Plan = AgentPlan & { metadata: { name: string } };
type Step = AgentStep & { metadata: { name: string } };

const demo = join(import.meta.dirname, '../../demo');

/**
 * Build and run attempts of every plan, `build/run`; each failed attempt is followed by one that
 * works. What failed (demo/experiment.script.yaml's header tells the story):
 *  - lammps vague: every first build without ca-certificates; runs: r2 /opt/lammps/bin/lmp (not
 *    found, exit 127), r3 the input by its old name in.reaxc.hns (LAMMPS cannot open it).
 *  - lammps specific: nothing.
 *  - amg2023 vague: builds r1 without -L for -lHYPRE, r2 and r3 without hypre (HYPRE_config.h);
 *    runs r2 and r3 mpirun without --allow-run-as-root.
 *  - amg2023 specific: r1 without -L for -lHYPRE, then mpirun without --allow-run-as-root.
 *  - mpi-hello vague: builds r1 and r3 without libopenmpi-dev (mpicc: not found); runs r2 8 ranks on
 *    4 CPUs (not enough slots), r3 mpirun without --allow-run-as-root.
 *  - mpi-hello specific: nothing.
 */
const EXPECTED: Record<string, string> = {
  'demo-lammps-vague-r1': '2/1',
  'demo-lammps-vague-r2': '2/2',
  'demo-lammps-vague-r3': '2/2',
  'demo-lammps-specific-r1': '1/1',
  'demo-lammps-specific-r2': '1/1',
  'demo-lammps-specific-r3': '1/1',
  'demo-amg2023-vague-r1': '2/1',
  'demo-amg2023-vague-r2': '2/2',
  'demo-amg2023-vague-r3': '2/2',
  'demo-amg2023-specific-r1': '2/2',
  'demo-amg2023-specific-r2': '1/1',
  'demo-amg2023-specific-r3': '1/1',
  'demo-mpi-hello-vague-r1': '2/1',
  'demo-mpi-hello-vague-r2': '1/2',
  'demo-mpi-hello-vague-r3': '2/2',
  'demo-mpi-hello-specific-r1': '1/1',
  'demo-mpi-hello-specific-r2': '1/1',
  'demo-mpi-hello-specific-r3': '1/1',
};

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
  it('run every plan of demo/experiment.yaml to success, with the same attempts every time', async () => {
    // As `fractale experiment run demo/experiment.yaml` reads it (validated), and as the controller
    // makes its plans.
    const experiment = readExperimentFile(join(demo, 'experiment.yaml'));
    const runs = experimentRuns(experiment.metadata.name!, experiment.spec);
    expect(runs.map((run) => run.plan).sort()).toEqual(Object.keys(EXPECTED).sort());

    operator = await startTestOperator({
      model: ScriptedModel.fromFile(join(demo, 'experiment.script.yaml')),
      // The demo's speed (EXPERIMENT_SPEED), slower than the suites' default: a Job's 600-second
      // deadline is then 12 real seconds, which 18 plans at once on a loaded machine do not reach
      // (at 0.0005 they do, and runs time out).
      sim: { behaviors: join(demo, 'experiment.behaviors.yaml'), speed: 0.02 },
      config: { registry: DEMO_REGISTRY },
    });
    const client = operator.client;
    // All at once: with outcomes that do not depend on timing, concurrency does not change them.
    for (const run of runs)
      await client.create(RESOURCES.agentPlans, {
        apiVersion: 'fractale.dev/v1alpha1',
        kind: 'AgentPlan',
        metadata: { name: run.plan, namespace: 'default' },
        spec: run.spec,
      } as never);

    const results: Run[] = [];
    for (const run of runs) {
      const plan = await waitForPhase<Plan>(
        client,
        'AgentPlan',
        'default',
        run.plan,
        ['Succeeded', 'Failed'],
        240_000,
      );
      // A plan whose build failed has no run step.
      const build = await client.find<Step>(RESOURCES.agentSteps, 'default', `${run.plan}-build`);
      const step = await client.find<Step>(RESOURCES.agentSteps, 'default', `${run.plan}-run`);
      results.push({
        plan: run.plan,
        application: run.cell.application,
        variant: run.cell.variant ?? '',
        phase: plan.status?.phase,
        message: plan.status?.message,
        buildAttempts: build?.status?.attempt ?? 0,
        runAttempts: step?.status?.attempt ?? 0,
        dockerfile: build?.status?.outputs?.['dockerfile'],
      });
    }

    const failed = results.filter((result) => result.phase !== 'Succeeded');
    expect(failed, JSON.stringify(results, null, 1)).toEqual([]);
    const table = Object.fromEntries(
      results.map((result) => [result.plan, `${result.buildAttempts}/${result.runAttempts}`]),
    );
    expect(table).toEqual(EXPECTED);

    // The story the table tells: vague details cost more attempts than specific ones, builds and
    // runs alike, for each application.
    const attempts = (application: string, variant: string, of: 'buildAttempts' | 'runAttempts') =>
      results
        .filter((result) => result.application === application && result.variant === variant)
        .reduce((sum, result) => sum + result[of], 0);
    for (const application of ['lammps', 'amg2023', 'mpi-hello']) {
      expect(attempts(application, 'vague', 'buildAttempts'), `${application}: builds`).toBeGreaterThan(
        attempts(application, 'specific', 'buildAttempts'),
      );
      expect(attempts(application, 'vague', 'runAttempts'), `${application}: runs`).toBeGreaterThan(
        attempts(application, 'specific', 'runAttempts'),
      );
    }
    // Repetitions differ: in some vague cell, two runs built other Dockerfiles.
    const differing = ['lammps', 'amg2023', 'mpi-hello'].filter((application) => {
      const repetitions = results.filter(
        (result) => result.application === application && result.variant === 'vague',
      );
      return new Set(repetitions.map((result) => result.dockerfile)).size > 1;
    });
    expect(differing.length, JSON.stringify(results, null, 1)).toBeGreaterThan(0);
  }, 300_000);
});
