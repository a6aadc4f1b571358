// What the step controller needs from an agent: how to ask the model for the artifact, how to accept
// (parse, validate, hold to policy) its answer, how the artifact is tried on the cluster, and what a
// success hands on. The controller runs the same attempt loop for every agent.
import type { OptimizationStatus } from '../api/agentstep.ts';
import type { AgentName } from '../api/names.ts';
import type { KubeObject } from '../kube/client.ts';
import type { OwnerReference } from '../kube/names.ts';

/**
 * How an artifact is tried: a Kaniko build, a run Job, a Flux MiniCluster, a validator Job (a tool's own
 * check, e.g. Flux's dry run), or checks in the operator alone.
 */
export type TrialKind = 'build' | 'job' | 'minicluster' | 'validator' | 'inline';

/** Operator settings agents need; from the operator's configuration. */
export interface AgentSettings {
  registry?: string;
  insecureRegistry: boolean;
  pushSecret?: string;
  kanikoImage: string;
  runServiceAccount: string;
  defaultMaxRuntime: number;
  fluxValidatorImage?: string;
  /** Token budget for logs shown to the model. */
  logBudgetTokens: number;
  /** The most CPU and memory (Kubernetes quantities) a generated run's pod may request; unset: no cap. */
  maxCpuRequest?: string;
  maxMemoryRequest?: string;
  /** Generated runs may not ask for root, and their pods run with runAsNonRoot. */
  runAsNonRoot?: boolean;
}

/** What the cluster looks like, for prompts (read once per attempt, never from the model). */
export interface ClusterFacts {
  /** A compact schema of the MiniCluster CRD installed in the cluster, when there is one. */
  miniClusterSchema?: string;
  /**
   * The installed MiniCluster CRD's openAPIV3Schema, for the manifest policy (never for prompts): a
   * generated MiniCluster is held to it strictly, so a field the Flux Operator does not know is
   * refused with its name instead of being dropped by the API server.
   */
  miniClusterCrdSchema?: Record<string, unknown>;
  /** A one-line summary of the nodes (count, CPU, memory, architecture). */
  nodes?: string;
}

export interface PreviousAttempt {
  artifact?: string;
  error: string;
  advice?: string;
}

export interface AttemptInput {
  namespace: string;
  stepName: string;
  planName?: string;
  agent: AgentName;
  /** The validated, camelCase context. */
  context: Record<string, unknown>;
  attempt: number;
  previous?: PreviousAttempt;
  /** Earlier issues the plan's manager says this step must avoid. */
  avoid: string[];
  /** What the plan's manager told this step to do differently, after a recovery. */
  instruction?: string;
  /** A person's answer to the step's question. */
  humanAnswer?: string;
  settings: AgentSettings;
  cluster: ClusterFacts;
  /** The attempt's object name, labels and owner reference, for manifests. */
  objectName: string;
  labels: Record<string, string>;
  ownerReference: OwnerReference;
  maxRuntimeSeconds: number;
  /** An iterating agent's trajectory so far (the optimize agent's trials). */
  iteration?: OptimizationStatus;
  /** An iterating agent's best artifact so far (its bestAttempt's). */
  bestArtifact?: string;
}

export type Acceptance =
  | {
      ok: true;
      /** The artifact as text (a Dockerfile, a manifest, a script, a JSON list): what the next attempt sees. */
      artifact: string;
      /** The objects to create for the trial, in order (ConfigMaps before the Job). */
      objects: KubeObject[];
      /** What the policy changed in the model's manifest (forced fields), for the record. */
      changes?: string[];
    }
  | {
      ok: false;
      reason: string;
      error: string;
      /** The model asked to stop iterating (the optimize agent's STOP): not an error, the end. */
      stop?: boolean;
    };

export interface Success {
  result: string;
  outputs: Record<string, string>;
}

/** What an iterating agent decides after a trial: go on with another attempt, or end the step. */
export interface IterationDecision {
  state: OptimizationStatus;
  /** True: start the next attempt; false: the step ends (Succeeded with `finish`, or Failed). */
  continue: boolean;
  message: string;
  /** When it ends: the reason, in CamelCase (PlateauReached, BudgetSpent, ...). */
  reason?: string;
  /** The trial itself failed (e.g. a run printed no figure): recorded as a failed attempt. */
  failedReason?: string;
}

/**
 * An agent whose step goes on after a trial works (the optimize agent): the first attempt is tried
 * as the context gives it, without the model; every trial's outcome is recorded and judged; the step
 * ends when the agent says so, with the best artifact.
 */
export interface AgentIteration {
  /** The first attempt's artifact, tried as it is (the baseline). */
  initialArtifact(input: AttemptInput): string;
  /** The most attempts the step may use. */
  maxAttempts(input: AttemptInput): number;
  /** A trial ran: read its outcome from the log, keep or revert, decide whether to go on. */
  succeeded(input: AttemptInput, artifact: string, log: string, now: Date): IterationDecision;
  /** A trial failed (its diagnosis done): record it, decide whether to go on. `artifact`: what the attempt stored. */
  failed(input: AttemptInput, reason: string, error: string, now: Date, artifact?: string): IterationDecision;
  /** The model said stop (an answer with stop: true). */
  stopped(input: AttemptInput, why: string): IterationDecision;
  /** The step's result and outputs when it ends with a best artifact; undefined when there is none. */
  finish(state: OptimizationStatus, bestArtifact: string | undefined): Success | undefined;
}

export interface AgentDriver {
  readonly agent: AgentName;
  /** How artifacts are tried; it may depend on the operator's settings (a configured validator image). */
  readonly trial: TrialKind | ((settings: AgentSettings) => TrialKind);
  /** The file name of the artifact, for results and `fractale logs` (e.g. Dockerfile, job.yaml). */
  readonly artifactName: string;
  /** What the debug agent is told about the artifact and the rules its advice keeps to. */
  readonly debug: { artifactKind: string; artifactLanguage: string; rules: readonly string[] };
  /** Context the agent cannot change (the debug agent must not suggest changing it). */
  fixedContext(input: AttemptInput): Record<string, string | undefined>;
  /** A problem with the step's setup that no attempt can fix (e.g. no registry to push to). */
  preflight?(input: AttemptInput): string | undefined;
  prompt(input: AttemptInput): string;
  accept(answer: string, input: AttemptInput): Acceptance;
  /** What a successful attempt hands on; `log` is the build or run log (filtered), if any. */
  succeed(artifact: string, input: AttemptInput, log: string): Success;
  /** The time limit of one trial from the per-run limit (default: the same). */
  trialSeconds?(context: Record<string, unknown>, perRunSeconds: number): number;
  /** Present for agents whose step iterates after a success (optimize). */
  readonly iteration?: AgentIteration;
}
