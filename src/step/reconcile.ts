// The AgentStep reconciler: one attempt loop for every agent, persisted in status so a restart at any
// point resumes where it was. Each pass reads the step from the cache, decides from its phase and the
// world (its Job, pods, MiniCluster, the attempt's ConfigMap), acts idempotently (children have
// deterministic names; AlreadyExists on our own child is success), and writes status once at the end.
//
//   Pending → Generating → Building | Deploying → Running | Validating → Succeeded
//                 ↑                         │ failure
//                 └──── Diagnosing ◀────────┘ (debug advice; AwaitingHuman; Failed when attempts run out)

import { parseDebugAdvice } from '../agents/parse.ts';
import {
  type AgentStep,
  type AgentStepStatus,
  type HistoryEntry,
  type StepPhase,
  TERMINAL_STEP_PHASES,
} from '../api/agentstep.ts';
import { parseContext } from '../api/context.ts';
import { ANNOTATIONS, LABELS } from '../api/names.ts';
import { type ContextCache, cacheName } from '../cache/cache.ts';
import { ApiError, isAlreadyExists, type KubeClient, type KubeObject } from '../kube/client.ts';
import { attemptName, controllerReference, stepLabels } from '../kube/names.ts';
import { RESOURCES } from '../kube/resources.ts';
import type { ConversationStore } from '../llm/history.ts';
import { describeWait } from '../llm/limiter.ts';
import { type Generation, isModelError, type LanguageModel } from '../llm/types.ts';
import { addGeneration, emptyUsage, withElapsed } from '../llm/usage.ts';
import { debugPrompt } from '../prompts/debug.ts';
import type { EventRecorder, EventType } from '../runtime/events.ts';
import type { Cache } from '../runtime/informer.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Metrics } from '../runtime/metrics.ts';
import type { ReconcileResult } from '../runtime/queue.ts';
import { StatusWriter } from '../runtime/status.ts';
import type { BackgroundTasks, TaskContext, TaskState } from '../runtime/tasks.ts';
import type { ConfigMap } from './attempts.ts';
import { AttemptConfigMaps } from './attempts.ts';
import { CONDITION, clip, REASON, setCondition } from './conditions.ts';
import type {
  Acceptance,
  AgentDriver,
  AgentSettings,
  AttemptInput,
  ClusterFacts,
  IterationDecision,
  TrialKind,
} from './driver.ts';
import { cachedObject, observeTrial, type TrialObservation, type TrialWorld, trialPhase } from './trials.ts';

export type AgentStepObject = AgentStep & KubeObject;

/** Keys of the attempt ConfigMap `<step>-<attempt>`: the accepted artifact and, after a failure, its diagnosis. */
export const ATTEMPT_KEYS = {
  artifact: 'artifact',
  diagnostics: 'diagnostics',
  log: 'log',
  changes: 'changes',
  /** A model answer, saved the moment it arrives (before any worker picks it up), so a restart reuses it. */
  generateAnswer: 'answer.generate',
  debugAnswer: 'answer.debug',
} as const;
const HISTORY_LIMIT = 50;
/**
 * The most of a refused answer kept in the attempt's ConfigMap (and shown in the next prompt): far more
 * than any hand-written artifact, far less than the 1 MiB a ConfigMap may hold.
 */
export const STORED_ANSWER_BYTES = 32 * 1024;

/** A refused answer as stored: whole when small, else its beginning and how much was cut. */
export function storedAnswer(text: string): string {
  const bytes = Buffer.byteLength(text);
  if (bytes <= STORED_ANSWER_BYTES) return text;
  const kept = Buffer.from(text)
    .subarray(0, STORED_ANSWER_BYTES)
    .toString()
    .replace(/\uFFFD$/, '');
  return `${kept}\n… (cut: the answer was ${bytes} bytes)`;
}
const MINICLUSTER_MISSING =
  'the MiniCluster CRD (flux-framework.org/v1alpha2) is not installed: install the Flux Operator first ' +
  '(kubectl apply -f https://raw.githubusercontent.com/flux-framework/flux-operator/main/examples/dist/flux-operator.yaml), then recreate this step';
const MODEL_RETRY_MS = 30_000;

export interface StepReconcilerDeps {
  client: KubeClient;
  steps: Cache<AgentStepObject>;
  world: TrialWorld;
  tasks: BackgroundTasks;
  /** The model for a step (its spec.model, else the operator's). */
  model: (step: AgentStepObject) => Promise<LanguageModel>;
  drivers: Record<string, AgentDriver>;
  settings: AgentSettings & { defaultMaxAttempts: number; failedAttemptsToKeep?: number };
  events: EventRecorder;
  metrics: Metrics;
  logger: Logger;
  cache: ContextCache;
  /** Where each step's conversation with the model is kept, so a restart loses nothing it was told. */
  conversations?: ConversationStore;
  clusterFacts: (agent: string) => Promise<ClusterFacts>;
  now?: () => Date;
}

/** What a pass decided: the new status and what to announce once it is written. */
interface Pass {
  step: AgentStepObject;
  key: string;
  status: AgentStepStatus;
  events: { type: EventType; reason: string; message: string }[];
  /** Background tasks whose results this pass consumed: forgotten once status is written. */
  consumed: string[];
  requeueAfterMs?: number;
}

interface PreparedTrial {
  input: AttemptInput;
  accepted: Extract<Acceptance, { ok: true }>;
  /** The trial's objects were created (or found) once already. */
  ensured: boolean;
}

