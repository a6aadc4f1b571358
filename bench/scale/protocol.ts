// What the scale harness and the sim's process say to each other over IPC.

export const SCALE_NAMESPACE = 'scale';

/** What the harness asks; every request carries an id its answer repeats. */
export type SimRequest =
  | { id: number; op: 'apply'; plans: Record<string, unknown>[] }
  | { id: number; op: 'progress' }
  | { id: number; op: 'reset-requests' }
  | { id: number; op: 'stats' }
  | { id: number; op: 'delete-plans'; timeoutMs: number }
  | { id: number; op: 'stop' };

export interface Footprint {
  /** Objects in the namespace by resource (plural), and their bytes as JSON. */
  objects: Record<string, { count: number; bytes: number }>;
  totalBytes: number;
  totalObjects: number;
  /** The largest single object, for the 1.5 MiB per-object limit. */
  largest: { resource: string; name: string; bytes: number };
}

export interface SimStats {
  requests: {
    client: string;
    verb: string;
    resource: string;
    subresource: string;
    code: number;
    count: number;
  }[];
  /** Job terminal condition → the owning AgentStep's next status write, in ms. */
  reactionMs: number[];
  /** The real lane only: a pod's end → its Job's terminal condition, in ms (the Job controller's lag). */
  jobControllerLagMs?: number[];
  /** Job terminal conditions seen whose step was not written again (yet). */
  unanswered: number;
  plans: { name: string; phase?: string }[];
  steps: { name: string; phase?: string; attempts: number; tokens: number; modelCalls: number }[];
  /** Why attempts failed, over all steps: reason → count, with one message for each. */
  failures: Record<string, { count: number; message: string }>;
  jobs: number;
  footprint: Footprint;
  memory: { rssBytes: number; peakRssBytes: number };
}
