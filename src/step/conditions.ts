// Condition types and reasons, a closed set (as Tekton keeps its reasons), and the helper that sets
// a condition the Kubernetes way: lastTransitionTime moves only when the status changes.
import type { Condition } from '../api/common.ts';

export const CONDITION = {
  /** The step's summary, like Tekton's Succeeded: Unknown while it works, True or False at the end. */
  succeeded: 'Succeeded',
  /** True once the step's result is available to others. */
  ready: 'Ready',
} as const;

export const REASON = {
  // Progress
  Pending: 'Pending',
  Generating: 'Generating',
  Building: 'Building',
  Deploying: 'Deploying',
  Running: 'Running',
  Validating: 'Validating',
  Diagnosing: 'Diagnosing',
  AwaitingHuman: 'AwaitingHuman',
  Retrying: 'Retrying',
  WaitingForModel: 'WaitingForModel',
  // Success
  Succeeded: 'Succeeded',
  CacheHit: 'CacheHit',
  // Failure of an attempt or of the step
  InvalidContext: 'InvalidContext',
  InvalidArtifact: 'InvalidArtifact',
  PolicyRefused: 'PolicyRefused',
  BuildFailed: 'BuildFailed',
  RunFailed: 'RunFailed',
  ValidationFailed: 'ValidationFailed',
  Timeout: 'Timeout',
  ImagePullFailed: 'ImagePullFailed',
  Unschedulable: 'Unschedulable',
  CrashLoop: 'CrashLoop',
  OOMKilled: 'OOMKilled',
  ContainerConfigError: 'ContainerConfigError',
  /** The namespace's Pod Security admission refused the run's pods (the Job exists, its pods do not). */
  PodSecurityRefused: 'PodSecurityRefused',
  AttemptsExhausted: 'AttemptsExhausted',
  ReturnedToManager: 'ReturnedToManager',
  ModelUnavailable: 'ModelUnavailable',
  MiniClusterUnavailable: 'MiniClusterUnavailable',
  BuilderUnavailable: 'BuilderUnavailable',
} as const;
export type Reason = (typeof REASON)[keyof typeof REASON];

/**
 * Why a step may fail that no model can fix by generating something else: configuration (an
 * invalid context, no registry), infrastructure (an unpullable builder image, no Flux Operator) or
 * the model itself (unavailable after its retries, a missing key Secret). A plan stops on these at
 * once, with the step's reason, instead of asking the manager to recover.
 */
export const UNFIXABLE_BY_MODEL: ReadonlySet<string> = new Set<Reason>([
  REASON.InvalidContext,
  REASON.BuilderUnavailable,
  REASON.MiniClusterUnavailable,
  REASON.ModelUnavailable,
]);

/** Text cut to the CRD's maxLength for its field, so that a long error never makes a status unwritable. */
export const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** Returns the conditions with `next` set; the transition time is kept when the status is unchanged. */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === next.type);
  const previous = index >= 0 ? list[index] : undefined;
  const lastTransitionTime =
    previous && previous.status === next.status
      ? previous.lastTransitionTime
      : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const condition: Condition = { ...next, lastTransitionTime };
  if (index >= 0) list[index] = condition;
  else list.push(condition);
  return list;
}

interface SucceededStatus {
  reason?: string | undefined;
  message?: string | undefined;
  conditions?: Condition[] | undefined;
}

/**
 * Sets a plan's or an experiment's reason, message and its Succeeded condition: Unknown while it
 * works, True or False once it ended (as Tekton's runs report theirs).
 */
export function setSucceeded(
  status: SucceededStatus,
  value: Condition['status'],
  reason: string,
  message: string,
  generation: number,
  now: Date,
): void {
  status.reason = reason;
  status.message = message;
  status.conditions = setCondition(
    status.conditions,
    { type: 'Succeeded', status: value, reason, message, observedGeneration: generation },
    now,
  );
}

/** The status's message and its conditions' messages cut to the CRD's bounds before a write. */
export function clipMessages(status: SucceededStatus, max = 4096): void {
  if (status.message !== undefined) status.message = clip(status.message, max);
  status.conditions = status.conditions?.map((c) =>
    c.message !== undefined ? { ...c, message: clip(c.message, max) } : c,
  );
  if (status.conditions === undefined) delete status.conditions;
}
