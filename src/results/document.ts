// The results document of a plan, in the seed's layout (`fractale agent --plan ... --results DIR`):
// { steps: [{agent, total_seconds, result, attempts, metadata}], manager: {times, recovery}, status },
// with what a researcher asks of it: attempts per step, reasons for failure, tokens and seconds per
// model call, and (incremental) every attempt's artifacts with how much each one changed.
import { createTwoFilesPatch, diffLines } from 'diff';
import type { AgentPlan } from '../api/agentplan.ts';
import type { AgentStep, OptimizationStatus, OptimizationTrial } from '../api/agentstep.ts';
import { withoutAttemptNames } from '../kube/names.ts';

export interface ModelCallRecord {
  agent: string;
  attempt: number;
  prompt_token_count: number;
  candidates_token_count: number;
  total_token_count: number;
  time_seconds: number;
  /** The provider and model that answered (absent in documents from before they were recorded). */
  provider?: string;
  model?: string;
}

/** What one attempt left in its ConfigMap. */
export interface AttemptRecord {
  attempt: number;
  artifact?: string;
  log?: string;
  diagnostics?: string;
  calls: ModelCallRecord[];
}

/** One attempt as the step's history has it, with its time per stage (all attempts, not only failures). */
export interface AttemptHistoryRecord {
  attempt: number;
  outcome: 'Succeeded' | 'Failed';
  /** The last phase the attempt reached. */
  phase: string;
  reason: string;
  message?: string;
  start_time?: string;
  seconds: number;
  tokens: number;
  model_calls: number;
  /** Seconds in each phase (Generating, Building, Deploying, Running, Validating, Diagnosing, AwaitingHuman). */
  stages: Record<string, number>;
}

export interface StepResult {
  agent: string;
  step: string;
  name: string;
  status: string;
  total_seconds: number;
  result: string | null;
  attempts: number;
  metadata: {
    times: Record<string, number>;
    assets: { attempts?: IncrementalAsset[] };
    failures: {
      attempt: number;
      phase: string;
      reason: string;
      message?: string;
      seconds: number;
      tokens: number;
    }[];
    counts: { retries: number; return_to_manager: number; return_to_human: number };
    /** Every finished attempt, oldest first (fractale's addition to the seed's layout). */
    history?: AttemptHistoryRecord[];
    /** An optimize step's trajectory: every trial, with the diff of its manifest from the one it changed. */
    optimization?: OptimizationResult;
    ask_gemini: ModelCallRecord[];
    usage: Record<string, number>;
  };
}

export interface OptimizationResult extends Omit<OptimizationStatus, 'trials'> {
  trials: (OptimizationTrial & { diff?: string })[];
}

/** The most of a trial's diff a results document keeps. */
const MAX_TRIAL_DIFF = 4096;

