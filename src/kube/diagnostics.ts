// What a failed run looks like to the model: the Job's status, its pods' states, their events and the
// log tail, filtered and rendered as compact text. Plus the two decisions a run watcher needs: is a
// pod beyond saving (so the attempt can end early), and has the Job finished.
// Inputs are plain objects, typed structurally so that both client-node models (Date times) and parsed
// JSON (string times) fit.
import { DEFAULT_LOG_BUDGET_TOKENS, filterLog } from './logfilter.ts';
import { redactSecrets } from './redact.ts';

type Time = string | Date | null | undefined;

export interface ConditionLike {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: Time;
}

export interface JobLike {
  metadata?: { name?: string };
  spec?: { activeDeadlineSeconds?: number; backoffLimit?: number };
  status?: {
    active?: number;
    ready?: number;
    succeeded?: number;
    failed?: number;
    startTime?: Time;
    completionTime?: Time;
    conditions?: ConditionLike[];
  };
}

export interface ContainerStateLike {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: Time };
  terminated?: { reason?: string; message?: string; exitCode: number; signal?: number };
}

export interface ContainerStatusLike {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: ContainerStateLike;
  lastState?: ContainerStateLike;
}

export interface PodLike {
  metadata?: { name?: string; creationTimestamp?: Time };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: ConditionLike[];
    initContainerStatuses?: ContainerStatusLike[];
    containerStatuses?: ContainerStatusLike[];
  };
}

interface ObjectRef {
  kind?: string;
  name?: string;
}

/** A core/v1 Event or an events.k8s.io/v1 Event. */
export interface EventLike {
  type?: string;
  reason?: string;
  message?: string;
  note?: string;
  count?: number;
  deprecatedCount?: number;
  involvedObject?: ObjectRef;
  regarding?: ObjectRef;
  firstTimestamp?: Time;
  lastTimestamp?: Time;
  eventTime?: Time;
  deprecatedLastTimestamp?: Time;
  series?: { count?: number; lastObservedTime?: Time };
  metadata?: { creationTimestamp?: Time };
}

const millis = (time: Time): number | undefined => {
  if (time === null || time === undefined || time === '') return undefined;
  const ms = time instanceof Date ? time.getTime() : Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
};

const clock = (ms: number | undefined) =>
  ms === undefined ? '--:--:--' : new Date(ms).toISOString().slice(11, 19);

// ---------------------------------------------------------------------------------------------------
// Decisions

/** Pod states that no amount of waiting will fix: the attempt ends and is diagnosed at once. */
export const FATAL_WAITING_REASONS = [
  'ImagePullBackOff',
  'ErrImagePull',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
] as const;
export type FatalPodReason = (typeof FATAL_WAITING_REASONS)[number] | 'OOMKilled' | 'Unschedulable';

export interface PodFatal {
  reason: FatalPodReason;
  message: string;
}

const statuses = (pod: PodLike) => [
  ...(pod.status?.initContainerStatuses ?? []),
  ...(pod.status?.containerStatuses ?? []),
];

/**
 * The reason a pod is beyond saving, or null. Unschedulable is only fatal after `graceMs` (a cluster
 * autoscaler may still add a node); the clock is passed in so tests and replays decide the same way.
 */
export function classifyPod(pod: PodLike, now: Date | number, graceMs: number): PodFatal | null {
  for (const status of statuses(pod)) {
    const waiting = status.state?.waiting;
    const reason = waiting?.reason as FatalPodReason | undefined;
    if (reason && (FATAL_WAITING_REASONS as readonly string[]).includes(reason)) {
      return {
        reason,
        message: `container ${status.name}: ${reason}${waiting?.message ? `: ${waiting.message}` : ''}`,
      };
    }
    for (const state of [status.state, status.lastState]) {
      if (state?.terminated?.reason === 'OOMKilled') {
        return {
          reason: 'OOMKilled',
          message: `container ${status.name} was killed for running out of memory (exit code ${state.terminated.exitCode})`,
        };
      }
    }
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const since = millis(scheduled.lastTransitionTime) ?? millis(pod.metadata?.creationTimestamp);
    const nowMs = typeof now === 'number' ? now : now.getTime();
    if (since !== undefined && nowMs - since >= graceMs) {
      return { reason: 'Unschedulable', message: scheduled.message ?? 'no node can run the pod' };
    }
  }
  return null;
}

