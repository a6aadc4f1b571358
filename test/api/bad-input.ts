// Invalid AgentPlans and AgentSteps, counted: each names the field its refusal must name and how the
// refusal reads (the fix), and says who refuses it. `admission` cases are refused by `kubectl apply`
// (the CRD's schema, or its CEL rule for unique step names); `operator` cases pass admission (a step's
// context is free-form in the CRD) and are refused by the operator with a condition. `fractale
// validate` refuses all of them. Used by validation.test.ts (the schemas) and invalid-apply.test.ts
// (kubectl and the operator).

export type RefusedBy = 'admission' | 'operator';

export interface BadInput {
  name: string;
  spec: Record<string, unknown>;
  /** The field the refusal names, as the API server names it. */
  field: string;
  /** What the operator's (and `fractale validate`'s) message says after the field: the fix. */
  fix: RegExp;
  by: RefusedBy;
  /** The field as the API server names it, when it differs (the seed's snake_case spelling). */
  admissionField?: string;
  /** The CRD's schema refuses it (checked without a server); false for CEL-only and operator cases. */
  schema: boolean;
}

const step = (over: Record<string, unknown> = {}) => ({
  name: 'build',
  agent: 'build',
  context: { application: 'lammps' },
  ...over,
});
const run = { name: 'run', agent: 'kubernetes-job', context: { details: 'run it' } };
const buildThenRun = (context: Record<string, unknown>) => ({ steps: [step(), { ...run, context }] });
const buildWith = (context: Record<string, unknown>) => ({
  steps: [step({ context: { application: 'lammps', ...context } })],
});

const DNS = /must be a DNS label: lower-case letters, digits and '-'/;
const BOOLEAN = /expected boolean, received string/;
const STRING = /expected string, received/;

const admission = (
  name: string,
  spec: Record<string, unknown>,
  field: string,
  fix: RegExp,
  schema = true,
): BadInput => ({ name, spec, field, fix, by: 'admission', schema });
const operator = (name: string, spec: Record<string, unknown>, field: string, fix: RegExp): BadInput => ({
  name,
  spec,
  field,
  fix,
  by: 'operator',
  schema: false,
});

