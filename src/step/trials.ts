// Trying an artifact on the cluster and reading the outcome: a Kaniko build or a run Job (read from
// the informer caches), or a MiniCluster (through the indexed Job of the same name). A fatal pod state
// ends the attempt at once instead of waiting for a timeout; a failure comes with a compact
// diagnostics bundle (Job and pod status, their events, the filtered log tail) for the debug agent.

import type { StepPhase } from '../api/agentstep.ts';
import { ApiError, type KubeClient, type KubeObject } from '../kube/client.ts';
import {
  classifyJob,
  classifyPod,
  diagnosticsBundle,
  type EventLike,
  type JobLike,
  type PodLike,
} from '../kube/diagnostics.ts';
import { filterLog, rootCause } from '../kube/logfilter.ts';
import { redactSecrets } from '../kube/redact.ts';
import { RESOURCES, type Resource } from '../kube/resources.ts';
import type { Cache } from '../runtime/informer.ts';
import { REASON } from './conditions.ts';
import type { TrialKind } from './driver.ts';

/** How long a pod may stay unschedulable before the attempt ends (nodes may be scaling up). */
export const UNSCHEDULABLE_GRACE_MS = 60_000;
/** Slack past maxRuntime before the operator ends a run the Job's own deadline did not end. */
export const DEADLINE_SLACK_MS = 30_000;
/** How long a finished Job's pods are waited for in the cache before it is read without them. */
export const POD_CACHE_GRACE_MS = 10_000;
/** How old a Job with no pods must be before its events are searched for a Pod Security refusal. */
export const POD_REFUSAL_CHECK_MS = 2_000;
/** The most of a successful run's log kept as its result. */
export const RESULT_LOG_BYTES = 16_000;

export interface TrialWorld {
  client: KubeClient;
  jobs: Cache;
  pods: Cache;
  /** The cached pods of a Job (by its job-name label). */
  podsOfJob(namespace: string, job: string): KubeObject[];
  miniClusters?: Cache;
  miniClusterInstalled(): Promise<boolean>;
}

export type TrialObservation =
  | { state: 'pending' | 'running'; message: string; recheckAfterMs?: number }
  | { state: 'succeeded'; log: string }
  | {
      state: 'failed';
      reason: string;
      summary: string;
      diagnostics: string;
      log: string;
      /** The Job has not finished (a fatal pod state ended the attempt first): it should be stopped. */
      jobActive: boolean;
      /** What to fix, when no attempt can fix it (with reason BuilderUnavailable). */
      hint?: string;
    };

export interface TrialQuery {
  trial: TrialKind;
  namespace: string;
  name: string;
  startedAt: number;
  now: number;
  maxRuntimeSeconds: number;
  logBudgetTokens: number;
}

/** The phase a step shows while its trial is starting, waiting for pods, or running. */
export function trialPhase(trial: TrialKind, state: 'start' | 'pending' | 'running'): StepPhase {
  if (trial === 'build') return 'Building';
  if (trial === 'inline' || trial === 'validator') return 'Validating';
  return state === 'running' ? 'Running' : 'Deploying';
}

const FATAL_TO_REASON: Record<string, string> = {
  ImagePullBackOff: REASON.ImagePullFailed,
  ErrImagePull: REASON.ImagePullFailed,
  ErrImageNeverPull: REASON.ImagePullFailed,
  InvalidImageName: REASON.ImagePullFailed,
  CrashLoopBackOff: REASON.CrashLoop,
  CreateContainerConfigError: REASON.ContainerConfigError,
  OOMKilled: REASON.OOMKilled,
  Unschedulable: REASON.Unschedulable,
};

/** True when the trial's object exists in the caches (or, for MiniClusters, the API). */
export function cachedObject(
  world: TrialWorld,
  resource: Resource,
  namespace: string,
  name: string,
): boolean {
  const cache =
    resource === RESOURCES.jobs
      ? world.jobs
      : resource === RESOURCES.miniClusters
        ? world.miniClusters
        : undefined;
  return cache ? cache.get(namespace, name) !== undefined : false;
}

