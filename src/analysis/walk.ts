// Reading a results document the same way in every module: a run's key, a step run's attempts
// (its history, or what older documents kept), an attempt's stored assets, a step run's model usage.
import type { AttemptHistoryRecord, IncrementalAsset, StepResult } from '../results/document.ts';
import type { RunKey, RunRecord } from './types.ts';

/** The columns every tidy row repeats; an absent axis is '' so a CSV column is never missing. */
export function runKey(run: RunRecord): RunKey {
  return {
    plan: run.plan,
    cell: run.cell,
    application: run.application,
    variant: run.variant ?? '',
    model: run.model ?? '',
    repetition: run.repetition,
  };
}

/** Where a step run sits, repeated on its rows. */
export function stepKey(step: StepResult): { step: string; stepRun: string; agent: string } {
  return { step: step.step, stepRun: step.name, agent: step.agent };
}

/**
 * Every finished attempt of a step run, oldest first. Documents from before `history` existed kept
 * only the failures and the step's status: the last attempt then ends as the step did.
 */
export function attemptsOf(step: StepResult): AttemptHistoryRecord[] {
  if (step.metadata.history) return [...step.metadata.history].sort((a, b) => a.attempt - b.attempt);
  const failed = step.metadata.failures.map(
    (f): AttemptHistoryRecord => ({
      attempt: f.attempt,
      outcome: 'Failed',
      phase: f.phase,
      reason: f.reason,
      ...(f.message !== undefined ? { message: f.message } : {}),
      seconds: f.seconds,
      tokens: f.tokens,
      model_calls: 0,
      stages: {},
    }),
  );
  if (step.status === 'Succeeded' && step.attempts > 0 && !failed.some((f) => f.attempt === step.attempts))
    failed.push({
      attempt: step.attempts,
      outcome: 'Succeeded',
      phase: 'Succeeded',
      reason: 'Succeeded',
      seconds: 0,
      tokens: 0,
      model_calls: 0,
      stages: {},
    });
  return failed.sort((a, b) => a.attempt - b.attempt);
}

/** The stored assets of a step run, by attempt. */
export function assetsOf(step: StepResult): Map<number, IncrementalAsset> {
  return new Map((step.metadata.assets.attempts ?? []).map((a) => [a.attempt, a]));
}

export interface StepUsage {
  calls: number;
  promptTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/**
 * A step run's model usage. The step's own status counts every call (the figures survive attempt
 * ConfigMaps that retention deleted); a document without it falls back to the recorded calls.
 */
export function stepUsage(step: StepResult): StepUsage {
  const usage = step.metadata.usage;
  if (typeof usage['totalTokens'] === 'number')
    return {
      calls: usage['modelCalls'] ?? step.metadata.ask_gemini.length,
      promptTokens: usage['promptTokens'] ?? 0,
      outputTokens: usage['outputTokens'] ?? 0,
      totalTokens: usage['totalTokens'],
    };
  return callUsage(step);
}

export function callUsage(step: StepResult): StepUsage {
  const total: StepUsage = { calls: 0, promptTokens: 0, outputTokens: 0, totalTokens: 0 };
  for (const call of step.metadata.ask_gemini) {
    total.calls += 1;
    total.promptTokens += call.prompt_token_count;
    total.outputTokens += call.candidates_token_count;
    total.totalTokens += call.total_token_count;
  }
  return total;
}

/**
 * The plan manager's own usage. The plan's status counts only the manager's calls
 * (src/plan/reconcile.ts adds nothing else to it), so a run's figures add it to its steps'.
 */
export function managerUsage(run: RunRecord): StepUsage {
  const usage = run.results.usage ?? {};
  return {
    calls: usage['modelCalls'] ?? 0,
    promptTokens: usage['promptTokens'] ?? 0,
    outputTokens: usage['outputTokens'] ?? 0,
    totalTokens: usage['totalTokens'] ?? 0,
  };
}

/** Everything a run spent on models: its steps' calls and the manager's. */
export function runUsage(run: RunRecord): StepUsage {
  const total = managerUsage(run);
  for (const step of run.results.steps) {
    const u = stepUsage(step);
    total.calls += u.calls;
    total.promptTokens += u.promptTokens;
    total.outputTokens += u.outputTokens;
    total.totalTokens += u.totalTokens;
  }
  return total;
}

/** Whether a step's artifacts are Dockerfiles (the build agent writes them; every other agent YAML or scripts). */
export function isDockerfileStep(step: StepResult): boolean {
  return step.agent === 'build';
}
