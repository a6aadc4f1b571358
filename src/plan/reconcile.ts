// The AgentPlan reconciler: runs the plan's steps in order as AgentSteps, hands each step what the
// earlier ones produced, and recovers when a step gives up: the first step is simply retried; for a
// later one the manager (a model call) picks the step to go back to and what it must do differently.
// Everything the plan needs to resume after a restart is in its status and its AgentSteps.

import { parseRecovery } from '../agents/manager/recovery.ts';
import type { AgentPlan, AgentPlanStatus } from '../api/agentplan.ts';
import type { AgentStep } from '../api/agentstep.ts';
import { API_VERSION, LABELS, MANAGED_BY } from '../api/names.ts';
import { validateAgentPlan } from '../api/validate.ts';
import { isAlreadyExists, type KubeClient, type KubeObject } from '../kube/client.ts';
import { childName, controllerReference, labelValue, stepObjectName } from '../kube/names.ts';
import { RESOURCES } from '../kube/resources.ts';
import type { Generation, LanguageModel } from '../llm/types.ts';
import { addGeneration, withElapsed } from '../llm/usage.ts';
import { managerPrompt } from '../prompts/manager.ts';
import type { ResultsWriter } from '../results/writer.ts';
import type { EventRecorder, EventType } from '../runtime/events.ts';
import type { Cache } from '../runtime/informer.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Metrics } from '../runtime/metrics.ts';
import type { ReconcileResult } from '../runtime/queue.ts';
import { StatusWriter } from '../runtime/status.ts';
import type { BackgroundTasks } from '../runtime/tasks.ts';
import { clipMessages, setCondition, setSucceeded, UNFIXABLE_BY_MODEL } from '../step/conditions.ts';
import { mergeStepContext } from './context.ts';

export type AgentPlanObject = AgentPlan & KubeObject;
export type AgentStepObject = AgentStep & KubeObject;

/** How often the manager may answer with something unusable, per recovery, before the failed step is simply redone. */
export const MANAGER_ANSWER_TRIES = 3;

export const PLAN_REASON = {
  Running: 'Running',
  Recovering: 'Recovering',
  Succeeded: 'Succeeded',
  InvalidPlan: 'InvalidPlan',
  StepFailed: 'StepFailed',
  ManagerAttemptsExhausted: 'ManagerAttemptsExhausted',
  SpecChanged: 'SpecChanged',
  ModelUnavailable: 'ModelUnavailable',
} as const;

export interface PlanReconcilerDeps {
  client: KubeClient;
  plans: Cache<AgentPlanObject>;
  steps: Cache<AgentStepObject>;
  tasks: BackgroundTasks;
  model: (plan: AgentPlanObject) => Promise<LanguageModel>;
  results: ResultsWriter;
  events: EventRecorder;
  metrics: Metrics;
  logger: Logger;
  now?: () => Date;
}

interface Pass {
  plan: AgentPlanObject;
  key: string;
  status: AgentPlanStatus;
  events: { type: EventType; reason: string; message: string }[];
  consumed: string[];
  requeueAfterMs?: number;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The AgentStep name of a plan step's run: `<plan>-<step>`, then `<plan>-<step>-r2`, ... after recoveries. */
export function stepRunName(plan: string, step: string, run: number): string {
  return run <= 1 ? stepObjectName(plan, step) : childName(plan, `${step}-r${run}`);
}

/** The step phases a plan's status mirrors (see run()). */
const MIRRORED_PHASES: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'AwaitingHuman']);

