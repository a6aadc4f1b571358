// AgentStep: one agent driven until its artifact works (a built image, a successful run, a valid script).
import { z } from 'zod';
import {
  dnsLabel,
  freeformContext,
  lifecycleStatus,
  maxAttempts,
  modelSpec,
  resource,
  resultsSpec,
  time,
} from './common.ts';
import { AGENT_NAMES } from './names.ts';

export const agentName = z
  .enum(AGENT_NAMES, {
    message: `agent must be one of ${AGENT_NAMES.join(', ')}`,
  })
  .describe(`agent: which agent drives the step: ${AGENT_NAMES.join(', ')}.`);

export const STEP_PHASES = [
  'Pending',
  'Generating',
  'Building',
  'Deploying',
  'Running',
  'Validating',
  'Diagnosing',
  'AwaitingHuman',
  'Succeeded',
  'Failed',
] as const;
export type StepPhase = (typeof STEP_PHASES)[number];
export const TERMINAL_STEP_PHASES: readonly StepPhase[] = ['Succeeded', 'Failed'];

export const planRef = z
  .object({
    name: dnsLabel('planRef.name').describe('name: the AgentPlan.'),
    step: dnsLabel('planRef.step').describe("step: the step's name in the plan."),
    index: z.int().min(0).optional().describe("index: the step's position in the plan (0 is the first)."),
    managerAttempt: z
      .int()
      .min(0)
      .optional()
      .describe("managerAttempt: which of the plan manager's attempts created this step."),
  })
  .describe('planRef: the plan this step belongs to; absent for a step created on its own (a-la-carte).');

// How much of a finished attempt to keep around: the last failed Job or MiniCluster is what a person
// inspects with kubectl, while older ones only use quota.
export const retention = z
  .object({
    failedAttempts: z
      .int()
      .min(0)
      .max(100)
      .default(1)
      .describe(
        'failedAttempts: how many of the latest failed attempts keep their Jobs and pods (default 1).',
      ),
  })
  .describe('retain: what is kept of finished attempts.');

export const agentStepSpec = z
  .object({
    agent: agentName,
    description: z
      .string()
      .max(4096)
      .optional()
      .describe('description: what this step is for, in a sentence.'),
    context: freeformContext.optional(),
    maxAttempts: maxAttempts('spec.maxAttempts')
      .optional()
      .describe(
        'maxAttempts: attempts before the step gives up (1..100); overrides context.maxAttempts; default from the operator.',
      ),
    useCache: z
      .boolean()
      .default(false)
      .describe(
        "useCache: reuse a finished step with the same agent and inputs, and save this one for others (the seed's --use-cache).",
      ),
    planRef: planRef.optional(),
    model: modelSpec.optional(),
    results: resultsSpec.optional(),
    retain: retention.optional(),
  })
  .describe('spec: what the step must achieve.');
export type AgentStepSpec = z.infer<typeof agentStepSpec>;

/** Seconds per phase; the keys are step phases. */
export const stageSeconds = z.record(z.string(), z.number().min(0));

export const historyEntry = z
  .object({
    attempt: z.int().min(1).describe('attempt: the attempt number (1 is the first).'),
    phase: z.enum(STEP_PHASES).describe('phase: the last phase the attempt reached.'),
    outcome: z.enum(['Succeeded', 'Failed']).describe('outcome: how the attempt ended.'),
    reason: z
      .string()
      .describe('reason: why it ended, in CamelCase (BuildFailed, ImagePullBackOff, PolicyRefused, ...).'),
    message: z.string().max(2048).optional().describe('message: the error in short.'),
    startTime: time('startTime: when the attempt started.').optional(),
    seconds: z.number().min(0).describe('seconds: how long the attempt took.'),
    tokens: z.int().min(0).default(0).describe('tokens: model tokens the attempt used.'),
    resource: z
      .string()
      .optional()
      .describe('resource: the Job or MiniCluster the attempt ran, as kind/name.'),
    modelCalls: z.int().min(0).optional().describe('modelCalls: model calls the attempt made.'),
    stages: stageSeconds
      .optional()
      .describe(
        'stages: seconds the attempt spent in each phase (Generating, Building, Deploying, Running, Validating, Diagnosing, AwaitingHuman).',
      ),
    askedHuman: z
      .boolean()
      .optional()
      .describe('askedHuman: the attempt ended with a question to a person (AwaitingHuman).'),
  })
  .describe('One finished attempt.');
export type HistoryEntry = z.infer<typeof historyEntry>;

export const CACHE_STATES = ['Hit', 'Miss', 'Saved', 'Disabled'] as const;

export const TRIAL_OUTCOMES = ['baseline', 'kept', 'reverted', 'failed'] as const;

