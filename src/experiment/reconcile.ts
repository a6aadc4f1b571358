// The AgentExperiment reconciler: creates the experiment's plans (one per cell and repetition, at most
// spec.concurrency running at once), stores each ended plan's results document in the experiment's
// results ConfigMaps, and keeps the counts per cell in status. Everything it needs after a restart is
// in the API: the plans (found by their derived names) and the stored results.

import type { RunRecord } from '../analysis/types.ts';
import type { AgentExperiment, AgentExperimentStatus, ExperimentCellStatus } from '../api/agentexperiment.ts';
import type { AgentPlan } from '../api/agentplan.ts';
import { API_VERSION, LABELS, MANAGED_BY } from '../api/names.ts';
import { isAlreadyExists, isNotFound, type KubeClient, type KubeObject } from '../kube/client.ts';
import { controllerReference, labelValue } from '../kube/names.ts';
import { RESOURCES } from '../kube/resources.ts';
import { withElapsed } from '../llm/usage.ts';
import { decodeResults } from '../results/writer.ts';
import type { EventRecorder, EventType } from '../runtime/events.ts';
import type { Cache } from '../runtime/informer.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ReconcileResult } from '../runtime/queue.ts';
import { StatusWriter } from '../runtime/status.ts';
import { clipMessages, setSucceeded } from '../step/conditions.ts';
import type { ExperimentResults } from './aggregate.ts';
import { type ExperimentRun, experimentCells, experimentRuns } from './matrix.ts';
import { validateAgentExperiment } from './validate.ts';

export type AgentExperimentObject = AgentExperiment & KubeObject;
export type AgentPlanObject = AgentPlan & KubeObject;
type ConfigMap = KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> };

export const EXPERIMENT_REASON = {
  Running: 'Running',
  Completed: 'AllPlansEnded',
  InvalidExperiment: 'InvalidExperiment',
  WaitingForResults: 'WaitingForResults',
} as const;

/** How soon to look again for an ended plan's results document that is not there yet. */
const RESULTS_RETRY_MS = 5_000;

export interface ExperimentReconcilerDeps {
  client: KubeClient;
  experiments: Cache<AgentExperimentObject>;
  plans: Cache<AgentPlanObject>;
  results: ExperimentResults;
  events: EventRecorder;
  logger: Logger;
  now?: () => Date;
}

interface Pass {
  experiment: AgentExperimentObject;
  key: string;
  status: AgentExperimentStatus;
  events: { type: EventType; reason: string; message: string }[];
  requeueAfterMs?: number;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const ended = (plan: AgentPlanObject | undefined) =>
  plan?.status?.phase === 'Succeeded' || plan?.status?.phase === 'Failed';

export class ExperimentReconciler {
  private readonly deps: ExperimentReconcilerDeps;
  private readonly statusWriter: StatusWriter;
  /** Plans this process created that its cache may not show yet, by experiment key: they count as running. */
  private readonly created = new Map<string, Set<string>>();
  /**
   * Each experiment's validation, by the generation it was made for: every plan's event reconciles
   * the experiment, and validating every merged plan again each time is work a spec edit alone redoes.
   */
  private readonly validated = new Map<
    string,
    { version: string; result: ReturnType<typeof validateAgentExperiment> }
  >();

  constructor(deps: ExperimentReconcilerDeps) {
    this.deps = deps;
    this.statusWriter = new StatusWriter(deps.client, RESOURCES.agentExperiments);
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const [namespace, name] = key.split('/') as [string, string];
    const experiment = this.deps.experiments.get(namespace, name);
    if (!experiment || experiment.metadata.deletionTimestamp) {
      // Plans and results ConfigMaps are owned by the experiment: the garbage collector removes them.
      this.statusWriter.forget(key);
      this.created.delete(key);
      this.validated.delete(key);
      this.deps.results.forget(namespace, name);
      return undefined;
    }
    if (this.statusWriter.isStale(key, experiment)) return undefined;
    const pass: Pass = { experiment, key, status: structuredClone(experiment.status ?? {}), events: [] };
    await this.advance(pass);
    await this.writeStatus(pass);
    return pass.requeueAfterMs !== undefined ? { requeueAfterMs: pass.requeueAfterMs } : undefined;
  }

