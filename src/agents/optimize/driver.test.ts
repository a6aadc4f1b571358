// The optimize driver without a cluster: what it accepts from the model, the Job a trial runs, and
// how a sequence of trials is judged (baseline, kept, reverted within the noise, failed, plateau).
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { OptimizationStatus } from '../../api/agentstep.ts';
import { parseContext } from '../../api/context.ts';
import type { AttemptInput } from '../../step/driver.ts';
import { REPETITION_MARK } from '../../step/trials.ts';
import { optimizeDriver, parseProposal, readHeader } from './driver.ts';

const IMAGE = 'registry.fractale.test:5000/lammps:abc';
const MANIFEST = `apiVersion: batch/v1
kind: Job
metadata:
  name: lammps
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: lammps
          image: ${IMAGE}
          command: ["mpirun", "--allow-run-as-root", "-np", "1", "lmp", "-in", "in.lj"]
          resources:
            requests: { cpu: "1", memory: 1Gi }
`;

function input(
  attempt: number,
  iteration?: OptimizationStatus,
  extra: Record<string, unknown> = {},
): AttemptInput {
  const parsed = parseContext('optimize', {
    container: IMAGE,
    manifest: MANIFEST,
    figureOfMerit: { parser: 'lammps-timesteps' },
    repetitions: 3,
    maxTrials: 4,
    plateau: 2,
    ...extra,
  });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return {
    namespace: 'default',
    stepName: 'demo-optimize',
    agent: 'optimize',
    context: parsed.context as Record<string, unknown>,
    attempt,
    avoid: [],
    settings: {
      insecureRegistry: false,
      kanikoImage: 'k',
      runServiceAccount: 'default',
      defaultMaxRuntime: 600,
      logBudgetTokens: 4000,
    },
    cluster: { nodes: '2 nodes, 4 CPU, 16Gi' },
    objectName: `demo-optimize-${attempt}`,
    labels: { 'fractale.dev/attempt': String(attempt) },
    ownerReference: {
      apiVersion: 'fractale.dev/v1alpha1',
      kind: 'AgentStep',
      name: 'demo-optimize',
      uid: 'u',
      controller: true,
      blockOwnerDeletion: true,
    },
    maxRuntimeSeconds: 1800,
    ...(iteration ? { iteration } : {}),
  };
}

/** A trial's log as the operator reads it: one LAMMPS Performance line per repetition. */
const runs = (...figures: number[]) =>
  figures
    .map(
      (f, i) =>
        `${REPETITION_MARK} ${i + 1} (pod p-${i}) =====\nLoop time of 1.2 on 4 procs for 100 steps with 32000 atoms\nPerformance: 1.0 tau/day, ${f} timesteps/s, 99.0% CPU use with 4 MPI tasks x 1 OpenMP threads\n`,
    )
    .join('\n');

const answer = (change: string, command: string) =>
  `\`\`\`json\n{"change": "${change}", "reason": "more ranks use the idle cores"}\n\`\`\`\n\`\`\`yaml\n${MANIFEST.replace('["mpirun", "--allow-run-as-root", "-np", "1", "lmp", "-in", "in.lj"]', command)}\`\`\``;

const iteration = optimizeDriver.iteration!;
const now = new Date('2026-12-04T00:00:00Z');

describe('what the optimize agent accepts', () => {
  it('reads the proposal (change and reason, or STOP) from untrusted JSON', () => {
    expect(parseProposal('```json\n{"change": "use 4 ranks", "reason": "4 cores"}\n```')).toEqual({
      ok: true,
      proposal: { stop: false, change: 'use 4 ranks', reason: '4 cores' },
    });
    expect(parseProposal('{"stop": true, "reason": "bound by memory bandwidth"}')).toEqual({
      ok: true,
      proposal: { stop: true, reason: 'bound by memory bandwidth' },
    });
    expect(parseProposal('{"change": ""}')).toMatchObject({
      ok: false,
      error: expect.stringContaining('"change"'),
    });
    expect(parseProposal('just a job')).toMatchObject({
      ok: false,
      error: expect.stringContaining('```json'),
    });
  });

  it('runs a trial as an Indexed Job of the repetitions, one run after the other, held to the run policy', () => {
    const accepted = optimizeDriver.accept(
      answer('use 4 MPI ranks', '["mpirun", "--allow-run-as-root", "-np", "4", "lmp", "-in", "in.lj"]'),
      input(2),
    );
    if (!accepted.ok) throw new Error(accepted.error);
    const job = accepted.objects.at(-1) as { metadata: { name: string }; spec: Record<string, unknown> };
    expect(job.metadata.name).toBe('demo-optimize-2');
    expect(job.spec).toMatchObject({
      completions: 3,
      parallelism: 1,
      completionMode: 'Indexed',
      backoffLimit: 0,
    });
    // The change and reason ride along as comments, so the stored artifact says what the trial was.
    expect(readHeader(accepted.artifact)).toEqual({
      change: 'use 4 MPI ranks',
      reason: 'more ranks use the idle cores',
    });
    expect(parse(accepted.artifact).spec.completions).toBe(3);
    // Stored and accepted again after a restart: the same trial.
    const again = optimizeDriver.accept(accepted.artifact, input(2));
    expect(again.ok && again.artifact).toBe(accepted.artifact);
  });

  it('refuses a hostile manifest as any run is refused, and takes STOP as the end, not an error', () => {
    const hostile = answer('privileged', '["lmp"]').replace(
      'restartPolicy: Never',
      'restartPolicy: Never\n      hostNetwork: true',
    );
    expect(optimizeDriver.accept(hostile, input(2))).toMatchObject({ ok: false, reason: 'PolicyRefused' });
    expect(
      optimizeDriver.accept('```json\n{"stop": true, "reason": "no idle cores left"}\n```', input(3)),
    ).toEqual({
      ok: false,
      reason: 'Stopped',
      error: 'no idle cores left',
      stop: true,
    });
  });

  it('gives a trial the time of all its runs', () => {
    expect(optimizeDriver.trialSeconds?.({ repetitions: 3 }, 600)).toBe(1800);
  });
});