export const optimizationTrial = z
  .object({
    trial: z.int().min(0).describe('trial: 0 is the baseline, the starting manifest as it is.'),
    attempt: z.int().min(1).describe('attempt: the attempt that ran it (its ConfigMap holds the manifest).'),
    from: z
      .int()
      .min(1)
      .optional()
      .describe('from: the attempt whose manifest (the best so far) it changed.'),
    change: z.string().max(500).optional().describe("change: the model's one change, in its words."),
    reason: z.string().max(1000).optional().describe('reason: why the model expected it to help.'),
    figures: z
      .array(z.number().describe("A repetition's figure."))
      .max(10)
      .describe('figures: the figure of each repetition.'),
    median: z.number().optional().describe("median: the trial's figure, the median of its repetitions."),
    spread: z.number().min(0).optional().describe("spread: the repetitions' range (max - min), the noise."),
    outcome: z.enum(TRIAL_OUTCOMES).describe('outcome: baseline, kept (the new best), reverted or failed.'),
    message: z.string().max(1000).optional().describe('message: why it was kept, reverted or failed.'),
  })
  .describe('One trial of an optimize step.');
export type OptimizationTrial = z.infer<typeof optimizationTrial>;

export const optimizationStatus = z
  .object({
    figure: z.string().describe('figure: what is measured, e.g. "timesteps/s".'),
    direction: z.enum(['higher', 'lower']).describe('direction: whether higher or lower is better.'),
    baseline: z.number().optional().describe("baseline: the starting manifest's figure."),
    best: z.number().optional().describe('best: the best figure so far.'),
    bestAttempt: z.int().min(1).optional().describe('bestAttempt: the attempt whose manifest is the best.'),
    ratio: z
      .number()
      .optional()
      .describe(
        'ratio: how much better the best is than the baseline (above 1 is better, whichever the direction).',
      ),
    trials: z.array(optimizationTrial).max(60).describe('trials: every trial, in order.'),
    stopReason: z.string().max(1000).optional().describe('stopReason: why the optimisation stopped.'),
    startedAt: time('startedAt: when the baseline was measured (the wall time counts from here).').optional(),
  })
  .describe('optimization: the trajectory of an optimize step: baseline, best, every trial.');
export type OptimizationStatus = z.infer<typeof optimizationStatus>;

export const agentStepStatus = z
  .object({
    phase: z
      .enum(STEP_PHASES)
      .optional()
      .describe(
        'phase: where the step is: Pending, Generating, Building, Deploying, Running, Validating, Diagnosing, AwaitingHuman, Succeeded or Failed.',
      ),
    attempt: z.int().min(0).optional().describe('attempt: the current attempt (1 is the first).'),
    attemptStartTime: time(
      'attemptStartTime: when the current attempt started (its runtime limit counts from here).',
    ).optional(),
    phaseStartTime: time(
      'phaseStartTime: when the current phase of the current attempt started (for the time per stage).',
    ).optional(),
    stageSeconds: stageSeconds
      .optional()
      .describe("stageSeconds: the current attempt's seconds in each phase it left so far."),
    maxAttempts: z
      .int()
      .min(1)
      .optional()
      .describe('maxAttempts: the attempts the step may use, resolved from spec, context and defaults.'),
    message: z.string().max(4096).optional().describe('message: what is happening, or the last error.'),
    reason: z.string().optional().describe('reason: why the step is in its phase, in CamelCase.'),
    result: z
      .string()
      .max(32768)
      .optional()
      .describe(
        "result: the step's result (a Dockerfile, a log, a script) when small; see resultRef otherwise.",
      ),
    resultRef: z
      .object({
        name: z.string().describe('name: the ConfigMap.'),
        key: z.string().describe('key: the key in the ConfigMap.'),
      })
      .optional()
      .describe('resultRef: the ConfigMap holding a result too large for status.'),
    outputs: z
      .record(z.string(), z.string())
      .optional()
      .describe('outputs: what the step hands on to later steps, e.g. container and dockerfile.'),
    advice: z
      .string()
      .max(8192)
      .optional()
      .describe("advice: the debug agent's advice for the next attempt."),
    question: z
      .string()
      .max(4096)
      .optional()
      .describe(
        'question: what the agent asks a person while AwaitingHuman; answer with the annotation fractale.dev/answer.',
      ),
    cache: z
      .enum(CACHE_STATES)
      .optional()
      .describe('cache: Hit (loaded from the cache), Miss, Saved (stored for later steps) or Disabled.'),
    cacheRef: z.string().optional().describe('cacheRef: the cache ConfigMap this step read or wrote.'),
    activeResource: z
      .string()
      .optional()
      .describe('activeResource: the Job or MiniCluster of the current attempt, as kind/name.'),
    optimization: optimizationStatus.optional(),
    history: z
      .array(historyEntry)
      .max(100)
      .optional()
      .describe('history: finished attempts, oldest first (bounded).'),
    ...lifecycleStatus('step'),
  })
  .describe('status: what the operator observed and did.');
export type AgentStepStatus = z.infer<typeof agentStepStatus>;

export const agentStep = resource('AgentStep', agentStepSpec, agentStepStatus);
export type AgentStep = z.infer<typeof agentStep>;
