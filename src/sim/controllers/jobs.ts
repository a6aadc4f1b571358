/**
 * The Job controller (batch/v1), after the one in kube-controller-manager 1.31+: creates pods from
 * the template (NonIndexed and Indexed), counts succeeded and failed pods, enforces backoffLimit
 * (pod failures, and container restarts for restartPolicy OnFailure) and activeDeadlineSeconds,
 * and reports status with the interim SuccessCriteriaMet/FailureTarget conditions before
 * Complete/Failed. Finished jobs with ttlSecondsAfterFinished are deleted when it runs out.
 */
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IPod } from 'kubernetes-models/v1/Pod';
import { type KubeObject, StatusError, type WatchEvent } from '../store.ts';
import { controllerOf, objectKey, type SimContext, splitKey, timestamp, WorkQueue } from './runtime.ts';

const source = { component: 'job-controller' };

export const jobLabels = {
  controllerUid: 'batch.kubernetes.io/controller-uid',
  jobName: 'batch.kubernetes.io/job-name',
  legacyControllerUid: 'controller-uid',
  legacyJobName: 'job-name',
  completionIndex: 'batch.kubernetes.io/job-completion-index',
} as const;

export const jobMessages = {
  backoffLimitExceeded: 'Job has reached the specified backoff limit',
  deadlineExceeded: 'Job was active longer than specified deadline',
  completionsReached: 'Reached expected number of succeeded pods',
} as const;

interface JobCondition {
  type: string;
  status: string;
  lastProbeTime: string;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

/** What the controller remembers about a job between syncs (a real one keeps it in expectations and status). */
interface JobMemory {
  counted: Set<string>;
  /** Pods that went away before they finished: counted as failed. */
  lostPods: Set<string>;
  deletedByController: Set<string>;
  lastFailureAt?: number;
  recentFailures: number;
  createFailures: number;
  /** Timers are the source of truth for elapsed time, so an injected clock that stands still still works. */
  deadlineReached?: boolean;
  backoffExpired?: boolean;
  cancelDeadline?: () => void;
  cancelRetry?: () => void;
  cancelTtl?: () => void;
}

function isTerminal(pod: IPod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function podIndex(pod: IPod): number | undefined {
  const value =
    pod.metadata?.annotations?.[jobLabels.completionIndex] ??
    pod.metadata?.labels?.[jobLabels.completionIndex];
  return value === undefined ? undefined : Number(value);
}

/** Formats indexes as the API does ("1,3-5,7"). */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}

export function parseIndexes(text: string | undefined): Set<number> {
  const indexes = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    if (part === '') continue;
    const [from, to] = part.split('-').map(Number);
    for (let index = from!; index <= (to ?? from!); index++) indexes.add(index);
  }
  return indexes;
}

