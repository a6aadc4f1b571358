// AgentExperiment: one plan template run many times, across applications, prompt variants, models
// and repetitions, so a researcher can compare how often and why the agents fail (docs/experiments.md).
import { z } from 'zod';
import { agentPlanSpec } from './agentplan.ts';
import { dnsLabel, freeformContext, lifecycleStatus, modelSpec, resource } from './common.ts';

/** The most plans one experiment may create (cells × repetitions). */
export const MAX_EXPERIMENT_PLANS = 2000;

// Axis names become part of plan names and label values: short DNS labels keep both readable.
const axisName = (what: string) =>
  dnsLabel(what)
    .max(20, { message: `${what} must be at most 20 characters (it becomes part of each plan's name)` })
    .describe(`name: the ${what}, a short DNS label; it becomes part of the cell and plan names.`);

const stepContexts = z
  .record(z.string(), freeformContext)
  .optional()
  .describe(
    "steps: context for one step of the template only, by the step's name (e.g. build: {details: ...}); it overrides context.",
  );

export const experimentApplication = z
  .object({
    name: axisName('application name'),
    context: freeformContext
      .optional()
      .describe('context: merged into every step of the template (application, details, container, ...).'),
    steps: stepContexts,
  })
  .describe('One application: what the template builds and runs.');

export const experimentVariant = z
  .object({
    name: axisName('variant name'),
    context: freeformContext
      .optional()
      .describe(
        "context: overrides of every step's context (e.g. a vague or a specific details); applied after the application's.",
      ),
    steps: stepContexts,
  })
  .describe('One variant: named context overrides, e.g. a level of specificity of the prompt.');

export const experimentModel = modelSpec
  .extend({ name: axisName('model label') })
  .extend({
    model: z.string().min(1).optional().describe('model: the model name, e.g. gemini-2.5-pro.'),
  })
  .describe("One model: a label for the cell's name, the provider and the model name.");

export const experimentMatrix = z
  .object({
    applications: z
      .array(experimentApplication)
      .min(1, { message: 'matrix.applications must list at least one application' })
      .max(50)
      .describe('applications: what the plan is run for; each has its own context.'),
    variants: z
      .array(experimentVariant)
      .max(20)
      .optional()
      .describe('variants: named context overrides; every application runs with each (default: none).'),
    models: z
      .array(experimentModel)
      .max(10)
      .optional()
      .describe("models: provider/model pairs; every cell runs with each (default: the template's model)."),
    repetitions: z
      .int()
      .min(1, { message: 'matrix.repetitions must be at least 1' })
      .max(100, { message: 'matrix.repetitions must be at most 100' })
      .default(3)
      .describe('repetitions: how many plans run each cell (1..100, default 3).'),
  })
  .describe('matrix: the axes that vary the template; one cell per application × variant × model.')
  .meta({
    'x-kubernetes-validations': [
      {
        rule: 'self.applications.all(a, self.applications.exists_one(b, b.name == a.name))',
        message: 'application names must be unique',
        fieldPath: '.applications',
      },
      {
        rule: '!has(self.variants) || self.variants.all(a, self.variants.exists_one(b, b.name == a.name))',
        message: 'variant names must be unique',
        fieldPath: '.variants',
      },
      {
        rule: '!has(self.models) || self.models.all(a, self.models.exists_one(b, b.name == a.name))',
        message: 'model labels must be unique',
        fieldPath: '.models',
      },
    ],
  });
export type ExperimentMatrix = z.infer<typeof experimentMatrix>;

export const agentExperimentSpec = z
  .object({
    description: z.string().max(4096).optional().describe('description: what the experiment asks.'),
    plan: agentPlanSpec.describe('plan: the AgentPlan spec every run starts from.'),
    matrix: experimentMatrix,
    concurrency: z
      .int()
      .min(1, { message: 'spec.concurrency must be at least 1' })
      .max(500, { message: 'spec.concurrency must be at most 500' })
      .default(4)
      .describe('concurrency: how many of its plans run at once (1..500, default 4).'),
    useCache: z
      .boolean()
      .default(false)
      .describe(
        "useCache: let the plans reuse cached steps (default false: every run does its own work, so runs are independent observations); overrides the template's.",
      ),
  })
  .describe('spec: the experiment.');
export type AgentExperimentSpec = z.infer<typeof agentExperimentSpec>;

export const EXPERIMENT_PHASES = ['Pending', 'Running', 'Completed', 'Failed'] as const;
export type ExperimentPhase = (typeof EXPERIMENT_PHASES)[number];

const count = (description: string) => z.int().min(0).optional().describe(description);

export const experimentCellStatus = z
  .object({
    name: z.string().describe('name: the cell, <application>[-<variant>][-<model>].'),
    application: z.string().describe('application: the application.'),
    variant: z.string().optional().describe('variant: the variant, when the matrix has variants.'),
    model: z.string().optional().describe('model: the model label, when the matrix has models.'),
    succeeded: count('succeeded: plans of the cell that succeeded.'),
    failed: count('failed: plans of the cell that failed.'),
    running: count('running: plans of the cell created and not ended.'),
  })
  .describe("A cell's progress.");
export type ExperimentCellStatus = z.infer<typeof experimentCellStatus>;

export const agentExperimentStatus = z
  .object({
    phase: z
      .enum(EXPERIMENT_PHASES)
      .optional()
      .describe(
        'phase: Pending, Running, Completed (every plan ended) or Failed (the experiment is invalid).',
      ),
    message: z.string().max(4096).optional().describe('message: what is happening, or why it failed.'),
    reason: z.string().optional().describe('reason: why the experiment is in its phase, in CamelCase.'),
    plans: count('plans: the plans the experiment runs in all (cells × repetitions).'),
    created: count('created: plans created so far.'),
    running: count('running: plans created and not ended.'),
    done: count('done: plans that ended (succeeded or failed).'),
    succeeded: count('succeeded: plans that succeeded.'),
    failed: count('failed: plans that failed.'),
    collected: count("collected: ended plans whose results document is in the experiment's results."),
    cells: z
      .array(experimentCellStatus)
      .max(1000)
      .optional()
      .describe("cells: each cell's progress, in matrix order."),
    resultsRefs: z
      .array(z.string().describe('A results ConfigMap.'))
      .max(1000)
      .optional()
      .describe("resultsRefs: the ConfigMaps holding the plans' results documents (a key per plan)."),
    ...lifecycleStatus('experiment'),
  })
  .describe('status: what the operator observed and did.');
export type AgentExperimentStatus = z.infer<typeof agentExperimentStatus>;

export const agentExperiment = resource('AgentExperiment', agentExperimentSpec, agentExperimentStatus);
export type AgentExperiment = z.infer<typeof agentExperiment>;