export class PlanReconciler {
  private readonly deps: PlanReconcilerDeps;
  private readonly statusWriter: StatusWriter;
  constructor(deps: PlanReconcilerDeps) {
    this.deps = deps;
    this.statusWriter = new StatusWriter(deps.client, RESOURCES.agentPlans);
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const [namespace, name] = key.split('/') as [string, string];
    const plan = this.deps.plans.get(namespace, name);
    if (!plan || plan.metadata.deletionTimestamp) {
      // Steps are owned by the plan and their children by the steps: the garbage collector cleans up.
      this.deps.tasks.clear(key);
      this.statusWriter.forget(key);
      return undefined;
    }
    if (this.statusWriter.isStale(key, plan)) return undefined;
    const pass: Pass = { plan, key, status: structuredClone(plan.status ?? {}), events: [], consumed: [] };
    await this.advance(pass);
    // The results document is written with the status that ends the plan, so both land together.
    const { status } = pass;
    if ((status.phase === 'Succeeded' || status.phase === 'Failed') && !status.resultsRef) {
      status.resultsRef = await this.deps.results.write({ ...plan, status }, this.stepsOf(plan));
    }
    await this.writeStatus(pass);
    return pass.requeueAfterMs !== undefined ? { requeueAfterMs: pass.requeueAfterMs } : undefined;
  }

  private async advance(pass: Pass): Promise<void> {
    const { plan, status } = pass;
    if (status.phase === 'Succeeded' || status.phase === 'Failed') return;
    if (!status.phase || status.phase === 'Pending') {
      const valid = validateAgentPlan(plan);
      if (!valid.ok) {
        this.finish(pass, 'Failed', PLAN_REASON.InvalidPlan, `invalid plan: ${valid.errors.join('; ')}`);
        return;
      }
      status.phase = 'Running';
      status.startTime = iso(this.now());
      status.attempts = 0;
      status.observedGeneration = plan.metadata.generation ?? 0;
      status.steps = plan.spec.steps.map((s) => ({ name: s.name, agent: s.agent, runs: 0 }));
      this.setRunning(pass, PLAN_REASON.Running, `Started: ${plan.spec.steps.length} step(s)`);
      pass.events.push({
        type: 'Normal',
        reason: 'Started',
        message: `Started the plan (${plan.spec.steps.map((s) => s.name).join(' → ')})`,
      });
    }
    // The spec is fixed once the plan runs: an edit is reported, not applied (see docs/plans.md).
    if ((plan.metadata.generation ?? 0) !== (status.observedGeneration ?? 0)) {
      const already = status.conditions?.some(
        (c) => c.type === PLAN_REASON.SpecChanged && c.status === 'True',
      );
      if (!already) {
        const message =
          'The plan spec changed while it runs; the change is not applied. Delete the plan and apply it again to run the new spec.';
        status.conditions = setCondition(
          status.conditions,
          { type: PLAN_REASON.SpecChanged, status: 'True', reason: PLAN_REASON.SpecChanged, message },
          this.now(),
        );
        pass.events.push({ type: 'Warning', reason: PLAN_REASON.SpecChanged, message });
      }
    }
    if (status.phase === 'Recovering') {
      await this.recover(pass);
      return;
    }
    await this.run(pass);
  }

