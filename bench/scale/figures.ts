// The figures both cluster processes of the scale benchmark take from what their cluster holds
// (bench/scale/sim-process.ts reads the sim's store, bench/scale/real-process.ts a real API server):
// plans, steps, failures, the footprint, and the Job → step-status latency.
import { LABELS } from '../../src/api/names.ts';
import type { Footprint, SimStats } from './protocol.ts';

/** The little of an object these figures read (the sim's and the client's types both fit). */
export interface Stored {
  metadata: { name?: string; uid?: string; labels?: Record<string, string> };
}

type History = { tokens?: number; modelCalls?: number; outcome?: string; reason?: string; message?: string };
type Status = { phase?: string; history?: History[]; conditions?: { type: string; status: string }[] };
const statusOf = (o: Stored) => ((o as { status?: Status }).status ?? {}) as Status;

const TERMINAL = new Set(['Succeeded', 'Failed']);

/** True when a Job has its Complete or Failed condition. */
export function jobEnded(job: Stored): boolean {
  return (statusOf(job).conditions ?? []).some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

export function progressOf(plans: Stored[]): { total: number; done: number; failed: number } {
  return {
    total: plans.length,
    done: plans.filter((p) => TERMINAL.has(statusOf(p).phase ?? '')).length,
    failed: plans.filter((p) => statusOf(p).phase === 'Failed').length,
  };
}

export function planFigures(plans: Stored[]): SimStats['plans'] {
  return plans.map((p) => ({
    name: p.metadata.name!,
    ...(statusOf(p).phase ? { phase: statusOf(p).phase } : {}),
  }));
}

export function stepFigures(steps: Stored[]): Pick<SimStats, 'steps' | 'failures'> {
  const failures: SimStats['failures'] = {};
  const figures = steps.map((s) => {
    const { phase, history = [] } = statusOf(s);
    for (const h of history) {
      if (h.outcome !== 'Failed') continue;
      const known = failures[h.reason ?? ''] ?? { count: 0, message: (h.message ?? '').slice(0, 200) };
      known.count++;
      failures[h.reason ?? ''] = known;
    }
    return {
      name: s.metadata.name!,
      ...(phase ? { phase } : {}),
      attempts: history.length,
      tokens: history.reduce((sum, h) => sum + (h.tokens ?? 0), 0),
      modelCalls: history.reduce((sum, h) => sum + (h.modelCalls ?? 0), 0),
    };
  });
  return { steps: figures, failures };
}

/** Objects by resource (their JSON bytes), the kube-root-ca.crt ConfigMap every namespace has aside. */
export function footprintOf(byResource: Iterable<[plural: string, objects: Stored[]]>): Footprint {
  const objects: Footprint['objects'] = {};
  let largest = { resource: '', name: '', bytes: 0 };
  for (const [plural, items] of byResource) {
    for (const object of items) {
      if (object.metadata.name === 'kube-root-ca.crt') continue;
      const bytes = Buffer.byteLength(JSON.stringify(object));
      const entry = objects[plural] ?? { count: 0, bytes: 0 };
      entry.count++;
      entry.bytes += bytes;
      objects[plural] = entry;
      if (bytes > largest.bytes) largest = { resource: plural, name: object.metadata.name!, bytes };
    }
  }
  const all = Object.values(objects);
  return {
    objects,
    totalBytes: all.reduce((sum, o) => sum + o.bytes, 0),
    totalObjects: all.reduce((sum, o) => sum + o.count, 0),
    largest,
  };
}

/** Job terminal → the owning step's next status write, on the clock of whoever sees both. */
export class ReactionClock {
  readonly samplesMs: number[] = [];
  /** Jobs that ended, once each (by uid). */
  readonly endedJobs = new Set<string>();
  private readonly since = new Map<string, number>();

  /** A Job changed: starts its step's clock when it has just ended. Returns the step, when it did. */
  job(job: Stored, now = performance.now()): string | undefined {
    const key = job.metadata.uid ?? job.metadata.name ?? '';
    if (this.endedJobs.has(key) || !jobEnded(job)) return undefined;
    this.endedJobs.add(key);
    const step = job.metadata.labels?.[LABELS.step];
    if (step && !this.since.has(step)) this.since.set(step, now);
    return step;
  }

  /** A step's status was written: stops its clock. */
  step(name: string, now = performance.now()): void {
    const since = this.since.get(name);
    if (since === undefined) return;
    this.since.delete(name);
    this.samplesMs.push(now - since);
  }

  /** Ended Jobs whose step has not been written since. */
  get unanswered(): number {
    return this.since.size;
  }
}