  private async advance(pass: Pass): Promise<void> {
    const { experiment, status } = pass;
    const generation = experiment.metadata.generation ?? 0;
    // An invalid experiment stays Failed until its spec is edited; an edit that fixes it runs it.
    if (status.phase === 'Failed' && status.observedGeneration === generation) return;
    status.observedGeneration = generation;
    const version = `${experiment.metadata.uid}/${generation}`;
    let memo = this.validated.get(pass.key);
    if (memo?.version !== version) {
      memo = { version, result: validateAgentExperiment(experiment) };
      this.validated.set(pass.key, memo);
    }
    const valid = memo.result;
    if (!valid.ok) {
      this.finish(
        pass,
        'Failed',
        EXPERIMENT_REASON.InvalidExperiment,
        `invalid experiment: ${valid.errors.join('; ')}`,
      );
      return;
    }
    const spec = valid.value.spec;
    if (!status.phase || status.phase === 'Pending' || status.phase === 'Failed') {
      delete status.completionTime;
      status.phase = 'Running';
      status.startTime = iso(this.now());
      const cells = experimentCells(spec);
      pass.events.push({
        type: 'Normal',
        reason: 'Started',
        message: `Started: ${cells.length} cell(s) × ${spec.matrix.repetitions} repetition(s), at most ${spec.concurrency} plan(s) at once`,
      });
    }
    // The runs follow the current spec: more repetitions add plans, a higher concurrency applies at
    // once; plans already created keep the spec they were created with.
    const runs = experimentRuns(experiment.metadata.name!, spec);
    const namespace = experiment.metadata.namespace!;
    const stored = await this.deps.results.stored(namespace, experiment.metadata.name!);
    const created = this.created.get(pass.key) ?? new Set<string>();
    this.created.set(pass.key, created);

    // Store the results of every ended plan not stored yet.
    let waiting = false;
    for (const run of runs) {
      const plan = this.deps.plans.get(namespace, run.plan);
      if (plan) created.delete(run.plan);
      if (stored.plans.has(run.plan) || !ended(plan)) continue;
      const record = await this.runRecord(experiment, run, plan!);
      if (!record) {
        waiting = true;
        continue;
      }
      await this.deps.results.store(
        namespace,
        experiment.metadata.name!,
        controllerReference(experiment),
        record,
      );
      stored.plans.set(run.plan, record.results.status);
    }

    // Start plans up to the concurrency, in run order (repetition by repetition).
    const isRunning = (run: ExperimentRun) => {
      if (stored.plans.has(run.plan)) return false;
      const plan = this.deps.plans.get(namespace, run.plan);
      return plan ? !ended(plan) : created.has(run.plan);
    };
    let running = runs.filter(isRunning).length;
    for (const run of runs) {
      if (running >= spec.concurrency) break;
      if (stored.plans.has(run.plan) || this.deps.plans.get(namespace, run.plan) || created.has(run.plan))
        continue;
      await this.createPlan(experiment, run);
      created.add(run.plan);
      running++;
    }

    this.count(pass, runs, stored.plans, created);
    // Read again: a run stored in this pass may have started a new ConfigMap.
    status.resultsRefs = await this.deps.results.refs(namespace, experiment.metadata.name!);
    if (status.collected === runs.length) {
      if (status.phase !== 'Completed')
        this.finish(
          pass,
          'Completed',
          EXPERIMENT_REASON.Completed,
          `All ${runs.length} plan(s) ended: ${status.succeeded} succeeded, ${status.failed} failed. Report: fractale experiment report ${experiment.metadata.name} -o DIR`,
        );
      return;
    }
    // An experiment that grew (more repetitions) after it completed runs again.
    if (status.phase === 'Completed') {
      status.phase = 'Running';
      delete status.completionTime;
    }
    const message = `${status.done} of ${runs.length} plan(s) ended (${status.failed} failed), ${status.running} running`;
    this.setRunning(pass, waiting ? EXPERIMENT_REASON.WaitingForResults : EXPERIMENT_REASON.Running, message);
    if (waiting) pass.requeueAfterMs = RESULTS_RETRY_MS;
  }