/** Phases in which an attempt's objects run; in every other phase the last attempt is over. */
const TRIAL_PHASES = new Set(['Building', 'Deploying', 'Running', 'Validating']);

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export class StepReconciler {
  private readonly deps: StepReconcilerDeps;
  private readonly statusWriter: StatusWriter;
  /** Each running trial's input and accepted artifact (see prepareTrial). */
  private readonly trials = new Map<string, { memoKey: string; prepared: PreparedTrial }>();
  /** The attempt ConfigMaps of the steps in progress, read once and then known from our writes. */
  private readonly attempts: AttemptConfigMaps;
  constructor(deps: StepReconcilerDeps) {
    this.deps = deps;
    this.statusWriter = new StatusWriter(deps.client, RESOURCES.agentSteps);
    this.attempts = new AttemptConfigMaps(deps.client);
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** How the driver's artifacts are tried with this operator's settings. */
  private trialOf(driver: AgentDriver): TrialKind {
    return typeof driver.trial === 'function' ? driver.trial(this.deps.settings) : driver.trial;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const [namespace, name] = key.split('/') as [string, string];
    const step = this.deps.steps.get(namespace, name);
    // Gone or going: children are owned by the step, so the garbage collector removes them.
    if (!step || step.metadata.deletionTimestamp) {
      this.deps.tasks.clear(key);
      this.statusWriter.forget(key);
      this.forgetTrials(key);
      this.attempts.forget(namespace, name);
      this.deps.conversations?.forget({ namespace, step: name });
      return undefined;
    }
    if (this.statusWriter.isStale(key, step)) return undefined;
    const pass: Pass = { step, key, status: structuredClone(step.status ?? {}), events: [], consumed: [] };
    const driver = this.deps.drivers[step.spec.agent];
    if (!driver) {
      this.fail(
        pass,
        REASON.InvalidContext,
        `no agent named ${step.spec.agent} is installed in this operator`,
      );
    } else {
      await this.advance(pass, driver);
    }
    await this.writeStatus(pass);
    return pass.requeueAfterMs !== undefined ? { requeueAfterMs: pass.requeueAfterMs } : undefined;
  }

  private async advance(pass: Pass, driver: AgentDriver): Promise<void> {
    const phase = pass.status.phase ?? 'Pending';
    // While Generating, the attempt's trial has not started, or was started by this attempt's own
    // accepted answer (in the pass that accepted it, whose status write may have failed): it must run.
    if (!TRIAL_PHASES.has(phase) && phase !== 'Generating')
      await this.stopFinishedTrial(pass.step, pass.status, driver);
    switch (phase) {
      case 'Pending':
        return this.start(pass);
      case 'Generating':
        await this.generate(pass, driver);
        // An accepted artifact's objects are created in the same pass: left to the next one, they cost
        // a status write and a reconcile per attempt. The artifact is stored first, so a restart in
        // between loses nothing.
        if (TRIAL_PHASES.has(pass.status.phase ?? '')) await this.trial(pass, driver);
        return;
      case 'Building':
      case 'Deploying':
      case 'Running':
      case 'Validating':
        return this.trial(pass, driver);
      case 'Diagnosing':
        return this.diagnose(pass, driver);
      case 'AwaitingHuman':
        return this.awaitHuman(pass);
      case 'Succeeded':
      case 'Failed':
        // Finished: nothing runs; what cleanupAttempts kept stays for inspection. Forget stale tasks.
        this.deps.tasks.clear(pass.key);
        this.forgetTrials(pass.key);
        this.attempts.forget(pass.step.metadata.namespace!, pass.step.metadata.name!);
        this.deps.conversations?.forget({
          namespace: pass.step.metadata.namespace!,
          step: pass.step.metadata.name!,
        });
        return;
    }
  }

  // ---- Pending: validate, resolve limits, try the cache -----------------------------------------

  private async start(pass: Pass): Promise<void> {
    const { step, status } = pass;
    const context = parseContext(step.spec.agent, step.spec.context, { path: 'spec.context' });
    status.startTime ??= iso(this.now());
    status.usage ??= emptyUsage();
    if (!context.ok) {
      this.fail(pass, REASON.InvalidContext, `invalid context: ${context.errors.join('; ')}`);
      return;
    }
    const ctx = context.context as Record<string, unknown>;
    const driver = this.deps.drivers[step.spec.agent]!;
    const problem = driver.preflight?.(await this.attemptInput(step, 1));
    if (problem) {
      this.fail(pass, REASON.InvalidContext, problem);
      return;
    }
    // Before any model call: a MiniCluster cannot run where the Flux Operator is not installed.
    if (this.trialOf(driver) === 'minicluster' && !(await this.deps.world.miniClusterInstalled())) {
      this.fail(pass, REASON.MiniClusterUnavailable, MINICLUSTER_MISSING);
      return;
    }
    status.maxAttempts = driver.iteration
      ? driver.iteration.maxAttempts(await this.attemptInput(step, 1))
      : (step.spec.maxAttempts ??
        (ctx['maxAttempts'] as number | undefined) ??
        this.deps.settings.defaultMaxAttempts);
    if (step.spec.useCache) {
      const cached = await this.deps.cache.load(step.metadata.namespace!, step.spec.agent, ctx);
      if (cached) {
        status.cache = 'Hit';
        status.cacheRef = cacheName(step.spec.agent, ctx);
        status.outputs = cached.outputs;
        this.setResult(status, cached.result);
        status.attempt = 0;
        this.succeed(pass, REASON.CacheHit, `Loaded from the cache (saved by ${cached.source})`);
        return;
      }
      status.cache = 'Miss';
    } else status.cache = 'Disabled';
    status.attempt = 1;
    // A step that starts has no attempt ConfigMap nor conversation yet: no need to look for them.
    this.attempts.markAbsent(step.metadata.namespace!, attemptName(step.metadata.name!, 1));
    this.deps.conversations?.markNew({ namespace: step.metadata.namespace!, step: step.metadata.name! });
    status.attemptStartTime = iso(this.now());
    this.toPhase(pass, 'Generating', REASON.Generating, 'Asking the model for attempt 1');
    pass.events.push({
      type: 'Normal',
      reason: 'Started',
      message: `Started ${step.spec.agent} (at most ${status.maxAttempts} attempts)`,
    });
  }

  // ---- Generating: one model call per attempt, then accept (parse, validate, policy) --------------

  private async generate(pass: Pass, driver: AgentDriver): Promise<void> {
    const { key, status, step } = pass;
    const attempt = status.attempt ?? 1;
    const taskId = `generate-${attempt}`;
    let task = this.deps.tasks.get<{ answer: Generation; input: AttemptInput }>(key, taskId);
    if (!task) {
      // After a restart the answer may already have been accepted and stored: never ask twice.
      const stored = await this.attemptConfigMap(step, attempt);
      if (stored?.data?.[ATTEMPT_KEYS.artifact] !== undefined) {
        this.toPhase(
          pass,
          trialPhase(this.trialOf(driver), 'start'),
          trialReason(this.trialOf(driver)),
          `Trying attempt ${attempt}`,
        );
        return;
      }
      const input = await this.attemptInput(step, attempt);
      if (driver.iteration && attempt === 1) {
        await this.tryAsGiven(pass, driver, input);
        return;
      }
      const saved = savedGeneration(stored?.data?.[ATTEMPT_KEYS.generateAnswer]);
      task = saved
        ? { state: 'done', value: { answer: saved, input }, startedAt: 0, endedAt: 0 }
        : this.deps.tasks.ensure(key, taskId, async (task) => {
            const answer = await this.callModel(step, driver.agent, driver.prompt(input), task);
            await this.saveAnswer(step, attempt, ATTEMPT_KEYS.generateAnswer, {
              id: taskId,
              agent: driver.agent,
              generation: answer,
            });
            return { answer, input };
          });
    }
    if (task.state === 'running') {
      // Queued behind other calls of the provider: say so, once (the note is set when the call is
      // queued and not updated as the queue moves); the answer replaces the message.
      if (task.note) status.message = task.note;
      return;
    }
    pass.consumed.push(taskId);
    if (task.state === 'failed') {
      this.modelFailed(pass, task.error, `the ${driver.agent} agent's model call`);
      return;
    }
    const { answer, input } = task.value;
    status.usage = addGeneration(status.usage, answer);
    const accepted = driver.accept(answer.text, input);
    if (!accepted.ok && accepted.stop && driver.iteration) {
      await this.saveAttempt(
        step,
        attempt,
        { [ATTEMPT_KEYS.artifact]: storedAnswer(answer.text) },
        { id: taskId, agent: driver.agent, generation: answer },
      );
      await this.endIteration(pass, driver, driver.iteration.stopped(input, accepted.error));
      return;
    }
    if (!accepted.ok) {
      // The model's answer could not be used: that is the attempt's error, explained to the model next time.
      await this.saveAttempt(
        step,
        attempt,
        { [ATTEMPT_KEYS.artifact]: storedAnswer(answer.text), [ATTEMPT_KEYS.diagnostics]: accepted.error },
        { id: taskId, agent: driver.agent, generation: answer },
      );
      await this.endAttempt(pass, driver, accepted.reason, accepted.error, undefined);
      return;
    }
    await this.saveAttempt(
      step,
      attempt,
      {
        // The trial's ConfigMap is this attempt's (a Dockerfile, a script): its keys go in this write.
        ...trialConfigMapData(accepted.objects, attemptName(step.metadata.name!, attempt)),
        [ATTEMPT_KEYS.artifact]: accepted.artifact,
        ...(accepted.changes?.length ? { [ATTEMPT_KEYS.changes]: accepted.changes.join('\n') } : {}),
      },
      { id: taskId, agent: driver.agent, generation: answer },
    );
    // The objects to create are rebuilt from the stored artifact in the next phase, so a restart
    // between here and their creation loses nothing.
    this.toPhase(
      pass,
      trialPhase(this.trialOf(driver), 'start'),
      trialReason(this.trialOf(driver)),
      `Trying attempt ${attempt}`,
    );
  }

  // ---- Building / Deploying / Running / Validating: create the trial's objects, watch them -------

  /**
   * The attempt's input and accepted artifact, from the attempt's ConfigMap. A trial is reconciled on
   * every change of its Job and pods, so they are kept per attempt instead of read and checked again.
   */
  private async prepareTrial(
    pass: Pass,
    driver: AgentDriver,
    attempt: number,
  ): Promise<PreparedTrial | undefined> {
    const { step } = pass;
    const memoKey = `${pass.key}#${step.metadata.uid}#${attempt}`;
    const known = this.trials.get(pass.key);
    if (known?.memoKey === memoKey) return known.prepared;
    const stored = await this.attemptConfigMap(step, attempt);
    const artifact = stored?.data?.[ATTEMPT_KEYS.artifact];
    if (artifact === undefined) {
      // The stored artifact is gone (deleted by hand): ask again rather than guess.
      this.toPhase(
        pass,
        'Generating',
        REASON.Generating,
        `The artifact of attempt ${attempt} is missing; asking again`,
      );
      return undefined;
    }
    const input = await this.attemptInput(step, attempt);
    // The stored artifact is the accepted text; the driver accepts it again as if the model had answered it.
    const accepted = driver.accept(artifact, input);
    if (!accepted.ok) {
      await this.endAttempt(pass, driver, accepted.reason, accepted.error, undefined);
      return undefined;
    }
    this.forgetTrials(pass.key);
    const prepared: PreparedTrial = { input, accepted, ensured: false };
    this.trials.set(pass.key, { memoKey, prepared });
    return prepared;
  }

  private async trial(pass: Pass, driver: AgentDriver): Promise<void> {
    const { step, status } = pass;
    const attempt = status.attempt ?? 1;
    const prepared = await this.prepareTrial(pass, driver, attempt);
    if (!prepared) return;
    const { input, accepted } = prepared;
    if (this.trialOf(driver) === 'inline') {
      const success = driver.succeed(accepted.artifact, input, '');
      await this.finishSuccess(pass, driver, success, input);
      return;
    }
    // ConfigMaps are written once per attempt; Jobs and MiniClusters are checked against the caches on
    // every pass, so one deleted by hand is made again.
    for (const object of accepted.objects) {
      if (prepared.ensured && object.kind === 'ConfigMap') continue;
      try {
        await this.ensureObject(object);
      } catch (error) {
        // The API server checks more than the schema the policy holds a manifest to (label syntax,
        // names, resource names): its refusal of what the model wrote is the attempt's error, as a
        // policy refusal is. Rethrown, it failed every pass and the step stayed Deploying for good.
        if (!(error instanceof ApiError && (error.code === 422 || error.code === 400))) throw error;
        const message = clip(`The API server refused the ${object.kind}: ${error.message}`, 1800);
        await this.endAttempt(pass, driver, REASON.InvalidArtifact, message, undefined);
        return;
      }
    }
    prepared.ensured = true;
    status.activeResource = `${accepted.objects.at(-1)!.kind}/${input.objectName}`;
    // The step's model is resolved (and cached) before its pods' logs are read, so the key it uses is
    // known to the redaction even when a restarted operator has asked no model anything yet. A model
    // that cannot be resolved fails the next call, where it is reported.
    await this.deps.model(step).catch(() => undefined);
    const observed: TrialObservation = await observeTrial(this.deps.world, {
      trial: this.trialOf(driver),
      namespace: step.metadata.namespace!,
      name: input.objectName,
      startedAt: Date.parse(status.attemptStartTime ?? status.startTime ?? iso(this.now())),
      now: this.now().getTime(),
      maxRuntimeSeconds: input.maxRuntimeSeconds,
      // A step may give its failures a budget of its own (context.logBudget), else the operator's.
      logBudgetTokens:
        (input.context['logBudget'] as number | undefined) ?? this.deps.settings.logBudgetTokens,
    });
    if (observed.state === 'pending' || observed.state === 'running') {
      const next = trialPhase(this.trialOf(driver), observed.state);
      // Within an attempt the phase only moves forward: a Job whose pod is replaced (a retry within
      // its backoffLimit) stays Running.
      const backwards = status.phase === 'Running' && next === 'Deploying';
      if (next !== status.phase && !backwards)
        this.toPhase(pass, next, trialReason(this.trialOf(driver)), observed.message);
      pass.requeueAfterMs = observed.recheckAfterMs;
      return;
    }
    if (observed.state === 'succeeded') {
      await this.saveAttempt(step, attempt, { [ATTEMPT_KEYS.log]: observed.log });
      // The MiniCluster is deleted by stopFinishedTrial once this status is written: deleted before,
      // a failed status write would leave the attempt running with its MiniCluster gone, and the next
      // pass would create it again.
      if (driver.iteration) {
        await this.iterate(
          pass,
          driver,
          driver.iteration.succeeded(input, accepted.artifact, observed.log, this.now()),
        );
        return;
      }
      await this.finishSuccess(pass, driver, driver.succeed(accepted.artifact, input, observed.log), input);
      return;
    }
    if (observed.state !== 'failed') return;
    if (observed.reason === REASON.BuilderUnavailable) {
      this.fail(
        pass,
        REASON.BuilderUnavailable,
        `${observed.summary}. ${observed.hint ?? "Check the operator's --kaniko-image (FRACTALE_KANIKO_IMAGE) and that the nodes can pull it"}.`,
      );
      return;
    }
    await this.saveAttempt(step, attempt, {
      [ATTEMPT_KEYS.diagnostics]: observed.diagnostics,
      [ATTEMPT_KEYS.log]: observed.log,
    });
    // The trial's objects are stopped by stopFinishedTrial, after this status is written.
    status.message = `Attempt ${attempt} failed: ${observed.summary}`;
    status.reason = observed.reason;
    this.toPhase(pass, 'Diagnosing', REASON.Diagnosing, status.message);
    pass.events.push({ type: 'Warning', reason: observed.reason, message: status.message });
  }

  // ---- Diagnosing: the debug agent turns diagnostics into advice for the next attempt ------------

  private async diagnose(pass: Pass, driver: AgentDriver): Promise<void> {
    const { key, status, step } = pass;
    const attempt = status.attempt ?? 1;
    const reason = status.reason ?? REASON.RunFailed;
    const stored = await this.attemptConfigMap(step, attempt);
    // The attempt's failure, without the note of a debug call waiting for its turn.
    const failure = withoutWait(status.message);
    const diagnostics = stored?.data?.[ATTEMPT_KEYS.diagnostics] ?? failure ?? 'the attempt failed';
    // When no attempt is left, advice would be read by no one: spend no tokens on it.
    if (attempt >= (status.maxAttempts ?? 1)) {
      await this.endAttempt(pass, driver, reason, firstLine(failure ?? diagnostics), undefined);
      return;
    }
    const taskId = `debug-${attempt}`;
    const input = await this.attemptInput(step, attempt);
    const ctx = input.context;
    const allowManager = Boolean(step.spec.planRef) && ctx['allowReturnToManager'] !== false;
    const allowHuman = ctx['allowReturnToHuman'] === true;
    const saved = savedGeneration(stored?.data?.[ATTEMPT_KEYS.debugAnswer]);
    const task: TaskState<Generation> = saved
      ? { state: 'done', value: saved, startedAt: 0, endedAt: 0 }
      : this.deps.tasks.ensure(key, taskId, async (task) => {
          const answer = await this.callModel(
            step,
            'debug',
            debugPrompt({
              artifactKind: driver.debug.artifactKind,
              artifactLanguage: driver.debug.artifactLanguage,
              artifact: stored?.data?.[ATTEMPT_KEYS.artifact] ?? '',
              error: diagnostics,
              rules: driver.debug.rules,
              fixed: driver.fixedContext(input),
              ...(typeof ctx['details'] === 'string' ? { details: ctx['details'] } : {}),
              allowReturnToManager: allowManager,
              allowReturnToHuman: allowHuman,
            }),
            task,
          );
          await this.saveAnswer(step, attempt, ATTEMPT_KEYS.debugAnswer, {
            id: taskId,
            agent: 'debug',
            generation: answer,
          });
          return answer;
        });
    if (task.state === 'running') {
      // Before the failure, which the next pass reads back (withoutWait) for the history.
      if (task.note) status.message = failure ? `${task.note}${WAIT_SEPARATOR}${failure}` : task.note;
      return;
    }
    pass.consumed.push(taskId);
    if (task.state === 'failed') {
      this.modelFailed(pass, task.error, "the debug agent's model call");
      return;
    }
    status.usage = addGeneration(status.usage, task.value);
    await this.saveAttempt(step, attempt, {}, { id: taskId, agent: 'debug', generation: task.value });
    const advice = parseDebugAdvice(task.value.text, {
      allowReturnToManager: allowManager,
      allowReturnToHuman: allowHuman,
    });
    status.advice = advice.advice;
    if (advice.returnToManager) {
      this.recordHistory(pass, 'Failed', REASON.ReturnedToManager, firstLine(failure ?? diagnostics));
      this.fail(
        pass,
        REASON.ReturnedToManager,
        `Returned to the plan's manager: ${firstLine(advice.advice)}`,
      );
      return;
    }
    if (advice.returnToHuman) {
      this.recordHistory(pass, 'Failed', reason, firstLine(failure ?? diagnostics), { askedHuman: true });
      status.question = advice.question ?? advice.advice;
      await this.clearAnswer(step);
      this.toPhase(
        pass,
        'AwaitingHuman',
        REASON.AwaitingHuman,
        `Waiting for an answer: kubectl annotate agentstep ${step.metadata.name} ${ANNOTATIONS.answer}="..."`,
      );
      pass.events.push({ type: 'Warning', reason: REASON.AwaitingHuman, message: status.question });
      return;
    }
    await this.endAttempt(pass, driver, reason, firstLine(failure ?? diagnostics), advice.advice);
  }

  // ---- AwaitingHuman: the answer arrives as an annotation ----------------------------------------

  private async awaitHuman(pass: Pass): Promise<void> {
    const { step, status } = pass;
    const answer = step.metadata.annotations?.[ANNOTATIONS.answer];
    if (!answer) return;
    status.advice = `A person answered the question "${status.question ?? ''}": ${answer}`;
    delete status.question;
    this.nextAttempt(pass, 'Received an answer from a person');
    pass.events.push({ type: 'Normal', reason: 'Answered', message: 'Continuing with the answer' });
  }

  // ---- Attempt bookkeeping ------------------------------------------------------------------------

  private forgetTrials(key: string): void {
    this.trials.delete(key);
  }

  /** Ends the current attempt with an error: the next attempt, or Failed when none is left. */
  private async endAttempt(
    pass: Pass,
    driver: AgentDriver,
    reason: string,
    error: string,
    advice: string | undefined,
  ): Promise<void> {
    const { status, step } = pass;
    const attempt = status.attempt ?? 1;
    this.recordHistory(pass, status.phase ?? 'Generating', reason, error);
    await this.cleanupAttempts(step, attempt, driver, false);
    if (driver.iteration) {
      const input = await this.attemptInput(step, attempt);
      const stored = (await this.attemptConfigMap(step, attempt))?.data?.[ATTEMPT_KEYS.artifact];
      const decision = driver.iteration.failed(input, reason, error, this.now(), stored);
      if (decision.continue && attempt < (status.maxAttempts ?? 1)) {
        status.optimization = decision.state;
        status.advice = advice;
        if (advice === undefined) delete status.advice;
        this.nextAttempt(pass, decision.message);
        return;
      }
      await this.endIteration(pass, driver, decision);
      return;
    }
    if (attempt >= (status.maxAttempts ?? 1)) {
      this.fail(
        pass,
        REASON.AttemptsExhausted,
        `Failed after ${attempt} attempt${attempt === 1 ? '' : 's'}; last error: ${error}`,
      );
      return;
    }
    status.advice = advice;
    if (advice === undefined) delete status.advice;
    status.message = error;
    this.nextAttempt(pass, `Attempt ${attempt} failed (${reason}); retrying`);
  }

  private nextAttempt(pass: Pass, message: string): void {
    const { status } = pass;
    status.attempt = (status.attempt ?? 1) + 1;
    status.attemptStartTime = iso(this.now());
    this.attempts.markAbsent(
      pass.step.metadata.namespace!,
      attemptName(pass.step.metadata.name!, status.attempt),
    );
    delete status.activeResource;
    this.toPhase(pass, 'Generating', REASON.Retrying, message);
    pass.events.push({
      type: 'Normal',
      reason: REASON.Retrying,
      message: `${message}: attempt ${status.attempt}`,
    });
  }

  private recordHistory(
    pass: Pass,
    phase: StepPhase,
    reason: string,
    message: string,
    extra: Pick<HistoryEntry, 'askedHuman'> = {},
  ): void {
    const { status } = pass;
    const attempt = status.attempt ?? 1;
    const history = status.history ?? [];
    if (history.some((h) => h.attempt === attempt)) return;
    const started = status.attemptStartTime ?? status.startTime ?? iso(this.now());
    const tokensSoFar = history.reduce((sum, h) => sum + (h.tokens ?? 0), 0);
    const callsSoFar = history.reduce((sum, h) => sum + (h.modelCalls ?? 0), 0);
    const entry: HistoryEntry = {
      attempt,
      phase,
      outcome: phase === 'Succeeded' ? 'Succeeded' : 'Failed',
      reason,
      message: message.slice(0, 2000),
      startTime: started,
      seconds: Math.max(0, (this.now().getTime() - Date.parse(started)) / 1000),
      tokens: Math.max(0, (status.usage?.totalTokens ?? 0) - tokensSoFar),
      modelCalls: Math.max(0, (status.usage?.modelCalls ?? 0) - callsSoFar),
      ...(status.activeResource ? { resource: status.activeResource } : {}),
      ...extra,
    };
    this.closeStage(status);
    if (status.stageSeconds && Object.keys(status.stageSeconds).length > 0)
      entry.stages = status.stageSeconds;
    // The next attempt's stages start with its first phase (toPhase), not with this bookkeeping.
    delete status.stageSeconds;
    delete status.phaseStartTime;
    status.history = [...history, entry].slice(-HISTORY_LIMIT);
  }

  // ---- Iterating agents (optimize): a trial that works is judged, and the step goes on ----------

  /** The first attempt of an iterating agent: the artifact the context gives, tried without the model. */
  private async tryAsGiven(pass: Pass, driver: AgentDriver, input: AttemptInput): Promise<void> {
    const { step } = pass;
    const accepted = driver.accept(driver.iteration!.initialArtifact(input), input);
    if (!accepted.ok) {
      this.fail(pass, REASON.InvalidContext, `the starting artifact is refused: ${accepted.error}`);
      return;
    }
    await this.saveAttempt(step, 1, {
      ...trialConfigMapData(accepted.objects, attemptName(step.metadata.name!, 1)),
      [ATTEMPT_KEYS.artifact]: accepted.artifact,
    });
    this.toPhase(
      pass,
      trialPhase(this.trialOf(driver), 'start'),
      trialReason(this.trialOf(driver)),
      'Trying the starting artifact as it is (the baseline)',
    );
  }

  /** A trial ran: record it as the agent judged it, then the next attempt or the end. */
  private async iterate(pass: Pass, driver: AgentDriver, decision: IterationDecision): Promise<void> {
    const { status, step } = pass;
    const attempt = status.attempt ?? 1;
    status.optimization = decision.state;
    if (decision.failedReason) this.recordHistory(pass, 'Running', decision.failedReason, decision.message);
    else this.recordHistory(pass, 'Succeeded', REASON.Succeeded, decision.message);
    await this.cleanupAttempts(step, attempt, driver, true);
    pass.events.push({ type: 'Normal', reason: 'TrialMeasured', message: decision.message });
    if (decision.continue && attempt < (status.maxAttempts ?? 1)) {
      delete status.advice;
      this.nextAttempt(pass, decision.message);
      return;
    }
    await this.endIteration(pass, driver, decision);
  }

  /** Ends an iterating step: Succeeded with the best artifact, or Failed when there is none. */
  private async endIteration(pass: Pass, driver: AgentDriver, decision: IterationDecision): Promise<void> {
    const { status, step } = pass;
    status.optimization = { ...decision.state, stopReason: decision.message.slice(0, 1000) };
    const best = status.optimization.bestAttempt;
    const artifact = best
      ? (await this.attemptConfigMap(step, best))?.data?.[ATTEMPT_KEYS.artifact]
      : undefined;
    const success = driver.iteration!.finish(status.optimization, artifact);
    if (!success) {
      this.fail(pass, decision.reason ?? REASON.AttemptsExhausted, decision.message);
      return;
    }
    status.outputs = success.outputs;
    this.setResult(status, success.result);
    this.succeed(pass, decision.reason ?? REASON.Succeeded, decision.message);
  }

  private async finishSuccess(
    pass: Pass,
    driver: AgentDriver,
    success: { result: string; outputs: Record<string, string> },
    input: AttemptInput,
  ): Promise<void> {
    const { status, step } = pass;
    status.outputs = success.outputs;
    this.setResult(status, success.result);
    this.recordHistory(pass, 'Succeeded', REASON.Succeeded, `Attempt ${status.attempt} succeeded`);
    if (step.spec.useCache) {
      status.cacheRef = await this.deps.cache.save(step.metadata.namespace!, {
        agent: step.spec.agent,
        context: input.context,
        outputs: success.outputs,
        result: success.result,
        source: `${step.metadata.namespace}/${step.metadata.name}`,
      });
      status.cache = 'Saved';
    }
    await this.cleanupAttempts(step, status.attempt ?? 1, driver, true);
    this.succeed(pass, REASON.Succeeded, `Succeeded on attempt ${status.attempt}`);
  }

  private setResult(status: AgentStepStatus, result: string): void {
    status.result = result.length > 16_000 ? `…${result.slice(-16_000)}` : result;
  }

  // ---- Phase and condition helpers ------------------------------------------------------------------

  /**
   * Adds the time since the current phase started to the attempt's seconds in that phase: the time
   * per stage a researcher compares across attempts (generate, build, run, diagnose).
   */
  private closeStage(status: AgentStepStatus): void {
    const now = this.now();
    if (status.phaseStartTime && status.phase && !TERMINAL_STEP_PHASES.includes(status.phase)) {
      const seconds = Math.max(0, (now.getTime() - Date.parse(status.phaseStartTime)) / 1000);
      const stages = { ...(status.stageSeconds ?? {}) };
      stages[status.phase] = Math.round(((stages[status.phase] ?? 0) + seconds) * 1000) / 1000;
      status.stageSeconds = stages;
    }
    // Milliseconds kept: in a fast simulated run most phases last under a second.
    status.phaseStartTime = now.toISOString();
  }

  private toPhase(pass: Pass, phase: StepPhase, reason: string, message: string): void {
    const { status, step } = pass;
    if (status.phase !== phase) {
      this.deps.logger.info({ ...logFields(step, status), phase, reason }, 'Step changed phase');
      this.closeStage(status);
    }
    status.phase = phase;
    status.message = message;
    status.conditions = setCondition(
      status.conditions,
      {
        type: CONDITION.succeeded,
        status: 'Unknown',
        reason,
        message,
        observedGeneration: step.metadata.generation ?? 0,
      },
      this.now(),
    );
    status.conditions = setCondition(
      status.conditions,
      {
        type: CONDITION.ready,
        status: 'False',
        reason,
        message,
        observedGeneration: step.metadata.generation ?? 0,
      },
      this.now(),
    );
  }

  private succeed(pass: Pass, reason: string, message: string): void {
    this.finish(pass, 'Succeeded', reason, message);
  }

  private fail(pass: Pass, reason: string, message: string): void {
    this.finish(pass, 'Failed', reason, message);
  }

  /** Ends the step: the phase, both conditions True or False, an event and a log line. */
  private finish(pass: Pass, phase: 'Succeeded' | 'Failed', reason: string, message: string): void {
    const { status, step } = pass;
    status.phase = phase;
    status.reason = reason;
    status.message = message;
    delete status.activeResource;
    delete status.phaseStartTime;
    delete status.stageSeconds;
    status.completionTime = iso(this.now());
    for (const type of [CONDITION.succeeded, CONDITION.ready]) {
      status.conditions = setCondition(
        status.conditions,
        {
          type,
          status: phase === 'Succeeded' ? 'True' : 'False',
          reason,
          message,
          observedGeneration: step.metadata.generation ?? 0,
        },
        this.now(),
      );
    }
    const succeeded = phase === 'Succeeded';
    pass.events.push({ type: succeeded ? 'Normal' : 'Warning', reason, message });
    this.deps.logger[succeeded ? 'info' : 'warn']({ ...logFields(step, status), reason }, message);
  }

  /** A model call failed after the provider's own retries. */
  private modelFailed(pass: Pass, error: unknown, what: string): void {
    const message = error instanceof Error ? error.message : String(error);
    if (isModelError(error) && error.retryable) {
      // An outage is not the attempt's fault: wait and ask again, visibly, without spending an attempt.
      pass.status.reason = REASON.WaitingForModel;
      pass.status.message = `${what} failed (${message}); asking again in ${MODEL_RETRY_MS / 1000} s`;
      pass.requeueAfterMs = MODEL_RETRY_MS;
      pass.events.push({ type: 'Warning', reason: REASON.WaitingForModel, message: pass.status.message });
      return;
    }
    this.fail(pass, REASON.ModelUnavailable, `${what} failed: ${message}`);
  }

  /**
   * The call's background task is told when the call waits for its turn (a note the next pass
   * shows) and when that ends; a task cleared before its end (the step is gone) cancels the call.
   */
  private async callModel(
    step: AgentStepObject,
    agent: string,
    prompt: string,
    task: TaskContext,
  ): Promise<Generation> {
    const model = await this.deps.model(step);
    let started = performance.now();
    try {
      // Each prompt carries what the model needs (the last artifact, the error, the advice) rather than
      // the whole conversation, which keeps calls small; the conversation is kept for the record.
      const generation = await model.generate({
        prompt,
        agent,
        seed: step.spec.planRef?.name ?? step.metadata.name,
        signal: task.signal,
        onQueued: (wait) => task.note(describeWait(wait)),
        // The latency recorded is the call's own, not its time in the queue; a pass after this
        // point has nothing left to say about the wait.
        onStarted: () => {
          started = performance.now();
          task.note(undefined);
        },
      });
      await this.deps.conversations
        ?.append(
          {
            namespace: step.metadata.namespace!,
            step: step.metadata.name!,
            ...(step.spec.planRef ? { plan: step.spec.planRef.name } : {}),
            ownerReference: controllerReference(step),
          },
          [
            { role: 'user', text: prompt },
            { role: 'model', text: generation.text },
          ],
        )
        .catch((error: unknown) =>
          this.deps.logger.warn({ err: error, step: step.metadata.name }, 'Could not save the conversation'),
        );
      this.deps.metrics.recordModelCall(
        model.provider,
        agent,
        'ok',
        (performance.now() - started) / 1000,
        generation.usage,
      );
      return { ...generation, provider: model.provider, model: model.model };
    } catch (error) {
      const outcome = isModelError(error) ? error.kind : task.signal.aborted ? 'cancelled' : 'error';
      this.deps.metrics.recordModelCall(model.provider, agent, outcome, (performance.now() - started) / 1000);
      throw error;
    }
  }

  // ---- The world: attempt ConfigMaps, trial objects, cleanup ----------------------------------

  private async attemptInput(step: AgentStepObject, attempt: number): Promise<AttemptInput> {
    const parsed = parseContext(step.spec.agent, step.spec.context);
    const context = parsed.ok ? (parsed.context as Record<string, unknown>) : {};
    const status = step.status ?? {};
    let previous: AttemptInput['previous'];
    const last = status.history?.findLast((h) => h.attempt < attempt && h.outcome === 'Failed');
    if (last) {
      const stored = await this.attemptConfigMap(step, last.attempt);
      previous = {
        error: last.message ?? last.reason,
        ...(stored?.data?.[ATTEMPT_KEYS.artifact] ? { artifact: stored.data[ATTEMPT_KEYS.artifact] } : {}),
        ...(status.advice ? { advice: status.advice } : {}),
      };
    }
    const perRun = (context['maxRuntime'] as number | undefined) ?? this.deps.settings.defaultMaxRuntime;
    const driver = this.deps.drivers[step.spec.agent];
    // A trial of several runs (the optimize agent's repetitions) has the time of all of them.
    const maxRuntime = driver?.trialSeconds?.(context, perRun) ?? perRun;
    const objectName = attemptName(step.metadata.name!, attempt);
    const best = status.optimization?.bestAttempt;
    const bestArtifact = best
      ? (await this.attemptConfigMap(step, best))?.data?.[ATTEMPT_KEYS.artifact]
      : undefined;
    return {
      namespace: step.metadata.namespace!,
      stepName: step.metadata.name!,
      ...(step.spec.planRef ? { planName: step.spec.planRef.name } : {}),
      agent: step.spec.agent,
      context,
      attempt,
      ...(previous ? { previous } : {}),
      avoid: Array.isArray(context['avoid']) ? (context['avoid'] as unknown[]).map(String) : [],
      ...(typeof context['instruction'] === 'string' &&
      step.spec.agent !== 'cost' &&
      step.spec.agent !== 'flux-batch'
        ? { instruction: context['instruction'] as string }
        : {}),
      settings: this.deps.settings,
      cluster: await this.deps.clusterFacts(step.spec.agent),
      objectName,
      labels: stepLabels({
        step: step.metadata.name!,
        attempt,
        agent: step.spec.agent,
        ...(step.spec.planRef ? { plan: step.spec.planRef.name } : {}),
      }),
      ownerReference: controllerReference(step),
      maxRuntimeSeconds: maxRuntime,
      ...(status.optimization ? { iteration: status.optimization } : {}),
      ...(bestArtifact !== undefined ? { bestArtifact } : {}),
    };
  }

  private attemptConfigMap(step: AgentStepObject, attempt: number): Promise<ConfigMap | undefined> {
    return this.attempts.get(step.metadata.namespace!, attemptName(step.metadata.name!, attempt));
  }

  /** Writes keys of the attempt ConfigMap, creating it (owned by the step) when absent. */
  /**
   * Saves a model answer in the attempt's ConfigMap as soon as the call returns, inside the call's
   * task: a worker may take a while to reach the step under load, and an operator that dies in between
   * would otherwise ask the model again. Best effort: if the write fails, the answer still reaches the
   * step from memory.
   */
  private async saveAnswer(
    step: AgentStepObject,
    attempt: number,
    key: string,
    call: { id: string; agent: string; generation: Generation },
  ): Promise<void> {
    const { text, usage, latencyMs, attempts } = call.generation;
    // An answer too long to store whole is not saved: reused cut, it could be accepted as something
    // the model never wrote. A restart then asks again. The call's record goes in the same write.
    if (text.length > STORED_ANSWER_BYTES) return;
    await this.saveAttempt(
      step,
      attempt,
      { [key]: JSON.stringify({ text, usage, latencyMs, attempts }) },
      call,
    ).catch((error: unknown) =>
      this.deps.logger.warn({ err: error, step: step.metadata.name }, 'Could not save the model answer'),
    );
  }

  private async saveAttempt(
    step: AgentStepObject,
    attempt: number,
    data: Record<string, string>,
    call?: { id: string; agent: string; generation: Generation },
  ): Promise<void> {
    const name = attemptName(step.metadata.name!, attempt);
    const namespace = step.metadata.namespace!;
    const existing = await this.attempts.get(namespace, name);
    if (call) {
      // One line per model call, for the results (the seed's ask_gemini); the id keeps a retried write from counting twice.
      const calls = existing?.data?.['calls'] ?? '';
      if (!calls.includes(`"id":"${call.id}"`)) data = { ...data, calls: calls + callRecord(call, attempt) };
    }
    await this.attempts.write(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name,
          namespace,
          labels: stepLabels({
            step: step.metadata.name!,
            attempt,
            agent: step.spec.agent,
            ...(step.spec.planRef ? { plan: step.spec.planRef.name } : {}),
          }),
          ownerReferences: [controllerReference(step)],
        },
      },
      data,
    );
  }

  /**
   * Creates a child; one that already exists is ours (deterministic name), so it is left as it is. The
   * attempt's ConfigMap is shared with the trial (the Dockerfile ConfigMap is `<step>-<attempt>` too),
   * so the trial's keys are merged into it (a write only when they are not there yet).
   */
  private async ensureObject(object: KubeObject): Promise<void> {
    const resource = resourceOf(object);
    const { namespace, name } = object.metadata;
    if (resource === RESOURCES.configMaps) {
      await this.attempts.write(object as ConfigMap, (object['data'] as Record<string, string>) ?? {});
      return;
    }
    if (cachedObject(this.deps.world, resource, namespace!, name!)) return;
    try {
      await this.deps.client.create(resource, object);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }

  /**
   * Stops what the last finished attempt left running, level-triggered: once the status says the
   * attempt is over (the step is diagnosing it, asking for the next one, or finished), its MiniCluster
   * is deleted and a Job still running is suspended (kept for inspection; suspending deletes its pods,
   * whose log and diagnostics are in the attempt's ConfigMap). A pod stuck in ImagePullBackOff would
   * otherwise stay forever.
   */
  private async stopFinishedTrial(
    step: AgentStepObject,
    status: AgentStepStatus,
    driver: AgentDriver,
  ): Promise<void> {
    const attempt = status.attempt ?? 0;
    const trial = this.trialOf(driver);
    if (attempt < 1 || trial === 'inline') return;
    const namespace = step.metadata.namespace!;
    const name = attemptName(step.metadata.name!, attempt);
    const job = this.deps.world.jobs.get(namespace, name) as
      | (KubeObject & {
          spec?: { suspend?: boolean };
          status?: { conditions?: { type: string; status: string }[] };
        })
      | undefined;
    if (!job) return;
    if (trial === 'minicluster') {
      // The Flux Operator's indexed Job of the same name lives as long as the MiniCluster that owns it.
      if (!job.metadata.deletionTimestamp)
        await this.deps.client.delete(RESOURCES.miniClusters, namespace, name);
      return;
    }
    if (job.spec?.suspend === true) return;
    const finished = (job.status?.conditions ?? []).some(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    );
    if (!finished) await this.deps.client.patch(RESOURCES.jobs, namespace, name, { spec: { suspend: true } });
  }

  private async deleteTrialObjects(
    step: AgentStepObject,
    attempt: number,
    driver: AgentDriver,
  ): Promise<void> {
    const name = attemptName(step.metadata.name!, attempt);
    const namespace = step.metadata.namespace!;
    if (this.trialOf(driver) === 'minicluster')
      await this.deps.client.delete(RESOURCES.miniClusters, namespace, name);
    else await this.deps.client.delete(RESOURCES.jobs, namespace, name);
  }

  /**
   * Deletes the Jobs (and MiniClusters) of finished attempts, keeping the latest failed ones for
   * inspection (spec.retain.failedAttempts, default 1) and the successful one.
   */
  private async cleanupAttempts(
    step: AgentStepObject,
    current: number,
    driver: AgentDriver,
    succeeded: boolean,
  ): Promise<void> {
    if (this.trialOf(driver) === 'inline') return;
    const keep = step.spec.retain?.failedAttempts ?? this.deps.settings.failedAttemptsToKeep ?? 1;
    const lastFailed = succeeded ? current - 1 : current;
    for (let attempt = lastFailed - keep; attempt >= 1; attempt--) {
      const name = attemptName(step.metadata.name!, attempt);
      const resource = this.trialOf(driver) === 'minicluster' ? RESOURCES.miniClusters : RESOURCES.jobs;
      if (
        this.trialOf(driver) !== 'minicluster' &&
        !cachedObject(this.deps.world, resource, step.metadata.namespace!, name)
      )
        continue;
      await this.deleteTrialObjects(step, attempt, driver);
    }
  }

  private async clearAnswer(step: AgentStepObject): Promise<void> {
    if (!step.metadata.annotations?.[ANNOTATIONS.answer]) return;
    await this.deps.client.patch(RESOURCES.agentSteps, step.metadata.namespace, step.metadata.name!, {
      metadata: { annotations: { [ANNOTATIONS.answer]: null } },
    });
  }

  // ---- Writing status -----------------------------------------------------------------------------

  private async writeStatus(pass: Pass): Promise<void> {
    const { step, status } = pass;
    status.observedGeneration = step.metadata.generation ?? 0;
    // The CRD bounds these (src/api/agentstep.ts); errors and advice come from validation and the model.
    if (status.message !== undefined) status.message = clip(status.message, 4096);
    if (status.advice !== undefined) status.advice = clip(status.advice, 8192);
    if (status.question !== undefined) status.question = clip(status.question, 4096);
    status.conditions = status.conditions?.map((c) =>
      c.message !== undefined ? { ...c, message: clip(c.message, 4096) } : c,
    );
    if (status.conditions === undefined) delete status.conditions;
    const changed = await this.statusWriter.write(pass.key, step, status, (s) =>
      s.startTime ? { ...s, usage: withElapsed(s.usage, s.startTime, s.completionTime, this.now()) } : s,
    );
    if (changed) {
      this.deps.metrics.steps.inc({ phase: status.phase ?? 'Pending' });
      if (step.status?.phase) this.deps.metrics.steps.dec({ phase: step.status.phase });
    }
    for (const id of pass.consumed) this.deps.tasks.clear(pass.key, id);
    if (changed)
      for (const e of pass.events) await this.deps.events.record(step, e.type, e.reason, e.message);
  }
}

