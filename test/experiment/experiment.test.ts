// The AgentExperiment controller on the simulated cluster with the demo's scripted model: one plan per
// cell and repetition, never more than spec.concurrency at once, every ended plan's results stored in
// the experiment's ConfigMaps, counts per cell in status, restart-safe, and deleted with the experiment.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentExperiment } from '../../src/api/agentexperiment.ts';
import type { AgentPlan } from '../../src/api/agentplan.ts';
import { LABELS } from '../../src/api/names.ts';
import { DEMO_REGISTRY, DEMO_SCRIPT } from '../../src/cli/commands/demo.ts';
import { readPlanFile } from '../../src/cli/files.ts';
import { RESULTS_LABEL, readExperimentRuns } from '../../src/experiment/aggregate.ts';
import type { KubeObject } from '../../src/kube/client.ts';
import { RESOURCES } from '../../src/kube/resources.ts';
import { ScriptedModel } from '../../src/llm/scripted.ts';
import { eventually } from '../helpers/kubeconfig.ts';
import { startTestOperator, type TestOperator, waitForPhase } from '../helpers/operator.ts';

type Experiment = AgentExperiment & KubeObject;
type Plan = AgentPlan & KubeObject;

const root = join(import.meta.dirname, '../..');
const template = (readPlanFile(join(root, 'plans/run-lammps.yaml')) as Plan).spec;

let operator: TestOperator | undefined;
afterEach(async () => {
  await operator?.stop();
  operator = undefined;
});

function experiment(name: string, spec: Record<string, unknown> = {}): Experiment {
  return {
    apiVersion: 'fractale.dev/v1alpha1',
    kind: 'AgentExperiment',
    metadata: { name, namespace: 'default' },
    spec: {
      plan: template,
      matrix: {
        applications: [
          { name: 'lammps', context: { application: 'lammps' } },
          { name: 'hns', context: { application: 'lammps' }, steps: { run: { maxAttempts: 4 } } },
        ],
        variants: [{ name: 'plain', steps: { build: { details: 'Clone the latest branch of LAMMPS.' } } }],
        repetitions: 2,
      },
      concurrency: 2,
      ...spec,
    },
  } as unknown as Experiment;
}

async function start(): Promise<TestOperator> {
  operator = await startTestOperator({
    model: ScriptedModel.fromFile(DEMO_SCRIPT),
    config: { registry: DEMO_REGISTRY },
  });
  return operator;
}

/** Follows the experiment's plans: how many ran at once at most, and how many were ever created. */
function followPlans(op: TestOperator) {
  const phases = new Map<string, string>();
  const created = new Set<string>();
  let createdTwice = 0;
  let maxRunning = 0;
  const stop = op.sim.watch(RESOURCES.agentPlans, (event, object) => {
    const plan = object as Plan;
    const name = plan.metadata.name!;
    if (event === 'delete') {
      phases.delete(name);
      return;
    }
    if (event === 'add' && !phases.has(name)) {
      if (created.has(name)) createdTwice++;
      created.add(name);
    }
    phases.set(name, plan.status?.phase ?? 'Pending');
    const running = [...phases.values()].filter((p) => p !== 'Succeeded' && p !== 'Failed').length;
    maxRunning = Math.max(maxRunning, running);
  });
  return {
    stop,
    get maxRunning() {
      return maxRunning;
    },
    created,
    get createdTwice() {
      return createdTwice;
    },
  };
}