export type JobOutcome =
  | { state: 'Running' }
  | { state: 'Complete' }
  | { state: 'Failed'; reason: string; message: string; timeout: boolean };

/**
 * Whether a Job has finished, from its conditions (FailureTarget and SuccessCriteriaMet come first on
 * Kubernetes 1.31+, before the terminal condition). DeadlineExceeded is reported as a timeout, so the
 * model is told to shrink the problem rather than to fix a crash.
 */
export function classifyJob(job: JobLike): JobOutcome {
  const conditions = (job.status?.conditions ?? []).filter((c) => c.status === 'True');
  const failed =
    conditions.find((c) => c.type === 'Failed') ?? conditions.find((c) => c.type === 'FailureTarget');
  if (failed) {
    const reason = failed.reason ?? 'Failed';
    const timeout = reason === 'DeadlineExceeded';
    const limit = job.spec?.activeDeadlineSeconds;
    const message = timeout
      ? `the run exceeded its time limit${limit ? ` of ${limit} seconds` : ''}: make the problem smaller or faster`
      : (failed.message ?? reason);
    return { state: 'Failed', reason, message, timeout };
  }
  if (conditions.some((c) => c.type === 'Complete' || c.type === 'SuccessCriteriaMet'))
    return { state: 'Complete' };
  return { state: 'Running' };
}

// ---------------------------------------------------------------------------------------------------
// The bundle

export interface DiagnosticsInput {
  job?: JobLike;
  pods?: readonly PodLike[];
  events?: readonly EventLike[];
  /** The run's log (all pods', or the failed pod's). */
  log?: string;
  /** Other objects whose events belong to the run (the MiniCluster of an indexed Job). */
  related?: readonly { kind: string; name: string }[];
  logBudgetTokens?: number;
  /** Most pods described; failed pods come first (default 4). */
  maxPods?: number;
}

const stateText = (state: ContainerStateLike | undefined): string | undefined => {
  if (state?.terminated) {
    const t = state.terminated;
    const signal = t.signal ? `, signal ${t.signal}` : '';
    const message = t.message ? `: ${t.message.trim().split('\n').slice(-3).join(' | ')}` : '';
    return `terminated ${t.reason ?? ''} (exit code ${t.exitCode}${signal})${message}`.replace('  ', ' ');
  }
  if (state?.waiting)
    return `waiting ${state.waiting.reason ?? ''}${state.waiting.message ? `: ${state.waiting.message}` : ''}`;
  if (state?.running) return 'running';
  return undefined;
};

export function describeJob(job: JobLike): string {
  const s = job.status ?? {};
  const lines = [
    `Job ${job.metadata?.name ?? '?'}: active ${s.active ?? 0}, succeeded ${s.succeeded ?? 0}, failed ${s.failed ?? 0}`,
  ];
  // FailureTarget and Failed (or SuccessCriteriaMet and Complete) usually say the same; say it once.
  const merged = new Map<string, string[]>();
  for (const c of s.conditions ?? []) {
    const tail = `${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}`;
    merged.set(tail, [...(merged.get(tail) ?? []), c.type]);
  }
  for (const [tail, types] of merged) lines.push(`  ${types.join(', ')}=${tail}`);
  return lines.join('\n');
}

export function describePod(pod: PodLike): string {
  const s = pod.status ?? {};
  const node = pod.spec?.nodeName ? ` on ${pod.spec.nodeName}` : '';
  const lines = [
    `Pod ${pod.metadata?.name ?? '?'}: ${s.phase ?? 'Unknown'}${s.reason ? ` (${s.reason})` : ''}${node}${s.message ? `: ${s.message}` : ''}`,
  ];
  // Healthy conditions say nothing; the ones that are not True say why the pod is stuck.
  for (const c of s.conditions ?? []) {
    if (c.status !== 'True' && (c.reason || c.message)) {
      lines.push(
        `  ${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}`,
      );
    }
  }
  const describe = (kind: string, list: ContainerStatusLike[] | undefined) => {
    for (const cs of list ?? []) {
      const restarts = cs.restartCount ? `, restarts ${cs.restartCount}` : '';
      lines.push(`  ${kind} ${cs.name}: ${stateText(cs.state) ?? 'unknown'}${restarts}`);
      const last = stateText(cs.lastState);
      if (last) lines.push(`    previously ${last}`);
    }
  };
  describe('init container', s.initContainerStatuses);
  describe('container', s.containerStatuses);
  return lines.join('\n');
}