// ---- Small helpers --------------------------------------------------------------------------------

/** The data of the trial's objects that are the attempt's own ConfigMap. */
function trialConfigMapData(objects: readonly KubeObject[], name: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const o of objects)
    if (o.kind === 'ConfigMap' && o.metadata.name === name) Object.assign(data, o['data'] ?? {});
  return data;
}

function resourceOf(object: KubeObject) {
  for (const r of Object.values(RESOURCES)) {
    const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
    if (r.kind === object.kind && apiVersion === object.apiVersion) return r;
  }
  throw new Error(`no resource for ${object.apiVersion} ${object.kind}`);
}

function trialReason(trial: TrialKind): string {
  if (trial === 'build') return REASON.Building;
  return trial === 'inline' || trial === 'validator' ? REASON.Validating : REASON.Deploying;
}

/** A model call as the seed records it (ask_gemini), one JSON line. */
function callRecord(call: { id: string; agent: string; generation: Generation }, attempt: number): string {
  const { usage, latencyMs } = call.generation;
  return `${JSON.stringify({
    id: call.id,
    agent: call.agent,
    attempt,
    prompt_token_count: usage.promptTokens,
    candidates_token_count: usage.outputTokens,
    total_token_count: usage.totalTokens,
    time_seconds: latencyMs / 1000,
    ...(call.generation.provider ? { provider: call.generation.provider } : {}),
    ...(call.generation.model ? { model: call.generation.model } : {}),
  })}\n`;
}

