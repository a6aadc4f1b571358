/**
 * What the simulated controllers share: scaled timers that stop() can clear, a keyed work queue,
 * and an event recorder that writes core/v1 Events the way client-go's recorder does.
 */
import { randomBytes } from 'node:crypto';
import type { Behaviors } from '../behaviors.ts';
import type { LogStore } from '../logs.ts';
import { type KubeObject, StatusError, type Store } from '../store.ts';
import type { WorldCluster } from '../world/cluster.ts';
import type { SimRegistry } from './registry.ts';

/** Simulated durations become real ones through `speed` (tests use small values). */
export class SimTimers {
  readonly speed: number;
  readonly #pending = new Set<NodeJS.Timeout>();
  #stopped = false;

  constructor(speed: number) {
    this.speed = speed;
  }

  /** Runs fn after `seconds` simulated seconds; returns a function that cancels it. */
  after(seconds: number, fn: () => void): () => void {
    if (this.#stopped) return () => {};
    const timer = setTimeout(
      () => {
        this.#pending.delete(timer);
        if (!this.#stopped) fn();
      },
      Math.max(0, seconds * 1000 * this.speed),
    );
    this.#pending.add(timer);
    return () => {
      clearTimeout(timer);
      this.#pending.delete(timer);
    };
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#pending) clearTimeout(timer);
    this.#pending.clear();
  }
}

/**
 * A clock that runs `1/speed` times faster than the wall clock, so timestamps agree with the
 * scaled durations (a 30-second simulated build shows 30 seconds between startedAt and finishedAt).
 */
export function scaledClock(speed: number, start = new Date()): () => Date {
  const wallStart = Date.now();
  const simStart = start.getTime();
  return () => new Date(simStart + (Date.now() - wallStart) / speed);
}

/** Keys processed once per turn of the event loop, whatever the number of times they were added. */
export class WorkQueue {
  readonly #pending = new Set<string>();
  readonly #handler: (key: string) => void;
  #scheduled = false;
  #stopped = false;

  constructor(handler: (key: string) => void) {
    this.#handler = handler;
  }

  add(key: string): void {
    if (this.#stopped) return;
    this.#pending.add(key);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#drain());
  }

  #drain(): void {
    this.#scheduled = false;
    const keys = [...this.#pending];
    this.#pending.clear();
    for (const key of keys) {
      if (this.#stopped) return;
      try {
        this.#handler(key);
      } catch (error) {
        // A conflict means another writer got there first: the next event brings the key back.
        if (!(error instanceof StatusError && (error.code === 409 || error.code === 404))) {
          process.emitWarning(`Simulated controller failed on ${key}: ${(error as Error).stack ?? error}`);
        }
      }
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#pending.clear();
  }
}

export interface EventSource {
  component: string;
  host?: string;
}

/** Writes core/v1 Events; a repeat of the same event bumps its count, as client-go's correlator does. */
export class EventRecorder {
  readonly #cluster: WorldCluster;
  readonly #clock: () => Date;
  readonly #recent = new Map<string, { namespace: string; name: string }>();

  constructor(cluster: WorldCluster, clock: () => Date) {
    this.#cluster = cluster;
    this.#clock = clock;
  }

  record(
    object: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    source: EventSource,
    fieldPath?: string,
  ): void {
    const namespace = object.metadata.namespace ?? 'default';
    const now = timestamp(this.#clock());
    const involvedObject = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
      ...(fieldPath ? { fieldPath } : {}),
    };
    const key = [object.metadata.uid, fieldPath, type, reason, message, source.component, source.host].join(
      '\u0000',
    );
    const previous = this.#recent.get(key);
    try {
      if (previous) {
        const existing = this.#cluster.get('v1/events', previous.namespace, previous.name);
        if (existing) {
          existing['count'] = Number(existing['count'] ?? 1) + 1;
          existing['lastTimestamp'] = now;
          existing['involvedObject'] = involvedObject;
          this.#cluster.update('v1/events', existing);
          return;
        }
      }
      // client-go names events <object>.<unique hex>.
      const name = `${object.metadata.name}.${randomBytes(8).toString('hex')}`;
      this.#cluster.create('v1/events', {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject,
        reason,
        message,
        type,
        source,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        eventTime: null,
        reportingComponent: source.component,
        reportingInstance: source.host ?? '',
      });
      this.#recent.set(key, { namespace, name });
      if (this.#recent.size > 4096) {
        const oldest = this.#recent.keys().next().value;
        if (oldest !== undefined) this.#recent.delete(oldest);
      }
    } catch (error) {
      // Events are best effort, as in Kubernetes (a terminating namespace refuses them).
      if (!(error instanceof StatusError)) throw error;
    }
  }
}

/** RFC 3339 with seconds, as metav1.Time serialises. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** What the world's controllers (scheduler, kubelet, Kaniko, Flux Operator) share. */
export interface WorldContext {
  /** What they read and write: the sim's store, or a real API server. */
  cluster: WorldCluster;
  logs: LogStore;
  registry: SimRegistry;
  behaviors: Behaviors;
  clock: () => Date;
  timers: SimTimers;
  events: EventRecorder;
}

/** The sim's own server-side controllers (the Job controller) also use its Store. */
export interface SimContext extends WorldContext {
  store: Store;
}

export function controllerOf(
  object: KubeObject,
): { apiVersion: string; kind: string; name: string; uid: string } | undefined {
  return object.metadata.ownerReferences?.find((reference) => reference.controller === true);
}

export function objectKey(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
