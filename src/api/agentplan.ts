// AgentPlan: an ordered list of agent steps with a goal; a manager recovers when a step gives up.
import { z } from 'zod';
import { agentName, STEP_PHASES } from './agentstep.ts';
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

export const MAX_PLAN_STEPS = 32;

export const planStep = z
  .object({
    name: dnsLabel('step name').describe(
      "name: the step's name, unique in the plan; its AgentStep is named <plan>-<name>.",
    ),
    agent: agentName,
    description: z
      .string()
      .max(4096)
      .optional()
      .describe(
        'description: what this step is for; the manager reads it when choosing where to go back to.',
      ),
    context: freeformContext.optional(),
    maxAttempts: maxAttempts('maxAttempts')
      .optional()
      .describe(
        'maxAttempts: attempts the step may use before it gives up (1..100); overrides context.maxAttempts.',
      ),
  })
  .describe('One step of the plan.');
export type PlanStep = z.infer<typeof planStep>;

// Replaced steps are history a researcher wants; a busy namespace may prefer them gone.
export const planRetention = z
  .object({
    replacedSteps: z
      .enum(['Keep', 'Delete'])
      .default('Keep')
      .describe('replacedSteps: Keep (default) or Delete the AgentSteps a manager recovery replaced.'),
    failedAttempts: z
      .int()
      .min(0)
      .max(100)
      .optional()
      .describe(
        "failedAttempts: how many of each step's latest failed attempts keep their Jobs and pods (each AgentStep's spec.retain.failedAttempts; default 1).",
      ),
  })
  .describe('retain: what is kept of replaced steps and failed attempts.');

export const agentPlanSpec = z
  .object({
    description: z.string().max(4096).optional().describe('description: what the plan does.'),
    goal: z
      .string()
      .max(4096)
      .default('Use provided agents to finish the plan')
      .describe('goal: what the manager works towards when it decides how to recover.'),
    steps: z
      .array(planStep)
      .min(1, { message: 'steps must list at least one step' })
      .max(MAX_PLAN_STEPS)
      .describe('steps: the steps, run in order; each starts when the one before it succeeded.'),
    maxAttempts: maxAttempts('spec.maxAttempts')
      .default(10)
      .describe('maxAttempts: manager attempts (recoveries) before the plan fails (1..100, default 10).'),
    useCache: z
      .boolean()
      .default(false)
      .describe("useCache: every step reuses and saves cached results (the seed's --use-cache)."),
    model: modelSpec.optional(),
    results: resultsSpec.optional(),
    retain: planRetention.optional(),
  })
  .describe('spec: the plan.')
  .meta({
    'x-kubernetes-validations': [
      {
        rule: 'self.steps.all(s, self.steps.exists_one(t, t.name == s.name))',
        message: 'step names must be unique within a plan',
        fieldPath: '.steps',
      },
    ],
  });
export type AgentPlanSpec = z.infer<typeof agentPlanSpec>;

export const PLAN_PHASES = ['Pending', 'Running', 'Recovering', 'Succeeded', 'Failed'] as const;
export type PlanPhase = (typeof PLAN_PHASES)[number];

export const planStepStatus = z
  .object({
    name: z.string().describe("name: the step's name in the plan."),
    agent: z.string().describe("agent: the step's agent."),
    stepRef: z.string().optional().describe('stepRef: the AgentStep currently carrying the step.'),
    phase: z
      .enum(STEP_PHASES)
      .optional()
      .describe(
        "phase: the AgentStep's phase once it ended or waits for a person (Succeeded, Failed, AwaitingHuman); absent while it works: the AgentStep named by stepRef shows every phase.",
      ),
    attempt: z.int().min(0).optional().describe("attempt: the AgentStep's attempt, with phase."),
    runs: z
      .int()
      .min(0)
      .optional()
      .describe('runs: how many AgentSteps the step has had (more than 1 after a recovery).'),
    message: z.string().max(2048).optional().describe("message: the AgentStep's message, with phase."),
  })
  .describe("A step's progress.");

export const recovery = z
  .object({
    attempt: z.int().min(1).describe('attempt: the manager attempt that made this recovery.'),
    failedStep: z.string().describe('failedStep: the step that gave up.'),
    restartStep: z.string().describe('restartStep: the step the plan went back to.'),
    reason: z.string().max(4096).describe('reason: why the failed step gave up.'),
    taskDescription: z
      .string()
      .max(8192)
      .optional()
      .describe('taskDescription: what the manager told the restarted step to do differently.'),
    time: time('time: when the recovery happened.'),
  })
  .describe('One recovery by the manager.');

export const agentPlanStatus = z
  .object({
    phase: z
      .enum(PLAN_PHASES)
      .optional()
      .describe('phase: Pending, Running, Recovering, Succeeded or Failed.'),
    currentStep: z.string().optional().describe('currentStep: the step running now (or the last one).'),
    attempts: z.int().min(0).optional().describe('attempts: manager attempts used.'),
    message: z.string().max(4096).optional().describe('message: what is happening, or why the plan failed.'),
    reason: z.string().optional().describe('reason: why the plan is in its phase, in CamelCase.'),
    steps: z
      .array(planStepStatus)
      .max(MAX_PLAN_STEPS)
      .optional()
      .describe("steps: each step's progress, in plan order."),
    recoveries: z
      .array(recovery)
      .max(100)
      .optional()
      .describe("recoveries: the manager's recoveries, oldest first."),
    resultsRef: z
      .object({
        name: z.string().describe('name: the ConfigMap.'),
        key: z.string().describe('key: the key holding the results JSON (gzip and base64 when marked .gz).'),
      })
      .optional()
      .describe('resultsRef: the ConfigMap with the results document, written when the plan ends.'),
    ...lifecycleStatus('plan'),
  })
  .describe('status: what the operator observed and did.');
export type AgentPlanStatus = z.infer<typeof agentPlanStatus>;

export const agentPlan = resource('AgentPlan', agentPlanSpec, agentPlanStatus);
export type AgentPlan = z.infer<typeof agentPlan>;