export const BAD_PLANS: BadInput[] = [
  // Refused at admission by the CRD's schema, or by its CEL rule.
  admission(
    'unknown agent',
    { steps: [step({ agent: 'compile' })] },
    'spec.steps[0].agent',
    /agent must be one of build, kubernetes-job, minicluster, cost, flux-batch, optimize/,
  ),
  // The CRD's CEL rule names the list (a rule's fieldPath is fixed); the operator names the entry.
  {
    ...admission(
      'duplicate step names',
      { steps: [step(), step()] },
      'spec.steps[1].name',
      /Duplicate value: "build".*must be unique within a plan/,
      false,
    ),
    admissionField: 'spec.steps',
  },
  admission('step name with capitals', { steps: [step({ name: 'Build' })] }, 'spec.steps[0].name', DNS),
  admission('step name with underscore', { steps: [step({ name: 'build_it' })] }, 'spec.steps[0].name', DNS),
  admission(
    'step name starting with a hyphen',
    { steps: [step({ name: '-build' })] },
    'spec.steps[0].name',
    DNS,
  ),
  admission(
    'step name too long',
    { steps: [step({ name: 'a'.repeat(64) })] },
    'spec.steps[0].name',
    /<=63 characters/,
  ),
  admission(
    'empty step name',
    { steps: [step({ name: '' })] },
    'spec.steps[0].name',
    />=1 characters|DNS label/,
  ),
  admission('maxAttempts 0', { steps: [step()], maxAttempts: 0 }, 'spec.maxAttempts', /must be at least 1/),
  admission(
    'maxAttempts 1000',
    { steps: [step()], maxAttempts: 1000 },
    'spec.maxAttempts',
    /must be at most 100/,
  ),
  admission('maxAttempts 2.5', { steps: [step()], maxAttempts: 2.5 }, 'spec.maxAttempts', /expected int/),
  admission(
    'maxAttempts not a number',
    { steps: [step()], maxAttempts: 'ten' },
    'spec.maxAttempts',
    /expected (int|number)/,
  ),
  admission(
    'step maxAttempts 0',
    { steps: [step({ maxAttempts: 0 })] },
    'spec.steps[0].maxAttempts',
    /must be at least 1/,
  ),
  admission(
    'step maxAttempts 101',
    { steps: [step({ maxAttempts: 101 })] },
    'spec.steps[0].maxAttempts',
    /must be at most 100/,
  ),
  admission(
    'context maxAttempts -3',
    { steps: [step({ context: { application: 'x', maxAttempts: -3 } })] },
    'spec.steps[0].context.maxAttempts',
    /must be at least 1/,
  ),
  admission(
    'context not an object',
    { steps: [step({ context: 'build lammps' })] },
    'spec.steps[0].context',
    /must be an object of key: value pairs/,
  ),
  admission(
    'context a list',
    { steps: [step({ context: ['lammps'] })] },
    'spec.steps[0].context',
    /must be an object of key: value pairs/,
  ),
  admission('no steps', { steps: [] }, 'spec.steps', /at least one step/),
  admission('steps missing', {}, 'spec.steps', /expected array/),
  admission('steps a mapping', { steps: { build: step() } }, 'spec.steps', /expected array, received object/),
  admission(
    '33 steps',
    { steps: Array.from({ length: 33 }, (_, i) => step({ name: `s${i}` })) },
    'spec.steps',
    /<=32 items/,
  ),
  admission(
    'step without agent',
    { steps: [{ name: 'build', context: { application: 'x' } }] },
    'spec.steps[0].agent',
    /agent must be one of/,
  ),
  admission(
    'step without name',
    { steps: [{ agent: 'build', context: { application: 'x' } }] },
    'spec.steps[0].name',
    /expected string, received undefined/,
  ),
  admission(
    'step description over 4096 characters',
    { steps: [step({ description: 'x'.repeat(4097) })] },
    'spec.steps[0].description',
    /<=4096 characters/,
  ),
  admission(
    'goal over 4096 characters',
    { steps: [step()], goal: 'g'.repeat(5000) },
    'spec.goal',
    /<=4096 characters/,
  ),
  admission('useCache not a boolean', { steps: [step()], useCache: 'yes' }, 'spec.useCache', BOOLEAN),
  admission(
    'unknown model provider',
    { steps: [step()], model: { provider: 'claude' } },
    'spec.model.provider',
    /expected one of "gemini"\|"openai"\|"scripted"/,
  ),
  admission(
    'empty model name',
    { steps: [step()], model: { name: '' } },
    'spec.model.name',
    />=1 characters/,
  ),
  admission(
    'API key Secret without a name',
    { steps: [step()], model: { apiKeySecretRef: { key: 'k' } } },
    'spec.model.apiKeySecretRef.name',
    /expected string, received undefined/,
  ),
  admission(
    'results.incremental not a boolean',
    { steps: [step()], results: { incremental: 'on' } },
    'spec.results.incremental',
    BOOLEAN,
  ),
  admission(
    'retain.replacedSteps not Keep or Delete',
    { steps: [step()], retain: { replacedSteps: 'Sometimes' } },
    'spec.retain.replacedSteps',
    /expected one of "Keep"\|"Delete"/,
  ),
  admission('a misspelt spec field', { steps: [step()], gaol: 'x' }, 'spec.gaol', /did you mean goal\?/),
  admission(
    'a misspelt step field',
    { steps: [step({ agnet: 'build' })] },
    'spec.steps[0].agnet',
    /did you mean agent\?/,
  ),
  // Refused by the operator: the context is free-form in the CRD and validated per agent.
  operator(
    'missing application for build',
    { steps: [step({ context: { environment: 'cpu' } })] },
    'spec.steps[0].context.application',
    /application is required: name the software to build/,
  ),
  operator(
    'empty application',
    buildWith({ application: '' }),
    'spec.steps[0].context.application',
    /application is required/,
  ),
  operator(
    'platform without an OS',
    buildWith({ platforms: ['amd64'] }),
    'spec.steps[0].context.platforms[0]',
    /must look like linux\/amd64/,
  ),
  operator('push not a boolean', buildWith({ push: 'no' }), 'spec.steps[0].context.push', BOOLEAN),
  operator(
    'environment a number',
    buildWith({ environment: 42 }),
    'spec.steps[0].context.environment',
    STRING,
  ),
  operator('details a list', buildWith({ details: ['a'] }), 'spec.steps[0].context.details', STRING),
  operator(
    'logBudget below 200',
    buildWith({ log_budget: 50 }),
    'spec.steps[0].context.logBudget',
    /at least 200 tokens/,
  ),
  operator(
    'logBudget not a number',
    buildWith({ logBudget: 'lots' }),
    'spec.steps[0].context.logBudget',
    /whole number of tokens/,
  ),
  // Refused at admission too: the CRD bounds the context's attempts in both spellings.
  {
    ...admission(
      'context max_attempts 1000 (seed spelling)',
      buildWith({ max_attempts: 1000 }),
      'spec.steps[0].context.maxAttempts',
      /must be at most 100/,
    ),
    admissionField: 'spec.steps[0].context.max_attempts',
  },
  operator(
    'snake and camel disagree',
    buildWith({ maxAttempts: 3, max_attempts: 4 }),
    'spec.steps[0].context',
    /max_attempts and maxAttempts disagree; keep one of them/,
  ),
  operator(
    'run step with no container and no build before it',
    { steps: [run] },
    'spec.steps[0].context.container',
    /container is required: the image to run/,
  ),
  operator(
    'empty container',
    { steps: [{ ...run, context: { container: '' } }] },
    'spec.steps[0].context.container',
    /container is required/,
  ),
  operator(
    'minicluster with no container',
    { steps: [{ name: 'mc', agent: 'minicluster', context: {} }] },
    'spec.steps[0].context.container',
    /container is required/,
  ),
  operator(
    'maxRuntime not a duration',
    buildThenRun({ max_runtime: 'forever' }),
    'spec.steps[1].context.maxRuntime',
    /must be seconds .* or a duration such as "90s"/,
  ),
  operator(
    'maxRuntime of ten days',
    buildThenRun({ max_runtime: '240h' }),
    'spec.steps[1].context.maxRuntime',
    /at most 7 days/,
  ),
  operator(
    'maxRuntime 0',
    buildThenRun({ maxRuntime: 0 }),
    'spec.steps[1].context.maxRuntime',
    /must be seconds \(1 to 604800\)/,
  ),
  operator('noPull not a boolean', buildThenRun({ no_pull: 'yes' }), 'spec.steps[1].context.noPull', BOOLEAN),
  operator(
    'testing a number',
    buildThenRun({ testing: 3 }),
    'spec.steps[1].context.testing',
    /must be true, false, or a sentence/,
  ),
  operator(
    'allowReturnToHuman not a boolean',
    buildThenRun({ allow_return_to_human: 'yes' }),
    'spec.steps[1].context.allowReturnToHuman',
    BOOLEAN,
  ),
  operator(
    'negative GPUs',
    buildThenRun({ resources: { gpu: -1 } }),
    'spec.steps[1].context.resources.gpu',
    />=0/,
  ),
  operator(
    'zero nodes',
    buildThenRun({ resources: { nodes: 0 } }),
    'spec.steps[1].context.resources.nodes',
    />=1/,
  ),
  operator(
    'cpu not a quantity',
    buildThenRun({ resources: { cpu: 'lots' } }),
    'spec.steps[1].context.resources.cpu',
    /must be a Kubernetes quantity such as 4 or "500m"/,
  ),
  operator(
    'memory not a quantity',
    buildThenRun({ resources: { memory: '16 GB' } }),
    'spec.steps[1].context.resources.memory',
    /must be a Kubernetes quantity such as "16Gi"/,
  ),
  operator(
    'cost without instruction',
    { steps: [{ name: 'cost', agent: 'cost', context: {} }] },
    'spec.steps[0].context.instruction',
    /instruction is required: say what the agent must produce/,
  ),
  operator(
    'empty flux-batch instruction',
    { steps: [{ name: 'fb', agent: 'flux-batch', context: { instruction: '' } }] },
    'spec.steps[0].context.instruction',
    /instruction is required/,
  ),
];