  /** Drives the current step: create its AgentStep, follow it, move on or recover. */
  private async run(pass: Pass): Promise<void> {
    const { plan, status } = pass;
    const steps = plan.spec.steps;
    const index = (status.steps ?? []).findIndex((s) => s.phase !== 'Succeeded');
    if (index < 0) {
      this.finish(pass, 'Succeeded', PLAN_REASON.Succeeded, `All ${steps.length} step(s) succeeded`);
      return;
    }
    const summary = status.steps![index]!;
    const spec = steps[index]!;
    status.currentStep = spec.name;
    if (!summary.runs) summary.runs = 1;
    const stepName = stepRunName(plan.metadata.name!, spec.name, summary.runs);
    let step = this.deps.steps.get(plan.metadata.namespace, stepName);
    if (!step) {
      step = await this.createStep(plan, index, summary.runs);
      summary.stepRef = stepName;
      delete summary.phase;
      delete summary.attempt;
      delete summary.message;
      pass.events.push({
        type: 'Normal',
        reason: 'StepCreated',
        message: `Step ${spec.name} started as AgentStep ${stepName}`,
      });
      this.setRunning(pass, PLAN_REASON.Running, `Running step ${spec.name} (${index + 1}/${steps.length})`);
      return;
    }
    summary.stepRef = stepName;
    // The plan shows a step's phase once it ended or waits for a person, as Tekton's PipelineRuns
    // keep only references to their TaskRuns: the phases in between are the AgentStep's to show.
    // Mirrored, every phase change and message of every step was a second write, on the plan.
    const phase = step.status?.phase;
    if (phase && MIRRORED_PHASES.has(phase)) {
      summary.phase = phase;
      summary.attempt = step.status?.attempt ?? 0;
      if (step.status?.message) summary.message = step.status.message.slice(0, 2000);
    } else {
      delete summary.phase;
      delete summary.attempt;
      delete summary.message;
    }
    if (summary.phase === 'Succeeded') {
      pass.events.push({ type: 'Normal', reason: 'StepSucceeded', message: `Step ${spec.name} succeeded` });
      return;
    }
    if (summary.phase !== 'Failed') {
      this.setRunning(
        pass,
        PLAN_REASON.Running,
        summary.phase === 'AwaitingHuman'
          ? `Step ${spec.name} (${index + 1}/${steps.length}) waits for an answer: ${summary.message ?? ''}`
          : `Running step ${spec.name} (${index + 1}/${steps.length})`,
      );
      return;
    }
    // The step gave up.
    pass.events.push({
      type: 'Warning',
      reason: PLAN_REASON.StepFailed,
      message: `Step ${spec.name} failed: ${summary.message ?? ''}`,
    });
    const cause = step.status?.reason;
    if (cause && UNFIXABLE_BY_MODEL.has(cause)) {
      // Recovering would fail the same way, step after step: stop with the cause and its fix.
      this.finish(
        pass,
        'Failed',
        cause,
        `Step ${spec.name} failed for a reason no model can fix (${cause}), so the plan stops without recovery: ${summary.message ?? ''}`,
      );
      return;
    }
    if ((status.attempts ?? 0) >= plan.spec.maxAttempts) {
      this.finish(
        pass,
        'Failed',
        PLAN_REASON.ManagerAttemptsExhausted,
        `Step ${spec.name} failed and the manager used all ${plan.spec.maxAttempts} attempt(s): ${summary.message ?? ''}`,
      );
      return;
    }
    status.phase = 'Recovering';
    this.setRunning(
      pass,
      PLAN_REASON.Recovering,
      `Step ${spec.name} failed; the manager is deciding how to recover`,
    );
  }