/** A model answer saved by saveAnswer, or undefined when there is none (or it is unreadable). */
function savedGeneration(json: string | undefined): Generation | undefined {
  if (!json) return undefined;
  try {
    const saved = JSON.parse(json) as Partial<Generation>;
    if (typeof saved.text !== 'string' || !saved.usage) return undefined;
    return {
      text: saved.text,
      usage: saved.usage,
      latencyMs: saved.latencyMs ?? 0,
      attempts: saved.attempts ?? 1,
    };
  } catch {
    return undefined;
  }
}

/** Between the note of a debug call waiting for its turn and the attempt's failure, in a Diagnosing step's message. */
const WAIT_SEPARATOR = ' · ';

/** A step's message without the note of a model call waiting for its turn (see diagnose). */
function withoutWait(message: string | undefined): string | undefined {
  if (!message?.startsWith('Waiting for the model: ')) return message;
  const end = message.indexOf(WAIT_SEPARATOR);
  return end < 0 ? undefined : message.slice(end + WAIT_SEPARATOR.length);
}

const firstLine = (text: string) => (text.split('\n').find((l) => l.trim()) ?? text).slice(0, 500);

function logFields(step: AgentStepObject, status: AgentStepStatus) {
  return {
    plan: step.spec.planRef?.name ?? step.metadata.labels?.[LABELS.plan],
    step: step.metadata.name,
    attempt: status.attempt,
    agent: step.spec.agent,
  };
}