  /** The counts in status, overall and per cell. */
  private count(
    pass: Pass,
    runs: ExperimentRun[],
    stored: ReadonlyMap<string, string>,
    created: Set<string>,
  ): void {
    const { status, experiment } = pass;
    const namespace = experiment.metadata.namespace!;
    const cells = new Map<string, ExperimentCellStatus>();
    let exists = 0;
    let succeeded = 0;
    let failed = 0;
    let running = 0;
    for (const run of runs) {
      const cell =
        cells.get(run.cell.name) ??
        ({
          name: run.cell.name,
          application: run.cell.application,
          ...(run.cell.variant ? { variant: run.cell.variant } : {}),
          ...(run.cell.model ? { model: run.cell.model } : {}),
          succeeded: 0,
          failed: 0,
          running: 0,
        } satisfies ExperimentCellStatus);
      cells.set(run.cell.name, cell);
      const plan = this.deps.plans.get(namespace, run.plan);
      if (plan || stored.has(run.plan) || created.has(run.plan)) exists++;
      // A plan deleted after its results were stored still counts, by its stored outcome.
      const phase = plan?.status?.phase ?? stored.get(run.plan);
      if (phase === 'Succeeded') {
        succeeded++;
        cell.succeeded = (cell.succeeded ?? 0) + 1;
      } else if (phase === 'Failed') {
        failed++;
        cell.failed = (cell.failed ?? 0) + 1;
      } else if (plan || created.has(run.plan)) {
        running++;
        cell.running = (cell.running ?? 0) + 1;
      }
    }
    status.plans = runs.length;
    status.created = exists;
    status.running = running;
    status.succeeded = succeeded;
    status.failed = failed;
    status.done = succeeded + failed;
    status.collected = runs.filter((r) => stored.has(r.plan)).length;
    status.cells = [...cells.values()];
  }

  /** The run's results document with its place in the matrix; undefined while it is not written yet. */
  private async runRecord(
    experiment: AgentExperimentObject,
    run: ExperimentRun,
    plan: AgentPlanObject,
  ): Promise<RunRecord | undefined> {
    const ref = plan.status?.resultsRef;
    if (!ref) return undefined;
    let cm: ConfigMap;
    try {
      cm = await this.deps.client.get<ConfigMap>(RESOURCES.configMaps, plan.metadata.namespace, ref.name);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    const model = run.spec.model;
    return {
      plan: run.plan,
      namespace: plan.metadata.namespace!,
      experiment: experiment.metadata.name!,
      cell: run.cell.name,
      application: run.cell.application,
      ...(run.cell.variant ? { variant: run.cell.variant } : {}),
      ...(run.cell.model ? { model: run.cell.model } : {}),
      ...(model?.name ? { modelName: model.name } : {}),
      ...(model?.provider ? { provider: model.provider } : {}),
      repetition: run.repetition,
      results: decodeResults(cm),
    };
  }

  private async createPlan(experiment: AgentExperimentObject, run: ExperimentRun): Promise<void> {
    const object: AgentPlanObject = {
      apiVersion: API_VERSION,
      kind: 'AgentPlan',
      metadata: {
        name: run.plan,
        namespace: experiment.metadata.namespace!,
        labels: {
          [LABELS.managedBy]: MANAGED_BY,
          [LABELS.experiment]: labelValue(experiment.metadata.name!),
          [LABELS.cell]: labelValue(run.cell.name),
          [LABELS.repetition]: String(run.repetition),
          [LABELS.application]: labelValue(run.cell.application),
          ...(run.cell.variant ? { [LABELS.variant]: labelValue(run.cell.variant) } : {}),
          ...(run.cell.model ? { [LABELS.model]: labelValue(run.cell.model) } : {}),
        },
        ownerReferences: [{ ...controllerReference(experiment) }],
      },
      spec: run.spec,
    };
    try {
      await this.deps.client.create(RESOURCES.agentPlans, object);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }

  private setRunning(pass: Pass, reason: string, message: string): void {
    setSucceeded(
      pass.status,
      'Unknown',
      reason,
      message,
      pass.experiment.metadata.generation ?? 0,
      this.now(),
    );
  }

  private finish(pass: Pass, phase: 'Completed' | 'Failed', reason: string, message: string): void {
    const { status, experiment } = pass;
    status.phase = phase;
    status.completionTime = iso(this.now());
    const generation = experiment.metadata.generation ?? 0;
    setSucceeded(status, phase === 'Completed' ? 'True' : 'False', reason, message, generation, this.now());
    pass.events.push({ type: phase === 'Completed' ? 'Normal' : 'Warning', reason, message });
    this.deps.logger.info({ experiment: experiment.metadata.name, phase, reason }, message);
  }

  private async writeStatus(pass: Pass): Promise<void> {
    const { experiment, status } = pass;
    clipMessages(status);
    const changed = await this.statusWriter.write(pass.key, experiment, status, (s) =>
      s.startTime ? { ...s, usage: withElapsed(s.usage, s.startTime, s.completionTime, this.now()) } : s,
    );
    if (changed)
      for (const e of pass.events) await this.deps.events.record(experiment, e.type, e.reason, e.message);
  }
}