  /** The manager decides where to go back to (the first step needs no decision). */
  private async recover(pass: Pass): Promise<void> {
    const { plan, status, key } = pass;
    const steps = plan.spec.steps;
    const failedIndex = (status.steps ?? []).findIndex((s) => s.phase !== 'Succeeded');
    const failed = status.steps![failedIndex]!;
    const failedStep = this.deps.steps.get(plan.metadata.namespace, failed.stepRef ?? '');
    const error = failedStep?.status?.message ?? failed.message ?? 'the step failed';
    const attempt = (status.attempts ?? 0) + 1;
    let restart = 0;
    let taskDescription: string | undefined;
    if (failedIndex > 0) {
      // Each round's answer is kept as a task until the recovery is decided, so a round is asked once.
      let previousAnswerError: string | undefined;
      let choice: ReturnType<typeof parseRecovery> | undefined;
      const rounds: Generation[] = [];
      // The manager may only go back: to the failed step or one before it.
      const candidates = steps.slice(0, failedIndex + 1).map((s) => ({ name: s.name, agent: s.agent }));
      const roundIds: string[] = [];
      for (let round = 1; round <= MANAGER_ANSWER_TRIES; round++) {
        const taskId = `manager-${attempt}-${round}`;
        const prompt = managerPrompt({
          goal: plan.spec.goal,
          steps: steps.slice(0, failedIndex + 1).map((s) => ({
            name: s.name,
            agent: s.agent,
            ...(s.description ? { description: s.description } : {}),
          })),
          failedStep: steps[failedIndex]!.name,
          error,
          recoveries: (status.recoveries ?? []).map((r) => ({
            step: r.restartStep,
            instruction: r.taskDescription ?? '',
          })),
          ...(previousAnswerError ? { previousAnswerError } : {}),
        });
        const task = this.deps.tasks.ensure(key, taskId, () => this.callManager(plan, prompt));
        if (task.state === 'running') return;
        roundIds.push(taskId);
        if (task.state === 'failed') {
          pass.consumed.push(...roundIds);
          this.finish(
            pass,
            'Failed',
            PLAN_REASON.ModelUnavailable,
            `The manager's model call failed: ${(task.error as Error).message}`,
          );
          return;
        }
        rounds.push(task.value);
        choice = parseRecovery(task.value.text, candidates);
        if (choice.ok) break;
        previousAnswerError = choice.error;
      }
      pass.consumed.push(...roundIds);
      for (const generation of rounds) status.usage = addGeneration(status.usage, generation);
      if (choice?.ok) {
        const chosen = choice.choice.step;
        restart = steps.findIndex((s) => s.name === chosen);
        taskDescription = choice.choice.instruction;
      } else {
        // The manager gave no usable answer: redo the failed step, which needs no decision.
        restart = failedIndex;
        taskDescription = `The previous attempt failed with: ${error.slice(0, 500)}. You MUST avoid this error.`;
        pass.events.push({
          type: 'Warning',
          reason: 'ManagerAnswerUnusable',
          message: previousAnswerError ?? 'no usable answer',
        });
      }
    }
    status.attempts = attempt;
    status.recoveries = [
      ...(status.recoveries ?? []),
      {
        attempt,
        failedStep: steps[failedIndex]!.name,
        restartStep: steps[restart]!.name,
        reason: error.slice(0, 4000),
        ...(taskDescription ? { taskDescription: taskDescription.slice(0, 8000) } : {}),
        time: iso(this.now()),
      },
    ].slice(-100);
    // New runs for the chosen step and every later one; the old AgentSteps stay for the record unless
    // the plan asks to delete them.
    for (let i = restart; i < steps.length; i++) {
      const summary = status.steps![i]!;
      if (summary.stepRef && plan.spec.retain?.replacedSteps === 'Delete') {
        await this.deps.client.delete(RESOURCES.agentSteps, plan.metadata.namespace, summary.stepRef);
      }
      // A step that ran before gets a new AgentStep name; one that never ran starts at its first.
      if (summary.runs) summary.runs += 1;
      delete summary.phase;
      delete summary.stepRef;
      delete summary.attempt;
      delete summary.message;
    }
    status.phase = 'Running';
    const message = `Recovery ${attempt}: going back to step ${steps[restart]!.name}${taskDescription ? `: ${taskDescription.slice(0, 300)}` : ''}`;
    this.setRunning(pass, PLAN_REASON.Running, message);
    pass.events.push({ type: 'Normal', reason: 'Recovery', message });
  }