/** AgentSteps created on their own (a-la-carte): the same split, with `spec.` paths of a step. */
export const BAD_STEPS: BadInput[] = [
  admission('step: no agent', { context: { application: 'x' } }, 'spec.agent', /agent must be one of/),
  admission('step: unknown agent', { agent: 'compile' }, 'spec.agent', /agent must be one of/),
  admission(
    'step: maxAttempts 0',
    { agent: 'build', maxAttempts: 0, context: { application: 'x' } },
    'spec.maxAttempts',
    /must be at least 1/,
  ),
  admission(
    'step: keeps 101 failed attempts',
    { agent: 'build', retain: { failedAttempts: 101 }, context: { application: 'x' } },
    'spec.retain.failedAttempts',
    /<=100/,
  ),
  admission(
    'step: planRef to an invalid name',
    { agent: 'build', planRef: { name: 'Bad_Plan', step: 'b' }, context: { application: 'x' } },
    'spec.planRef.name',
    DNS,
  ),
  admission(
    'step: context a string',
    { agent: 'build', context: 'lammps' },
    'spec.context',
    /must be an object of key: value pairs/,
  ),
  admission(
    'step: a misspelt field',
    { agent: 'build', contxt: {} },
    'spec.contxt',
    /did you mean context\?/,
  ),
  operator(
    'step: build without application',
    { agent: 'build', context: {} },
    'spec.context.application',
    /application is required/,
  ),
  operator(
    'step: run with a bad maxRuntime',
    { agent: 'kubernetes-job', context: { container: 'x', max_runtime: 'soon' } },
    'spec.context.maxRuntime',
    /or a duration such as "90s"/,
  ),
  operator(
    'step: insecureRegistry not a boolean',
    { agent: 'build', context: { application: 'x', insecure_registry: 'true' } },
    'spec.context.insecureRegistry',
    BOOLEAN,
  ),
  operator(
    'step: cost without instruction',
    { agent: 'cost', context: {} },
    'spec.context.instruction',
    /instruction is required/,
  ),
];

/** Refused by the operator only, when it starts the step: more than its resource caps (default 64 CPUs). */
export const OVER_CAP_STEP: BadInput = operator(
  'step: asks for more CPU than the operator allows',
  { agent: 'kubernetes-job', context: { container: 'ghcr.io/example/lammps:1', resources: { cpu: '1000' } } },
  'spec.context.resources.cpu',
  /is more than the 64 a generated pod may ask for; ask for at most 64, or raise the operator's --max-cpu-request/,
);
