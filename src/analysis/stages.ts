// Where attempts spend their time: seconds per stage of each attempt (the step's phases), and how a
// build's time depends on where its Dockerfile first changed (the layers before it come from the cache).
import { dockerfileInstructions } from './artifact.ts';
import type { BuildCacheRecord, ChangeRecord, RunRecord, Stage, StageRecord } from './types.ts';
import { assetsOf, attemptsOf, isDockerfileStep, runKey, stepKey } from './walk.ts';

/** A step phase's stage; phases not listed (Pending, Succeeded, ...) are not stages of work. */
export const PHASE_STAGES: Readonly<Record<string, Stage>> = {
  Generating: 'generate',
  Building: 'build',
  Deploying: 'deploy',
  Running: 'run',
  Validating: 'validate',
  Diagnosing: 'diagnose',
  AwaitingHuman: 'human',
};

/** One record per attempt and stage it spent time in, in the order the history lists the stages. */
export function stageRecords(runs: readonly RunRecord[]): StageRecord[] {
  const records: StageRecord[] = [];
  for (const run of runs) {
    const key = runKey(run);
    for (const step of run.results.steps)
      for (const h of attemptsOf(step))
        for (const [phase, seconds] of Object.entries(h.stages)) {
          const stage = Object.hasOwn(PHASE_STAGES, phase) ? PHASE_STAGES[phase] : undefined;
          if (stage === undefined || typeof seconds !== 'number') continue;
          records.push({
            ...key,
            planStatus: run.results.status,
            ...stepKey(step),
            attempt: h.attempt,
            stage,
            seconds,
          });
        }
  }
  return records;
}

/**
 * For each build attempt whose Dockerfile changed from the previous one's, its build time against
 * the first changed instruction. Attempts that never reached Building (no build ran) are left out.
 */
export function buildCacheRecords(
  runs: readonly RunRecord[],
  changes: readonly ChangeRecord[],
): BuildCacheRecord[] {
  const byAttempt = new Map<string, ChangeRecord>();
  for (const c of changes) byAttempt.set(`${c.plan}\0${c.stepRun}\0${c.toAttempt}`, c);
  const records: BuildCacheRecord[] = [];
  for (const run of runs) {
    const key = runKey(run);
    for (const step of run.results.steps) {
      if (!isDockerfileStep(step)) continue;
      const assets = assetsOf(step);
      for (const h of attemptsOf(step)) {
        const change = byAttempt.get(`${run.plan}\0${step.name}\0${h.attempt}`);
        const buildSeconds = h.stages['Building'];
        if (change?.firstChangedIndex === undefined || typeof buildSeconds !== 'number') continue;
        records.push({
          ...key,
          stepRun: step.name,
          attempt: h.attempt,
          firstChangedIndex: change.firstChangedIndex,
          instructions: dockerfileInstructions(assets.get(h.attempt)?.artifact ?? '').length,
          buildSeconds,
        });
      }
    }
  }
  return records;
}