export async function observeTrial(world: TrialWorld, q: TrialQuery): Promise<TrialObservation> {
  const { namespace, name } = q;
  const viaApi = q.trial === 'minicluster';
  const job = (
    viaApi ? await world.client.find(RESOURCES.jobs, namespace, name) : world.jobs.get(namespace, name)
  ) as (KubeObject & JobLike) | undefined;
  const pods = (
    viaApi
      ? (await world.client.list(RESOURCES.pods, namespace, { labelSelector: `job-name=${name}` })).items
      : world.podsOfJob(namespace, name)
  ) as (KubeObject & PodLike)[];
  const what = q.trial === 'build' ? 'build' : q.trial === 'validator' ? 'validation' : 'run';
  if (!job) {
    return {
      state: 'pending',
      message: viaApi
        ? 'Waiting for the Flux Operator to start the MiniCluster'
        : `Waiting for the ${what} Job`,
      ...(viaApi ? { recheckAfterMs: 2000 } : {}),
    };
  }
  const outcome = classifyJob(job);
  if ((outcome.state === 'Complete' || outcome.state === 'Failed') && pods.length === 0) {
    // The pods' cache can lag the Jobs' (a watch cut and listed again): the pod holds the log that
    // is the result or the diagnosis, so it is waited for a while before the Job is read without it.
    const endedAt = jobEndedAt(job);
    if (Number.isFinite(endedAt) && q.now - endedAt < POD_CACHE_GRACE_MS) {
      return {
        state: 'running',
        message: `The ${what}'s Job finished; reading its pod`,
        recheckAfterMs: 1000,
      };
    }
  }
  const completions =
    q.trial === 'job' ? ((job as { spec?: { completions?: number } }).spec?.completions ?? 1) : 1;
  if (outcome.state === 'Complete' && completions > 1) {
    // A Job of several runs (the optimize agent's repetitions): every run's log, in index order.
    const runs = pods
      .filter((p) => p.status?.phase === 'Succeeded')
      .sort((a, b) => completionIndex(a) - completionIndex(b));
    if (runs.length < completions && q.now - jobEndedAt(job) < POD_CACHE_GRACE_MS)
      return {
        state: 'running',
        message: `The ${what}'s Job finished; reading its pods`,
        recheckAfterMs: 1000,
      };
    const share = Math.max(2_000, Math.floor(RESULT_LOG_BYTES / completions));
    const logs: string[] = [];
    for (const pod of runs) {
      const log = await podLog(world.client, pod, share * 4);
      logs.push(
        `${REPETITION_MARK} ${completionIndex(pod) + 1} (pod ${pod.metadata.name}) =====\n${log.length > share ? log.slice(-share) : log}`,
      );
    }
    return { state: 'succeeded', log: logs.join('\n') };
  }
  if (outcome.state === 'Complete') {
    const pod = leadPod(pods, 'Succeeded');
    const log = pod ? await podLog(world.client, pod, RESULT_LOG_BYTES * 4) : '';
    return { state: 'succeeded', log: log.length > RESULT_LOG_BYTES ? log.slice(-RESULT_LOG_BYTES) : log };
  }
  let failure: { reason: string; summary: string } | undefined;
  if (outcome.state === 'Failed') {
    failure = outcome.timeout
      ? { reason: REASON.Timeout, summary: outcome.message }
      : { reason: failedReason(q.trial), summary: outcome.message };
  }
  let recheckAfterMs: number | undefined;
  if (!failure) {
    for (const pod of pods) {
      const fatal = classifyPod(pod, q.now, UNSCHEDULABLE_GRACE_MS);
      if (fatal) {
        let reason = FATAL_TO_REASON[fatal.reason] ?? REASON.RunFailed;
        // The builder's own image is the operator's setting, not the model's Dockerfile: no attempt can fix it.
        if (q.trial === 'build' && reason === REASON.ImagePullFailed) reason = REASON.BuilderUnavailable;
        failure = { reason, summary: `pod ${pod.metadata.name}: ${fatal.message}` };
        break;
      }
      const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
      if (scheduled?.status === 'False') recheckAfterMs = UNSCHEDULABLE_GRACE_MS;
    }
  }
  let hint: string | undefined;
  // A Job whose pods admission refuses stays active with none, retrying, until its deadline. Its
  // events are read once the Job is a little older than a pod takes to appear, not on every pass:
  // under load that was a list of events for every Job created.
  const jobAgeMs = q.now - Date.parse(String(job.metadata.creationTimestamp ?? ''));
  const lookForRefusal = !(jobAgeMs < POD_REFUSAL_CHECK_MS);
  if (!failure && pods.length === 0 && !lookForRefusal)
    recheckAfterMs = Math.min(recheckAfterMs ?? POD_REFUSAL_CHECK_MS, POD_REFUSAL_CHECK_MS - jobAgeMs + 100);
  if (!failure && pods.length === 0 && lookForRefusal) {
    const refusal = await podSecurityRefusal(world.client, namespace, name);
    if (refusal && q.trial === 'build') {
      failure = { reason: REASON.BuilderUnavailable, summary: `the Kaniko pod was refused: ${refusal}` };
      hint = KANIKO_NEEDS_BASELINE;
    } else if (refusal) {
      failure = { reason: REASON.PodSecurityRefused, summary: `the ${what}'s pods were refused: ${refusal}` };
    }
  }
  const deadline = q.startedAt + q.maxRuntimeSeconds * 1000 + DEADLINE_SLACK_MS;
  if (!failure && q.trial !== 'build' && q.now > deadline) {
    failure = {
      reason: REASON.Timeout,
      summary: `the run exceeded its time limit of ${q.maxRuntimeSeconds} seconds`,
    };
  }
  if (!failure) {
    // A pod that has finished has started: until the Job controller marks the Job complete, the
    // trial is still running (the phase must not go back to "waiting for the pod to start").
    const running = pods.some((p) => p.status?.phase === 'Running');
    const finished =
      !running && pods.some((p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed');
    const untilDeadline = Math.max(1000, deadline - q.now);
    return {
      state: running || finished ? 'running' : 'pending',
      message: running
        ? `The ${what} is running`
        : finished
          ? `The ${what}'s pod finished; waiting for its Job to complete`
          : `Waiting for the ${what}'s pod to start`,
      recheckAfterMs: Math.min(recheckAfterMs ?? untilDeadline, untilDeadline),
    };
  }
  // Diagnostics: the failed (or first) pod's log, and the events of the Job, its pods and the MiniCluster.
  const pod = leadPod(pods, 'Failed');
  const rawLog = pod ? await podLog(world.client, pod, 512 * 1024) : '';
  const events: EventLike[] = [];
  const objects = [name, ...pods.slice(0, 4).map((p) => p.metadata.name!)];
  for (const object of objects) {
    const list = await world.client.list(RESOURCES.events, namespace, {
      fieldSelector: `involvedObject.name=${object}`,
    });
    events.push(...(list.items as EventLike[]));
  }
  // "BackoffLimitExceeded" says little; the log's best-ranked root cause says what went wrong (not
  // the consequences after it, such as Kaniko's "error building image", nor a configure NOTE).
  const errorLine = rootCause(rawLog);
  if (errorLine && failure.reason === failedReason(q.trial)) {
    failure.summary = `the ${what} failed: ${errorLine.slice(0, 400)}`;
  }
  const diagnostics = diagnosticsBundle({
    job,
    pods,
    events,
    log: rawLog,
    logBudgetTokens: q.logBudgetTokens,
    ...(viaApi ? { related: [{ kind: 'MiniCluster', name }] } : {}),
  });
  return {
    state: 'failed',
    reason: failure.reason,
    // Job conditions and pod states quote what the pod said too.
    summary: redactSecrets(failure.summary),
    diagnostics: `${redactSecrets(failure.summary)}\n\n${diagnostics}`,
    log: filterLog(rawLog, { budgetTokens: q.logBudgetTokens }),
    jobActive: outcome.state === 'Running',
    ...(hint ? { hint } : {}),
  };
}

/** Starts each run's log in the log of a Job of several runs: `===== fractale: repetition 2 (pod x) =====`. */
export const REPETITION_MARK = '===== fractale: repetition';

/** A log of several runs, split by REPETITION_MARK (a log without marks is one run). */
export function splitRepetitions(log: string): string[] {
  if (!log.includes(REPETITION_MARK)) return [log];
  return log
    .split(REPETITION_MARK)
    .slice(1)
    .map((part) => part.slice(part.indexOf('\n') + 1));
}

const completionIndex = (pod: KubeObject) =>
  Number(pod.metadata.labels?.['batch.kubernetes.io/job-completion-index'] ?? 0);

function jobEndedAt(job: JobLike): number {
  const ended = (job.status?.conditions ?? []).find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  )?.lastTransitionTime;
  return ended ? Date.parse(String(ended)) : Number.NaN;
}

/** What a build refused by Pod Security needs: Kaniko unpacks images and runs RUN steps as root. */
export const KANIKO_NEEDS_BASELINE =
  'Kaniko runs as root with the default capabilities, which Pod Security "baseline" allows and "restricted" does not: run builds in a namespace labelled pod-security.kubernetes.io/enforce=baseline (or privileged)';

/**
 * Pod Security admission's refusal of a Job's pods, from the Job controller's FailedCreate events
 * (`Error creating: pods "x" is forbidden: violates PodSecurity "restricted:latest": ...`): the part
 * from "violates", or undefined.
 */
async function podSecurityRefusal(
  client: KubeClient,
  namespace: string,
  job: string,
): Promise<string | undefined> {
  const events = await client.list(RESOURCES.events, namespace, {
    fieldSelector: `involvedObject.name=${job}`,
  });
  for (const event of events.items as EventLike[]) {
    const message = event.message ?? event.note ?? '';
    const at = message.indexOf('violates PodSecurity');
    if (event.reason === 'FailedCreate' && at >= 0) return message.slice(at);
  }
  return undefined;
}

function failedReason(trial: TrialKind): string {
  if (trial === 'build') return REASON.BuildFailed;
  return trial === 'validator' ? REASON.ValidationFailed : REASON.RunFailed;
}

/** The pod whose log tells the story: the lead broker (index 0) of an indexed Job, else one in `phase`. */
function leadPod(pods: (KubeObject & PodLike)[], phase: string): (KubeObject & PodLike) | undefined {
  return (
    pods.find((p) => p.metadata.labels?.['batch.kubernetes.io/job-completion-index'] === '0') ??
    pods.find((p) => p.status?.phase === phase) ??
    pods[0]
  );
}

/**
 * A pod's log, secrets redacted: everything the operator keeps or tells the model about a trial (the
 * result, the root cause, the filtered tail, the diagnostics) is read from here.
 */
export async function podLog(
  client: KubeClient,
  pod: KubeObject & PodLike,
  limitBytes: number,
): Promise<string> {
  const container = (pod as { spec?: { containers?: { name: string }[] } }).spec?.containers?.[0]?.name;
  for (let attempt = 1; ; attempt++) {
    try {
      const log = await client.logs(pod.metadata.namespace!, pod.metadata.name!, {
        ...(container ? { container } : {}),
        limitBytes,
      });
      return redactSecrets(log);
    } catch (error) {
      // A busy or restarting API server (429, 5xx, a dropped connection) is asked again: a diagnosis
      // without the log sends the model off blind, and costs an attempt that the log would have saved.
      const transient = !(error instanceof ApiError) || error.code === 429 || error.code >= 500;
      if (transient && attempt < LOG_READ_TRIES) {
        await new Promise((resolve) => setTimeout(resolve, LOG_RETRY_MS * attempt));
        continue;
      }
      // A container that never started has no log (400), a pod gone has none (404); its state in the
      // bundle says why.
      return `(no log: ${(error as Error).message})`;
    }
  }
}

/** Reads of a pod's log before the attempt is diagnosed without it, and the wait between them. */
const LOG_READ_TRIES = 5;
const LOG_RETRY_MS = 500;