describe('AgentExperiment', () => {
  it('runs one plan per cell and repetition, at most spec.concurrency at once, and stores every results document', async () => {
    const op = await start();
    const follow = followPlans(op);
    await op.client.create(RESOURCES.agentExperiments, experiment('cmp'));
    const done = await waitForPhase<Experiment>(
      op.client,
      'AgentExperiment',
      'default',
      'cmp',
      ['Completed', 'Failed'],
      240_000,
    );
    follow.stop();
    expect(done.status).toMatchObject({
      phase: 'Completed',
      reason: 'AllPlansEnded',
      plans: 4,
      created: 4,
      done: 4,
      succeeded: 4,
      failed: 0,
      running: 0,
      collected: 4,
    });
    expect(done.status?.cells).toEqual([
      { name: 'lammps-plain', application: 'lammps', variant: 'plain', succeeded: 2, failed: 0, running: 0 },
      { name: 'hns-plain', application: 'hns', variant: 'plain', succeeded: 2, failed: 0, running: 0 },
    ]);
    expect(done.status?.conditions?.find((c) => c.type === 'Succeeded')?.status).toBe('True');
    expect(follow.maxRunning).toBeLessThanOrEqual(2);
    expect(follow.maxRunning).toBe(2);
    expect([...follow.created].sort()).toEqual([
      'cmp-hns-plain-r1',
      'cmp-hns-plain-r2',
      'cmp-lammps-plain-r1',
      'cmp-lammps-plain-r2',
    ]);

    // The plans: owned and labelled, the matrix's contexts merged in, the cache off, every attempt kept.
    const plan = await op.client.get<Plan>(RESOURCES.agentPlans, 'default', 'cmp-hns-plain-r2');
    expect(plan.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'AgentExperiment', name: 'cmp' });
    expect(plan.metadata.labels).toMatchObject({
      [LABELS.experiment]: 'cmp',
      [LABELS.cell]: 'hns-plain',
      [LABELS.repetition]: '2',
      [LABELS.application]: 'hns',
      [LABELS.variant]: 'plain',
    });
    expect(plan.spec.useCache).toBe(false);
    expect(plan.spec.results?.incremental).toBe(true);
    expect(plan.spec.steps[0]!.context?.['details']).toBe('Clone the latest branch of LAMMPS.');
    expect(plan.spec.steps[1]!.context?.['maxAttempts']).toBe(4);
    expect(plan.spec.steps[1]!.context?.['details']).toContain('lmp -v x 2');

    // The results: one stored run per plan, with its place in the matrix and its whole document.
    expect(done.status?.resultsRefs).toEqual(['cmp-results-1']);
    const runs = await readExperimentRuns(op.client, 'default', 'cmp');
    expect(runs.map((r) => [r.plan, r.cell, r.application, r.variant, r.repetition]).sort()).toEqual([
      ['cmp-hns-plain-r1', 'hns-plain', 'hns', 'plain', 1],
      ['cmp-hns-plain-r2', 'hns-plain', 'hns', 'plain', 2],
      ['cmp-lammps-plain-r1', 'lammps-plain', 'lammps', 'plain', 1],
      ['cmp-lammps-plain-r2', 'lammps-plain', 'lammps', 'plain', 2],
    ]);
    for (const run of runs) {
      expect(run.results.status).toBe('Succeeded');
      const build = run.results.steps.find((s) => s.step === 'build')!;
      // Every attempt, with its artifact and its time per stage.
      expect(build.metadata.assets.attempts?.map((a) => a.artifact?.startsWith('FROM'))).toEqual([
        true,
        true,
      ]);
      expect(build.metadata.history?.map((h) => h.outcome)).toEqual(['Failed', 'Succeeded']);
      expect(Object.keys(build.metadata.history![1]!.stages).sort()).toEqual(['Building', 'Generating']);
      expect(Object.keys(build.metadata.history![0]!.stages)).toContain('Diagnosing');
      // Each call says which model answered it, so a report can price runs on the operator's default.
      expect(build.metadata.ask_gemini[0]).toMatchObject({
        provider: 'scripted',
        model: 'run-lammps.script.yaml',
      });
    }

    // Deleting the experiment deletes its plans (and their steps) and its results.
    await op.client.delete(RESOURCES.agentExperiments, 'default', 'cmp');
    await eventually(async () => {
      const plans = await op.client.list(RESOURCES.agentPlans, 'default');
      const results = await op.client.list(RESOURCES.configMaps, 'default', {
        labelSelector: `${RESULTS_LABEL}=cmp`,
      });
      return plans.items.length === 0 && results.items.length === 0 ? true : undefined;
    }, 60_000);
  }, 300_000);

  it('after a restart in the middle creates no plan twice and loses no result', async () => {
    const op = await start();
    const follow = followPlans(op);
    await op.client.create(
      RESOURCES.agentExperiments,
      experiment('restart', { matrix: { ...experiment('x').spec.matrix, repetitions: 3 }, concurrency: 3 }),
    );
    // Restart once some plans ended and others run.
    await eventually(async () => {
      const e = await op.client.get<Experiment>(RESOURCES.agentExperiments, 'default', 'restart');
      return (e.status?.done ?? 0) >= 1 && (e.status?.done ?? 0) < 6 ? true : undefined;
    }, 120_000);
    await op.restart();
    const done = await waitForPhase<Experiment>(
      op.client,
      'AgentExperiment',
      'default',
      'restart',
      ['Completed', 'Failed'],
      240_000,
    );
    follow.stop();
    expect(done.status).toMatchObject({ phase: 'Completed', plans: 6, done: 6, collected: 6, succeeded: 6 });
    expect(follow.created.size).toBe(6);
    expect(follow.createdTwice).toBe(0);
    expect(follow.maxRunning).toBeLessThanOrEqual(3);
    const runs = await readExperimentRuns(op.client, 'default', 'restart');
    expect(runs.map((r) => r.plan).sort()).toEqual([...follow.created].sort());

    // More repetitions later: the experiment runs again for the new ones only.
    const current = await op.client.get<Experiment>(RESOURCES.agentExperiments, 'default', 'restart');
    await op.client.patch(RESOURCES.agentExperiments, 'default', 'restart', {
      spec: { matrix: { ...current.spec.matrix, repetitions: 4 } },
    });
    const grown = await eventually(async () => {
      const e = await op.client.get<Experiment>(RESOURCES.agentExperiments, 'default', 'restart');
      return e.status?.phase === 'Completed' && e.status.plans === 8 && e.status.collected === 8
        ? e
        : undefined;
    }, 240_000);
    expect(grown?.status?.succeeded).toBe(8);
  }, 600_000);

  it('an experiment whose runs would be invalid plans fails at once, naming the field, and creates nothing', async () => {
    const op = await start();
    const colliding = experiment('bad', {
      matrix: {
        applications: [
          { name: 'lammps', context: { application: 'lammps' } },
          { name: 'lammps-x', context: { application: 'lammps' } },
        ],
        variants: [{ name: 'plain' }, { name: 'x-plain' }],
        repetitions: 1,
      },
    });
    await op.client.create(RESOURCES.agentExperiments, colliding);
    const failed = await waitForPhase<Experiment>(op.client, 'AgentExperiment', 'default', 'bad', ['Failed']);
    expect(failed.status?.reason).toBe('InvalidExperiment');
    expect(failed.status?.message).toContain(
      'the cells lammps × x-plain and lammps-x × plain are both named "lammps-x-plain"',
    );
    expect(failed.status?.conditions?.find((c) => c.type === 'Succeeded')?.status).toBe('False');

    // A run step whose merged context the kubernetes-job agent refuses.
    const invalid = experiment('invalid', {
      matrix: {
        applications: [{ name: 'other', steps: { run: { maxRuntime: 'forever' } } }],
        repetitions: 1,
      },
    });
    await op.client.create(RESOURCES.agentExperiments, invalid);
    const refused = await waitForPhase<Experiment>(op.client, 'AgentExperiment', 'default', 'invalid', [
      'Failed',
    ]);
    expect(refused.status?.message).toContain('application other: spec.plan.steps[1].context.maxRuntime');
    const plans = await op.client.list(RESOURCES.agentPlans, 'default');
    expect(plans.items).toHaveLength(0);

    // An edit that makes it valid runs it: Failed is not for good.
    await op.client.patch(RESOURCES.agentExperiments, 'default', 'invalid', {
      spec: {
        matrix: { applications: [{ name: 'other', context: { application: 'lammps' } }], repetitions: 1 },
      },
    });
    const fixed = await waitForPhase<Experiment>(
      op.client,
      'AgentExperiment',
      'default',
      'invalid',
      ['Completed'],
      120_000,
    );
    expect(fixed.status).toMatchObject({ plans: 1, succeeded: 1, reason: 'AllPlansEnded' });
  }, 240_000);
});