export class JobController {
  readonly #ctx: SimContext;
  readonly #queue: WorkQueue;
  readonly #memory = new Map<string, JobMemory>();
  readonly #unwatch: (() => void)[] = [];

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
    this.#queue = new WorkQueue((key) => this.#sync(key));
  }

  start(): void {
    const { store } = this.#ctx;
    this.#unwatch.push(
      store.watch('batch/v1/jobs', (event) => this.#onJob(event), { resourceVersion: '0' }),
      store.watch('v1/pods', (event) => this.#onPod(event), { resourceVersion: '0' }),
    );
  }

  stop(): void {
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
    this.#queue.stop();
    for (const memory of this.#memory.values()) this.#forgetTimers(memory);
  }

  #forgetTimers(memory: JobMemory): void {
    memory.cancelDeadline?.();
    memory.cancelRetry?.();
    memory.cancelTtl?.();
  }

  #onJob(event: WatchEvent): void {
    const key = objectKey(event.object);
    if (event.type === 'DELETED') {
      const memory = this.#memory.get(event.object.metadata.uid ?? '');
      if (memory) this.#forgetTimers(memory);
      this.#memory.delete(event.object.metadata.uid ?? '');
      return;
    }
    this.#queue.add(key);
  }

  #onPod(event: WatchEvent): void {
    const owner = controllerOf(event.object);
    if (owner?.kind !== 'Job') return;
    const pod = event.object as unknown as IPod;
    if (event.type === 'DELETED' && !isTerminal(pod)) {
      const memory = this.#memory.get(owner.uid);
      const uid = pod.metadata?.uid ?? '';
      if (memory && !memory.deletedByController.has(uid)) memory.lostPods.add(uid);
    }
    this.#queue.add(`${event.object.metadata.namespace}/${owner.name}`);
  }

  #remember(uid: string): JobMemory {
    let memory = this.#memory.get(uid);
    if (!memory) {
      memory = {
        counted: new Set(),
        lostPods: new Set(),
        deletedByController: new Set(),
        recentFailures: 0,
        createFailures: 0,
      };
      this.#memory.set(uid, memory);
    }
    return memory;
  }

  #sync(key: string): void {
    const { store, clock, timers, events } = this.#ctx;
    const { namespace, name } = splitKey(key);
    const object = store.get('batch/v1/jobs', namespace, name);
    if (!object || object.metadata.deletionTimestamp) return;
    const job = object as unknown as IJob;
    const spec = job.spec;
    if (!spec) return;
    const uid = object.metadata.uid ?? '';
    const memory = this.#remember(uid);
    const status = (object['status'] ?? {}) as NonNullable<IJob['status']>;
    const conditions = [...((status.conditions ?? []) as JobCondition[])];
    const has = (type: string) =>
      conditions.some((condition) => condition.type === type && condition.status === 'True');
    const now = clock();
    const nowText = timestamp(now);

    if (has('Complete') || has('Failed')) {
      this.#scheduleTtl(object, memory);
      return;
    }

    const owned = (
      store.listRaw('v1/pods', namespace, { labelSelector: `${jobLabels.controllerUid}=${uid}` })
        .items as unknown as IPod[]
    ).filter((pod) => controllerOf(pod as unknown as KubeObject)?.uid === uid);
    const indexed = spec.completionMode === 'Indexed';
    const completions = spec.completions ?? undefined;
    const parallelism = spec.parallelism ?? 1;
    const backoffLimit = spec.backoffLimit ?? 6;

    // Count pods that finished since the last sync.
    let succeeded = status.succeeded ?? 0;
    let failed = status.failed ?? 0;
    const completed = parseIndexes(status.completedIndexes);
    for (const pod of owned) {
      const podUid = pod.metadata?.uid ?? '';
      if (!isTerminal(pod) || memory.counted.has(podUid)) continue;
      memory.counted.add(podUid);
      if (pod.status?.phase === 'Succeeded') {
        const index = podIndex(pod);
        if (indexed && index !== undefined) {
          if (!completed.has(index)) succeeded++;
          completed.add(index);
        } else {
          succeeded++;
        }
      } else {
        failed++;
        memory.recentFailures++;
        memory.backoffExpired = false;
        memory.lastFailureAt = now.getTime();
      }
    }
    for (const lost of memory.lostPods) {
      if (memory.counted.has(lost)) continue;
      memory.counted.add(lost);
      failed++;
      memory.recentFailures++;
      memory.backoffExpired = false;
      memory.lastFailureAt = now.getTime();
    }
    memory.lostPods.clear();

    let active = owned.filter((pod) => !isTerminal(pod) && !pod.metadata?.deletionTimestamp);
    const terminating = owned.filter((pod) => !isTerminal(pod) && pod.metadata?.deletionTimestamp).length;
    let startTime = status.startTime ?? (spec.suspend ? undefined : nowText);

    // Decide whether the job has finished.
    let finished: { type: 'Complete' | 'Failed'; reason: string; message: string } | undefined;
    const interim = conditions.find(
      (condition) =>
        (condition.type === 'FailureTarget' || condition.type === 'SuccessCriteriaMet') &&
        condition.status === 'True',
    );
    if (interim) {
      finished =
        interim.type === 'FailureTarget'
          ? {
              type: 'Failed',
              reason: interim.reason ?? 'BackoffLimitExceeded',
              message: interim.message ?? '',
            }
          : {
              type: 'Complete',
              reason: interim.reason ?? 'CompletionsReached',
              message: interim.message ?? '',
            };
    } else {
      const restartsOnFailure =
        spec.template.spec?.restartPolicy === 'OnFailure'
          ? active.reduce(
              (total, pod) =>
                total +
                [
                  ...(pod.status?.containerStatuses ?? []),
                  ...(pod.status?.initContainerStatuses ?? []),
                ].reduce((sum, container) => sum + (container.restartCount ?? 0), 0),
              0,
            )
          : 0;
      const pastBackoffLimitOnFailure =
        backoffLimit === 0 ? restartsOnFailure > 0 : restartsOnFailure >= backoffLimit;
      const deadline = spec.activeDeadlineSeconds;
      const pastDeadline =
        memory.deadlineReached === true ||
        (deadline !== undefined &&
          startTime !== undefined &&
          now.getTime() - Date.parse(startTime) >= deadline * 1000);
      const complete = indexed
        ? completions !== undefined && completed.size >= completions
        : completions !== undefined
          ? succeeded >= completions
          : succeeded > 0 && active.length === 0;
      if (failed > backoffLimit || pastBackoffLimitOnFailure) {
        finished = {
          type: 'Failed',
          reason: 'BackoffLimitExceeded',
          message: jobMessages.backoffLimitExceeded,
        };
      } else if (pastDeadline) {
        finished = { type: 'Failed', reason: 'DeadlineExceeded', message: jobMessages.deadlineExceeded };
      } else if (complete) {
        finished = {
          type: 'Complete',
          reason: 'CompletionsReached',
          message: jobMessages.completionsReached,
        };
      }
      if (finished) {
        conditions.push({
          type: finished.type === 'Failed' ? 'FailureTarget' : 'SuccessCriteriaMet',
          status: 'True',
          lastProbeTime: nowText,
          lastTransitionTime: nowText,
          reason: finished.reason,
          message: finished.message,
        });
      }
    }

    if (finished) {
      // Pods still running are stopped; when the job fails they count as failed.
      for (const pod of active) {
        memory.deletedByController.add(pod.metadata?.uid ?? '');
        memory.counted.add(pod.metadata?.uid ?? '');
        if (finished.type === 'Failed') failed++;
        store.delete('v1/pods', namespace, pod.metadata?.name ?? '');
        events.record(object, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`, source);
      }
      active = [];
      if (terminating === 0 && !interim) {
        // First write the interim condition, as the real controller does; the final one follows.
        this.#writeStatus(object, {
          conditions,
          succeeded,
          failed,
          active: 0,
          ready: 0,
          terminating,
          startTime,
          completed,
          indexed,
        });
        this.#queue.add(key);
        return;
      }
      if (terminating === 0) {
        conditions.push({
          type: finished.type,
          status: 'True',
          lastProbeTime: nowText,
          lastTransitionTime: nowText,
          reason: finished.reason,
          message: finished.message,
        });
        const written = this.#writeStatus(object, {
          conditions,
          succeeded,
          failed,
          active: 0,
          ready: 0,
          terminating,
          startTime,
          completed,
          indexed,
          completionTime: finished.type === 'Complete' ? nowText : undefined,
        });
        if (finished.type === 'Complete')
          events.record(written, 'Normal', 'Completed', 'Job completed', source);
        else events.record(written, 'Warning', finished.reason, finished.message, source);
        memory.cancelDeadline?.();
        memory.cancelRetry?.();
        this.#scheduleTtl(written, memory);
        return;
      }
    } else if (!spec.suspend) {
      const suspended = conditions.findIndex(
        (entry) => entry.type === 'Suspended' && entry.status === 'True',
      );
      if (suspended >= 0) {
        // Resumed: the job starts over its deadline from now.
        conditions[suspended] = {
          type: 'Suspended',
          status: 'False',
          lastProbeTime: nowText,
          lastTransitionTime: nowText,
          reason: 'JobResumed',
          message: 'Job resumed',
        };
        startTime = nowText;
        memory.cancelDeadline?.();
        memory.cancelDeadline = undefined;
        memory.deadlineReached = false;
        events.record(object, 'Normal', 'Resumed', 'Job resumed', source);
      }
      // Create the pods that are missing, after the back-off that follows failures.
      const delaySeconds =
        memory.recentFailures > 0 && memory.lastFailureAt !== undefined
          ? Math.min(10 * 2 ** (memory.recentFailures - 1), 360) -
            (now.getTime() - memory.lastFailureAt) / 1000
          : 0;
      const wanted: (number | undefined)[] = [];
      if (indexed) {
        const running = new Set(active.map(podIndex));
        for (
          let index = 0;
          index < (completions ?? 0) && active.length + wanted.length < parallelism;
          index++
        ) {
          if (!completed.has(index) && !running.has(index)) wanted.push(index);
        }
      } else {
        const remaining =
          completions === undefined ? (succeeded > 0 ? 0 : parallelism) : completions - succeeded;
        const count = Math.max(0, Math.min(parallelism, remaining) - active.length);
        for (let i = 0; i < count; i++) wanted.push(undefined);
      }
      if (wanted.length > 0 && delaySeconds > 0 && !memory.backoffExpired) {
        memory.cancelRetry?.();
        memory.cancelRetry = timers.after(delaySeconds, () => {
          memory.backoffExpired = true;
          this.#queue.add(key);
        });
      } else {
        for (const index of wanted) {
          let pod: KubeObject;
          try {
            pod = store.create('v1/pods', this.#podFor(object, index));
          } catch (error) {
            if (!(error instanceof StatusError)) throw error;
            // The API refused the pod (an invalid template): say so and try again later.
            memory.createFailures++;
            events.record(object, 'Warning', 'FailedCreate', `Error creating: ${error.message}`, source);
            memory.cancelRetry?.();
            memory.cancelRetry = timers.after(Math.min(10 * 2 ** (memory.createFailures - 1), 360), () =>
              this.#queue.add(key),
            );
            break;
          }
          memory.createFailures = 0;
          active.push(pod as unknown as IPod);
          events.record(object, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, source);
        }
      }
    } else {
      if (!conditions.some((entry) => entry.type === 'Suspended' && entry.status === 'True')) {
        const entry = {
          type: 'Suspended',
          status: 'True',
          lastProbeTime: nowText,
          lastTransitionTime: nowText,
          reason: 'JobSuspended',
          message: 'Job suspended',
        };
        const index = conditions.findIndex((existing) => existing.type === 'Suspended');
        if (index >= 0) conditions[index] = entry;
        else conditions.push(entry);
        events.record(object, 'Normal', 'Suspended', 'Job suspended', source);
      }
      startTime = undefined;
      memory.cancelDeadline?.();
      memory.cancelDeadline = undefined;
      memory.deadlineReached = false;
      for (const pod of active) {
        memory.deletedByController.add(pod.metadata?.uid ?? '');
        memory.counted.add(pod.metadata?.uid ?? '');
        store.delete('v1/pods', namespace, pod.metadata?.name ?? '');
        events.record(object, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`, source);
      }
      active = [];
    }

    if (spec.activeDeadlineSeconds !== undefined && startTime !== undefined && !memory.cancelDeadline) {
      const left = spec.activeDeadlineSeconds - (now.getTime() - Date.parse(startTime)) / 1000;
      memory.cancelDeadline = timers.after(Math.max(0, left), () => {
        memory.deadlineReached = true;
        this.#queue.add(key);
      });
    }
    const ready = active.filter((pod) =>
      (pod.status?.conditions ?? []).some(
        (condition) => condition.type === 'Ready' && condition.status === 'True',
      ),
    ).length;
    this.#writeStatus(object, {
      conditions,
      succeeded,
      failed,
      active: active.length,
      ready,
      terminating,
      startTime,
      completed,
      indexed,
    });
  }

  #writeStatus(
    object: KubeObject,
    next: {
      conditions: JobCondition[];
      succeeded: number;
      failed: number;
      active: number;
      ready: number;
      terminating: number;
      startTime: string | undefined;
      completed: Set<number>;
      indexed: boolean;
      completionTime?: string;
    },
  ): KubeObject {
    const previous = (object['status'] ?? {}) as Record<string, unknown>;
    // Counts of zero are omitted, as the API's omitempty does; ready and terminating are pointers.
    const status: Record<string, unknown> = {
      ...(next.conditions.length > 0 ? { conditions: next.conditions } : {}),
      ...(next.startTime ? { startTime: next.startTime } : {}),
      ...(next.completionTime ? { completionTime: next.completionTime } : {}),
      ...(next.active > 0 ? { active: next.active } : {}),
      ...(next.succeeded > 0 ? { succeeded: next.succeeded } : {}),
      ...(next.failed > 0 ? { failed: next.failed } : {}),
      ...(next.indexed && next.completed.size > 0 ? { completedIndexes: formatIndexes(next.completed) } : {}),
      terminating: next.terminating,
      uncountedTerminatedPods: {},
      ready: next.ready,
    };
    if (JSON.stringify(status) === JSON.stringify(previous)) return object;
    object['status'] = status;
    return this.#ctx.store.updateStatus('batch/v1/jobs', object);
  }

  #scheduleTtl(object: KubeObject, memory: JobMemory): void {
    const job = object as unknown as IJob;
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl === undefined || memory.cancelTtl) return;
    const finishedAt = (job.status?.conditions ?? []).find(
      (condition) =>
        (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True',
    )?.lastTransitionTime;
    const left =
      ttl - (this.#ctx.clock().getTime() - Date.parse(finishedAt ?? timestamp(this.#ctx.clock()))) / 1000;
    memory.cancelTtl = this.#ctx.timers.after(Math.max(0, left), () => {
      const current = this.#ctx.store.getRaw(
        'batch/v1/jobs',
        object.metadata.namespace,
        object.metadata.name ?? '',
      );
      if (current?.metadata.uid !== object.metadata.uid) return;
      this.#ctx.store.delete('batch/v1/jobs', object.metadata.namespace, object.metadata.name ?? '', {
        propagationPolicy: 'Background',
      });
    });
  }

  /** The pod the controller creates for the job (and completion index). */
  #podFor(object: KubeObject, index: number | undefined): KubeObject {
    const job = object as unknown as IJob;
    const template = structuredClone(job.spec?.template ?? {});
    const name = object.metadata.name ?? '';
    const uid = object.metadata.uid ?? '';
    const labels: Record<string, string> = {
      ...(template.metadata?.labels ?? {}),
      [jobLabels.controllerUid]: uid,
      [jobLabels.jobName]: name,
      [jobLabels.legacyControllerUid]: uid,
      [jobLabels.legacyJobName]: name,
    };
    const annotations: Record<string, string> = { ...(template.metadata?.annotations ?? {}) };
    const podSpec = (template.spec ?? { containers: [] }) as NonNullable<IPod['spec']>;
    if (index !== undefined) {
      labels[jobLabels.completionIndex] = String(index);
      annotations[jobLabels.completionIndex] = String(index);
      podSpec.hostname ??= `${name}-${index}`;
      const indexEnv = {
        name: 'JOB_COMPLETION_INDEX',
        valueFrom: { fieldRef: { fieldPath: `metadata.labels['${jobLabels.completionIndex}']` } },
      };
      for (const container of [...podSpec.containers, ...(podSpec.initContainers ?? [])]) {
        container.env = [...(container.env ?? []), indexEnv];
      }
    }
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: index === undefined ? `${name}-` : `${name}-${index}-`,
        namespace: object.metadata.namespace,
        labels,
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name, uid, controller: true, blockOwnerDeletion: true },
        ],
      },
      spec: podSpec,
    };
  }
}
