// plans/optimize-lammps.yaml end to end on the simulated cluster (demo/optimize.behaviors.yaml: LAMMPS
// runs whose timesteps/s follow a performance model) with the scripted model: build, run, then the
// optimize step's baseline, a kept change, a change the policy refuses, a reverted change, and the
// plateau that ends it; the trajectory in status, in the results and in `fractale results`; and the
// same story after a restart in the middle of a trial.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentPlan } from '../../src/api/agentplan.ts';
import type { AgentStep } from '../../src/api/agentstep.ts';
import { DEMO_REGISTRY } from '../../src/cli/commands/demo.ts';
import { readPlanFile } from '../../src/cli/files.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import type { ResultsDocument } from '../../src/results/document.ts';
import { fractale } from '../cli/io.ts';
import { startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

type Plan = AgentPlan & { metadata: { name: string } };
type Step = AgentStep & { metadata: { name: string } };

const root = join(import.meta.dirname, '../..');
const PLAN = join(root, 'plans/optimize-lammps.yaml');

let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

async function start(): Promise<TestOperator> {
  operator = await startTestOperator({
    model: ScriptedModel.fromFile(join(root, 'demo/optimize-lammps.script.yaml')),
    sim: { behaviors: join(root, 'demo/optimize.behaviors.yaml'), speed: 0.01 },
    config: { registry: DEMO_REGISTRY },
  });
  return operator;
}

/** Every Job the optimize step made, by attempt. */
function followJobs(op: TestOperator) {
  const created: string[] = [];
  const stop = op.sim.watch(RESOURCES.jobs, (event, job) => {
    if (event === 'add' && job.metadata.name?.startsWith('optimize-lammps-optimize-'))
      created.push(job.metadata.name);
  });
  return { created, stop };
}

async function expectTheStory(op: TestOperator, jobs: string[]) {
  const plan = await waitForPhase<Plan>(
    op.client,
    'AgentPlan',
    'default',
    'optimize-lammps',
    ['Succeeded', 'Failed'],
    240_000,
  );
  expect({ phase: plan.status?.phase, message: plan.status?.message }).toMatchObject({ phase: 'Succeeded' });
  const step = await op.client.get<Step>(RESOURCES.agentSteps, 'default', 'optimize-lammps-optimize');
  const status = step.status!;
  expect(status.phase).toBe('Succeeded');
  expect(status.reason).toBe('PlateauReached');
  const optimization = status.optimization!;
  expect(optimization.trials.map((t) => [t.trial, t.attempt, t.outcome])).toEqual([
    [0, 1, 'baseline'],
    [1, 2, 'kept'],
    [2, 3, 'failed'],
    [3, 4, 'reverted'],
  ]);
  for (const t of optimization.trials.filter((x) => x.outcome !== 'failed'))
    expect(t.figures).toHaveLength(3);
  // 1 rank of LAMMPS's reaxff HNS example: about 5.7 timesteps/s; 4 ranks about 15.
  expect(optimization.baseline).toBeGreaterThan(5);
  expect(optimization.baseline).toBeLessThan(6.5);
  expect(optimization.best).toBeGreaterThan(13);
  expect(optimization.bestAttempt).toBe(2);
  expect(optimization.ratio).toBeGreaterThan(2);
  expect(optimization.trials[2]!.message).toContain('hostNetwork');
  expect(optimization.trials[2]!.change).toBe('use the host network for MPI');
  expect(optimization.trials[3]!.median).toBeLessThan(optimization.best!);
  expect(optimization.stopReason).toContain('2 trial(s) in a row did not beat the best (plateau 2)');
  // The best manifest is the step's output; the refused trial made no Job.
  expect(status.outputs?.['manifest']).toMatch(/- mpirun\n\s+- --allow-run-as-root\n\s+- -np\n\s+- "4"/);
  expect(status.outputs?.['ratio']).toBe(String(optimization.ratio));
  expect([...new Set(jobs)].sort()).toEqual([
    'optimize-lammps-optimize-1',
    'optimize-lammps-optimize-2',
    'optimize-lammps-optimize-4',
  ]);
  expect(jobs).toHaveLength(3);
  return { status, kubeconfig: op.sim.kubeconfigPath };
}

describe('the optimize agent in a plan', () => {
  it('measures the baseline, keeps a gain, records a refused and a reverted change, and stops on the plateau', async () => {
    const op = await start();
    const jobs = followJobs(op);
    await op.client.create(RESOURCES.agentPlans, {
      ...(readPlanFile(PLAN) as Plan),
      metadata: { name: 'optimize-lammps', namespace: 'default' },
    } as never);
    const { kubeconfig } = await expectTheStory(op, jobs.created);
    jobs.stop();

    // The trajectory in the results, as `fractale results` prints them.
    const printed = await fractale(['results', 'optimize-lammps', '--kubeconfig', kubeconfig]);
    expect(printed.code, printed.stderr).toBe(0);
    const doc = JSON.parse(printed.stdout) as ResultsDocument;
    const optimize = doc.steps.find((s) => s.step === 'optimize')!;
    expect(optimize.metadata.optimization?.trials.map((t) => t.outcome)).toEqual([
      'baseline',
      'kept',
      'failed',
      'reverted',
    ]);
    const kept = optimize.metadata.optimization!.trials[1]!;
    expect(kept.change).toBe('4 MPI ranks with mpirun, one per requested CPU');
    expect(kept.diff).toContain('--- attempt-1');
    expect(kept.diff).toMatch(/^\+\s+- mpirun$/m);
    expect(kept.diff).not.toContain('optimize-lammps-optimize-2');
    expect(optimize.result).toContain('Best ');
  }, 300_000);

  it('tells the same story after the operator restarts in the middle of a trial', async () => {
    const op = await start();
    const jobs = followJobs(op);
    await op.client.create(RESOURCES.agentPlans, {
      ...(readPlanFile(PLAN) as Plan),
      metadata: { name: 'optimize-lammps', namespace: 'default' },
    } as never);
    // Restart while the kept trial (attempt 2) runs: seen on a watch, which misses no status write
    // (polling could miss a trial that runs for a fraction of a second on a fast machine).
    let seen!: () => void;
    const midTrial = new Promise<void>((resolve) => {
      seen = resolve;
    });
    const unwatch = op.sim.watch(RESOURCES.agentSteps, (_event, object) => {
      const step = object as Step;
      if (step.metadata.name !== 'optimize-lammps-optimize') return;
      if (step.status?.attempt === 2 && ['Deploying', 'Running'].includes(step.status.phase ?? '')) seen();
    });
    await midTrial;
    unwatch();
    await op.restart();
    await expectTheStory(op, jobs.created);
    jobs.stop();
  }, 300_000);
});