/** Each trial with the unified diff of its manifest from the best it started from (the gradient of change). */
export function optimizationResult(
  optimization: OptimizationStatus,
  records: readonly AttemptRecord[],
  stepName: string,
): OptimizationResult {
  const artifact = (attempt: number | undefined) =>
    attempt === undefined ? undefined : records.find((r) => r.attempt === attempt)?.artifact;
  const trials = optimization.trials.map((trial) => {
    const before = artifact(trial.from);
    const after = artifact(trial.attempt);
    if (before === undefined || after === undefined) return { ...trial };
    const strip = (text: string, attempt: number) =>
      withoutAttemptNames(text.replace(/^# fractale-trial .*\n/gm, ''), stepName, attempt);
    const patch = createTwoFilesPatch(
      `attempt-${trial.from}`,
      `attempt-${trial.attempt}`,
      strip(before, trial.from!),
      strip(after, trial.attempt),
      undefined,
      undefined,
      { context: 1 },
    );
    // The patch opens with a line of '='; the ---/+++ headers name the attempts.
    const diff = patch.split('\n').slice(1).join('\n');
    return {
      ...trial,
      diff: diff.length > MAX_TRIAL_DIFF ? `${diff.slice(0, MAX_TRIAL_DIFF)}\n… (diff cut)` : diff,
    };
  });
  return { ...optimization, trials };
}

export interface IncrementalAsset {
  attempt: number;
  artifact?: string;
  log?: string;
  diagnostics?: string;
  /** Lines added plus lines removed since the previous attempt's artifact. */
  changed_lines?: number;
}

export interface ResultsDocument {
  plan: string;
  namespace: string;
  status: string;
  message?: string;
  steps: StepResult[];
  manager: {
    times: Record<string, number>;
    attempts: number;
    recovery: Record<string, { agent_name: string; task_description: string }[]>;
    recoveries: NonNullable<NonNullable<AgentPlan['status']>['recoveries']>;
  };
  usage?: Record<string, number>;
  created: string;
  truncated?: boolean;
}

/** Lines added plus removed between two texts. */
export function changedLines(before: string, after: string): number {
  return diffLines(before, after).reduce(
    (n, part) => n + (part.added || part.removed ? (part.count ?? 0) : 0),
    0,
  );
}

export function buildResults(
  plan: AgentPlan,
  steps: readonly AgentStep[],
  attempts: ReadonlyMap<string, readonly AttemptRecord[]>,
  now: Date,
): ResultsDocument {
  const incremental = plan.spec.results?.incremental ?? false;
  // In the order they ran: each manager attempt's runs, in plan order.
  const ordered = [...steps].sort(
    (a, b) =>
      (a.spec.planRef?.managerAttempt ?? 0) - (b.spec.planRef?.managerAttempt ?? 0) ||
      (a.spec.planRef?.index ?? 0) - (b.spec.planRef?.index ?? 0),
  );
  const stepResults = ordered.map((step): StepResult => {
    const status = step.status ?? {};
    const records = [...(attempts.get(step.metadata.name ?? '') ?? [])].sort((a, b) => a.attempt - b.attempt);
    const history = status.history ?? [];
    const failures = history
      .filter((h) => h.outcome === 'Failed')
      .map((h) => ({
        attempt: h.attempt,
        phase: h.phase,
        reason: h.reason,
        ...(h.message ? { message: h.message } : {}),
        seconds: h.seconds,
        tokens: h.tokens ?? 0,
      }));
    const times: Record<string, number> = {};
    for (const h of history) times[`attempt_${h.attempt}_seconds`] = h.seconds;
    if (status.usage) {
      times['model_seconds'] = status.usage.modelSeconds;
      times['total_seconds'] = status.usage.seconds;
    }
    let previous: string | undefined;
    const assets = incremental
      ? records.map((r): IncrementalAsset => {
          const asset: IncrementalAsset = { attempt: r.attempt };
          if (r.artifact !== undefined) asset.artifact = r.artifact;
          if (r.log) asset.log = r.log;
          if (r.diagnostics) asset.diagnostics = r.diagnostics;
          if (r.artifact !== undefined && previous !== undefined)
            asset.changed_lines = changedLines(previous, r.artifact);
          if (r.artifact !== undefined) previous = r.artifact;
          return asset;
        })
      : undefined;
    return {
      agent: step.spec.agent,
      step: step.spec.planRef?.step ?? step.metadata.name ?? '',
      name: step.metadata.name ?? '',
      status: status.phase ?? 'Pending',
      total_seconds: status.usage?.seconds ?? 0,
      result: status.result ?? null,
      attempts: status.attempt ?? 0,
      metadata: {
        times,
        assets: assets ? { attempts: assets } : {},
        failures,
        counts: {
          retries: Math.max(0, (status.attempt ?? 1) - 1),
          return_to_manager: history.filter((h) => h.reason === 'ReturnedToManager').length,
          // Attempts that ended with a question to a person (older steps: a pending question).
          return_to_human:
            history.filter((h) => h.askedHuman || h.phase === 'AwaitingHuman').length ||
            (status.question ? 1 : 0),
        },
        history: history.map(
          (h): AttemptHistoryRecord => ({
            attempt: h.attempt,
            outcome: h.outcome,
            phase: h.phase,
            reason: h.reason,
            ...(h.message ? { message: h.message } : {}),
            ...(h.startTime ? { start_time: h.startTime } : {}),
            seconds: h.seconds,
            tokens: h.tokens ?? 0,
            model_calls: h.modelCalls ?? 0,
            stages: { ...(h.stages ?? {}) },
          }),
        ),
        ...(status.optimization
          ? { optimization: optimizationResult(status.optimization, records, step.metadata.name ?? '') }
          : {}),
        ask_gemini: records.flatMap((r) => r.calls),
        usage: { ...(status.usage ?? {}) },
      },
    };
  });
  const planStatus = plan.status ?? {};
  const recovery: ResultsDocument['manager']['recovery'] = {};
  for (const r of planStatus.recoveries ?? []) {
    const agent = plan.spec.steps.find((s) => s.name === r.failedStep)?.agent ?? r.failedStep;
    const list = recovery[agent] ?? [];
    list.push({ agent_name: r.restartStep, task_description: r.taskDescription ?? '' });
    recovery[agent] = list;
  }
  const managerTimes: Record<string, number> = {};
  if (planStatus.usage) {
    managerTimes['model_seconds'] = planStatus.usage.modelSeconds;
    managerTimes['total_seconds'] = planStatus.usage.seconds;
  }
  return {
    plan: plan.metadata.name ?? '',
    namespace: plan.metadata.namespace ?? '',
    status: planStatus.phase ?? 'Pending',
    ...(planStatus.message ? { message: planStatus.message } : {}),
    steps: stepResults,
    manager: {
      times: managerTimes,
      attempts: planStatus.attempts ?? 0,
      recovery,
      recoveries: planStatus.recoveries ?? [],
    },
    ...(planStatus.usage ? { usage: { ...planStatus.usage } } : {}),
    created: now.toISOString(),
  };
}

/** The seed's file name for a results document: results-<YYYY-MM-DD_HH-MM-SS>.json. */
export function resultsFileName(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `results-${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}_${pad(date.getUTCHours())}-${pad(date.getUTCMinutes())}-${pad(date.getUTCSeconds())}.json`;
}