  /** Creates the AgentStep of a plan step's run, with its merged context. */
  private async createStep(plan: AgentPlanObject, index: number, run: number): Promise<AgentStepObject> {
    const spec = plan.spec.steps[index]!;
    const status = plan.status ?? {};
    const earlierOutputs = (status.steps ?? []).slice(0, index).map((s) => {
      const step = s.stepRef ? this.deps.steps.get(plan.metadata.namespace, s.stepRef) : undefined;
      return step?.status?.outputs ?? {};
    });
    const context = mergeStepContext(spec.context as Record<string, unknown> | undefined, earlierOutputs);
    // What earlier recoveries said this step must do and avoid ("you MUST avoid these errors").
    const recoveries = (status.recoveries ?? []).filter((r) => r.restartStep === spec.name);
    if (recoveries.length > 0) {
      context['instruction'] = recoveries.at(-1)!.taskDescription ?? '';
      context['avoid'] = (status.recoveries ?? []).map((r) => `${r.failedStep}: ${r.reason.slice(0, 300)}`);
    }
    const name = stepRunName(plan.metadata.name!, spec.name, run);
    const object: AgentStepObject = {
      apiVersion: API_VERSION,
      kind: 'AgentStep',
      metadata: {
        name,
        namespace: plan.metadata.namespace!,
        labels: {
          [LABELS.managedBy]: MANAGED_BY,
          [LABELS.plan]: labelValue(plan.metadata.name!),
          [LABELS.agent]: spec.agent,
        },
        ownerReferences: [{ ...controllerReference(plan) }],
      },
      spec: {
        agent: spec.agent,
        ...(spec.description ? { description: spec.description } : {}),
        context,
        ...(spec.maxAttempts ? { maxAttempts: spec.maxAttempts } : {}),
        useCache: plan.spec.useCache,
        planRef: { name: plan.metadata.name!, step: spec.name, index, managerAttempt: status.attempts ?? 0 },
        ...(plan.spec.model ? { model: plan.spec.model } : {}),
        ...(plan.spec.results ? { results: plan.spec.results } : {}),
        ...(plan.spec.retain?.failedAttempts !== undefined
          ? { retain: { failedAttempts: plan.spec.retain.failedAttempts } }
          : {}),
      },
    };
    try {
      return await this.deps.client.create(RESOURCES.agentSteps, object);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      return await this.deps.client.get<AgentStepObject>(RESOURCES.agentSteps, plan.metadata.namespace, name);
    }
  }

  private stepsOf(plan: AgentPlanObject): AgentStepObject[] {
    return this.deps.steps.list(
      (s) => s.metadata.namespace === plan.metadata.namespace && s.spec.planRef?.name === plan.metadata.name,
    );
  }

  private async callManager(plan: AgentPlanObject, prompt: string): Promise<Generation> {
    const model = await this.deps.model(plan);
    const started = performance.now();
    try {
      const generation = await model.generate({ prompt, agent: 'manager', seed: plan.metadata.name });
      this.deps.metrics.recordModelCall(
        model.provider,
        'manager',
        'ok',
        (performance.now() - started) / 1000,
        generation.usage,
      );
      return generation;
    } catch (error) {
      this.deps.metrics.recordModelCall(
        model.provider,
        'manager',
        'error',
        (performance.now() - started) / 1000,
      );
      throw error;
    }
  }

  private setRunning(pass: Pass, reason: string, message: string): void {
    setSucceeded(pass.status, 'Unknown', reason, message, pass.plan.metadata.generation ?? 0, this.now());
  }

  private finish(pass: Pass, phase: 'Succeeded' | 'Failed', reason: string, message: string): void {
    const { status, plan } = pass;
    status.phase = phase;
    status.completionTime = iso(this.now());
    const generation = plan.metadata.generation ?? 0;
    setSucceeded(status, phase === 'Succeeded' ? 'True' : 'False', reason, message, generation, this.now());
    pass.events.push({ type: phase === 'Succeeded' ? 'Normal' : 'Warning', reason, message });
    this.deps.logger.info({ plan: plan.metadata.name, phase, reason }, message);
  }

  private async writeStatus(pass: Pass): Promise<void> {
    const { plan, status } = pass;
    // The CRD bounds the message (src/api/agentplan.ts); an invalid plan's errors can be longer.
    clipMessages(status);
    const changed = await this.statusWriter.write(pass.key, plan, status, (s) =>
      s.startTime ? { ...s, usage: withElapsed(s.usage, s.startTime, s.completionTime, this.now()) } : s,
    );
    for (const id of pass.consumed) this.deps.tasks.clear(pass.key, id);
    if (changed)
      for (const e of pass.events) await this.deps.events.record(plan, e.type, e.reason, e.message);
  }
}