describe('a sequence of trials', () => {
  it('measures the baseline, keeps a clear gain, reverts one within the noise, and stops on a plateau', () => {
    const baseline = iteration.succeeded(
      input(1),
      iteration.initialArtifact(input(1)),
      runs(100, 104, 98),
      now,
    );
    expect(baseline).toMatchObject({ continue: true, message: 'Baseline: 100 timesteps/s' });
    expect(baseline.state).toMatchObject({ baseline: 100, best: 100, bestAttempt: 1, ratio: 1 });

    const kept = iteration.succeeded(
      input(2, baseline.state),
      `# fractale-trial change: use 4 MPI ranks\n# fractale-trial reason: 4 cores\n${MANIFEST}`,
      runs(310, 300, 305),
      now,
    );
    expect(kept.continue).toBe(true);
    expect(kept.state.trials.at(-1)).toMatchObject({
      trial: 1,
      attempt: 2,
      from: 1,
      outcome: 'kept',
      median: 305,
      spread: 10,
    });
    expect(kept.state).toMatchObject({ best: 305, bestAttempt: 2, ratio: 3.05 });

    // +6 over the best, but the best's own runs spread by 10: noise, reverted.
    const reverted = iteration.succeeded(
      input(3, kept.state),
      '# fractale-trial change: bind to cores\n' + MANIFEST,
      runs(311, 309, 313),
      now,
    );
    expect(reverted.state.trials.at(-1)).toMatchObject({ outcome: 'reverted', median: 311, from: 2 });
    expect(reverted.state.best).toBe(305);
    expect(reverted.continue).toBe(true);

    // A failed trial counts once; with the revert before it, that is the plateau of 2.
    const failed = iteration.failed(input(4, reverted.state), 'RunFailed', 'mpirun: too many ranks', now);
    expect(failed.state.trials.at(-1)).toMatchObject({ trial: 3, outcome: 'failed', from: 2 });
    expect(failed).toMatchObject({ continue: false, reason: 'PlateauReached', failedReason: 'RunFailed' });

    const done = iteration.finish(failed.state, `# fractale-trial change: use 4 MPI ranks\n${MANIFEST}`);
    expect(done?.outputs).toMatchObject({
      figure: '305',
      baseline: '100',
      ratio: '3.05',
      manifest: MANIFEST,
    });
    expect(done?.result).toContain('Best 305 timesteps/s (baseline 100, ratio 3.05)');
  });

  it('stops on the budget, and a run that prints no figure is a failed trial (the baseline: the step fails)', () => {
    const noFigure = iteration.succeeded(
      input(1),
      iteration.initialArtifact(input(1)),
      `${REPETITION_MARK} 1 (pod a) =====\nTotal wall time: 0:00:01\n`,
      now,
    );
    expect(noFigure).toMatchObject({ continue: false, reason: 'NoFigureOfMerit', failedReason: 'NoFigure' });
    expect(iteration.finish(noFigure.state, undefined)).toBeUndefined();

    let state = iteration.succeeded(
      input(1, undefined, { maxTrials: 1 }),
      iteration.initialArtifact(input(1)),
      runs(100, 100, 100),
      now,
    ).state;
    const last = iteration.succeeded(input(2, state, { maxTrials: 1 }), MANIFEST, runs(200, 200, 200), now);
    state = last.state;
    expect(last).toMatchObject({ continue: false, reason: 'BudgetSpent' });
    expect(state.trials.map((t) => t.outcome)).toEqual(['baseline', 'kept']);
  });

  it("ends on the model's STOP with the best so far", () => {
    const baseline = iteration.succeeded(
      input(1),
      iteration.initialArtifact(input(1)),
      runs(100, 100, 100),
      now,
    );
    expect(iteration.stopped(input(2, baseline.state), 'bound by memory bandwidth')).toMatchObject({
      continue: false,
      reason: 'ModelStopped',
      message: 'The model stopped: bound by memory bandwidth',
    });
  });

  it('asks with the history table and the best Job', () => {
    const baseline = iteration.succeeded(
      input(1),
      iteration.initialArtifact(input(1)),
      runs(100, 104, 98),
      now,
    );
    const prompt = optimizeDriver.prompt({
      ...input(2, baseline.state),
      bestArtifact: iteration.initialArtifact(input(1)),
    });
    expect(prompt).toContain('| 0 | baseline (the starting Job) | 100 | 6 | baseline |');
    expect(prompt).toContain('makes timesteps/s higher');
    expect(prompt).toContain('Each trial runs 3 time(s)');
    expect(prompt).toContain('"-np", "1"');
    expect(prompt).not.toContain('fractale-trial');
  });
});