const pick = (f: (a: number, b: number) => number, a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : f(a, b);

interface MergedEvent {
  type: string;
  reason: string;
  object: string;
  message: string;
  count: number;
  first?: number;
  last?: number;
}

/**
 * The events of the run's objects only, oldest first, with repeats merged into one line with a count
 * (a crash-looping pod emits the same BackOff event dozens of times).
 */
export function runEvents(
  events: readonly EventLike[],
  objects: readonly { kind: string; name: string }[],
): MergedEvent[] {
  const wanted = new Set(objects.map((o) => `${o.kind}/${o.name}`));
  const merged = new Map<string, MergedEvent>();
  for (const event of events) {
    const ref = event.involvedObject ?? event.regarding;
    const object = `${ref?.kind ?? ''}/${ref?.name ?? ''}`;
    if (!wanted.has(object)) continue;
    const message = (event.message ?? event.note ?? '').trim();
    const key = [event.type, event.reason, object, message].join('\u0000');
    const count = event.series?.count ?? event.count ?? event.deprecatedCount ?? 1;
    const first =
      millis(event.firstTimestamp) ?? millis(event.eventTime) ?? millis(event.metadata?.creationTimestamp);
    const last =
      millis(event.series?.lastObservedTime) ??
      millis(event.lastTimestamp) ??
      millis(event.deprecatedLastTimestamp) ??
      millis(event.eventTime) ??
      first;
    const existing = merged.get(key);
    if (existing) {
      existing.count += count;
      existing.first = pick(Math.min, existing.first, first);
      existing.last = pick(Math.max, existing.last, last);
    } else {
      merged.set(key, {
        type: event.type ?? 'Normal',
        reason: event.reason ?? '',
        object: `${(ref?.kind ?? '').toLowerCase()}/${ref?.name ?? ''}`,
        message,
        count,
        first,
        last,
      });
    }
  }
  return [...merged.values()].sort((a, b) => (a.last ?? 0) - (b.last ?? 0));
}

const eventLine = (e: MergedEvent) =>
  `  ${clock(e.last)} ${e.type} ${e.reason} ${e.object}${e.count > 1 ? ` (×${e.count} since ${clock(e.first)})` : ''}: ${e.message}`;

const podRank = (pod: PodLike) => {
  const phase = pod.status?.phase;
  return phase === 'Failed' ? 0 : phase === 'Pending' ? 1 : phase === 'Running' ? 2 : 3;
};

/**
 * The diagnostics of a failed run, as compact text for the debug agent: Job status, pod states (failed
 * pods first), the run's events, and the filtered log tail. Secrets are redacted (src/kube/redact.ts):
 * termination messages and events can quote a pod's output as much as its log does.
 */
export function diagnosticsBundle(input: DiagnosticsInput): string {
  return redactSecrets(bundle(input));
}

function bundle(input: DiagnosticsInput): string {
  const parts: string[] = [];
  if (input.job) parts.push(describeJob(input.job));
  const pods = [...(input.pods ?? [])].sort((a, b) => podRank(a) - podRank(b));
  const shown = pods.slice(0, input.maxPods ?? 4);
  for (const pod of shown) parts.push(describePod(pod));
  if (pods.length > shown.length) parts.push(`(${pods.length - shown.length} more pods not shown)`);

  const objects = [
    ...(input.job?.metadata?.name ? [{ kind: 'Job', name: input.job.metadata.name }] : []),
    ...pods.flatMap((p) => (p.metadata?.name ? [{ kind: 'Pod', name: p.metadata.name }] : [])),
    ...(input.related ?? []),
  ];
  const events = runEvents(input.events ?? [], objects);
  if (events.length > 0) parts.push(['Events (oldest first):', ...events.map(eventLine)].join('\n'));

  const log = input.log?.trim();
  if (log) {
    parts.push(
      `Log (filtered):\n${filterLog(log, { budgetTokens: input.logBudgetTokens ?? DEFAULT_LOG_BUDGET_TOKENS })}`,
    );
  } else {
    parts.push('Log: (empty)');
  }
  return parts.join('\n\n');
}
