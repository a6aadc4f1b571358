// The CRDs, generated from the zod schemas: `npm run generate:crds` writes them to crds/.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { agentExperimentSpec, agentExperimentStatus } from './agentexperiment.ts';
import { agentPlanSpec, agentPlanStatus } from './agentplan.ts';
import { agentStepSpec, agentStepStatus } from './agentstep.ts';
import { GROUP, VERSION } from './names.ts';

type JsonSchema = { [key: string]: unknown };

// JSON Schema keywords a structural CRD schema may not carry, or that only add noise to it.
const DROPPED = new Set(['$schema', 'propertyNames', 'id']);
const SAFE_INT = Number.MAX_SAFE_INTEGER;

/**
 * Turns zod's JSON Schema into a Kubernetes structural schema: no `additionalProperties: false`
 * (the API server prunes instead), no empty `additionalProperties` beside preserve-unknown-fields,
 * no safe-integer bounds, and no regex on date-time strings (the format says it).
 */
export function toStructural(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED.has(key)) continue;
    if (key === 'additionalProperties') {
      if (value === false) continue;
      if (typeof value === 'object' && value && Object.keys(value).length === 0) continue;
      out[key] = toStructural(value as JsonSchema);
      continue;
    }
    if ((key === 'minimum' && value === -SAFE_INT) || (key === 'maximum' && value === SAFE_INT)) continue;
    if (key === 'pattern' && schema['format'] === 'date-time') continue;
    if (key === 'properties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, toStructural(v)]),
      );
      continue;
    }
    if (key === 'items') {
      out[key] = toStructural(value as JsonSchema);
      continue;
    }
    if (key === 'anyOf' || key === 'oneOf') {
      // Structural schemas need one type; unions in this API are of one type or documented as free-form.
      const types = new Set((value as JsonSchema[]).map((s) => s['type']));
      if (types.size === 1) Object.assign(out, { type: [...types][0] });
      else out['x-kubernetes-int-or-string'] = true;
      continue;
    }
    out[key] = value;
  }
  return out;
}

const jsonSchema = (schema: z.ZodType) => toStructural(z.toJSONSchema(schema, { io: 'input' }) as JsonSchema);

interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description: string;
  priority?: number;
}

const printerColumn = (
  name: string,
  type: string,
  jsonPath: string,
  description: string,
  priority = 0,
): PrinterColumn => ({ name, type, jsonPath, description, ...(priority ? { priority } : {}) });

const AGE = printerColumn('Age', 'date', '.metadata.creationTimestamp', 'Time since the object was created.');

interface CrdInput {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  columns: PrinterColumn[];
}

function crd(input: CrdInput) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${input.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'fractale', 'app.kubernetes.io/part-of': 'fractale' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: input.kind,
        listKind: `${input.kind}List`,
        plural: input.plural,
        singular: input.singular,
        shortNames: input.shortNames,
        categories: ['fractale'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: input.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: input.description,
              required: ['spec'],
              properties: {
                apiVersion: {
                  type: 'string',
                  description: 'apiVersion: the versioned schema of this object (fractale.dev/v1alpha1).',
                },
                kind: { type: 'string', description: `kind: ${input.kind}.` },
                // The API server owns ObjectMeta: a CRD may say only that it is an object (and limit
                // name or generateName); a description here makes a real server refuse the CRD.
                metadata: { type: 'object' },
                spec: jsonSchema(input.spec),
                status: jsonSchema(input.status),
              },
            },
          },
        },
      ],
    },
  };
}

export const agentPlanCrd = () =>
  crd({
    kind: 'AgentPlan',
    plural: 'agentplans',
    singular: 'agentplan',
    shortNames: ['ap', 'plan'],
    description:
      'AgentPlan runs agent steps in order (e.g. build an image, then run it as a Job) towards a goal. When a step gives up, a manager asks the model which earlier step to redo and with what instruction.',
    spec: agentPlanSpec,
    status: agentPlanStatus,
    columns: [
      printerColumn('Phase', 'string', '.status.phase', 'Pending, Running, Recovering, Succeeded or Failed.'),
      printerColumn('Step', 'string', '.status.currentStep', 'The step running now (or the last one).'),
      // Named as `fractale get plans` names it: recoveries, not a step's attempts.
      printerColumn(
        'Recoveries',
        'integer',
        '.status.attempts',
        'Manager recoveries used (each sends the plan back to a step; spec.maxAttempts bounds them).',
      ),
      AGE,
      printerColumn('Message', 'string', '.status.message', 'What is happening, or why the plan failed.', 1),
    ],
  });

export const agentStepCrd = () =>
  crd({
    kind: 'AgentStep',
    plural: 'agentsteps',
    singular: 'agentstep',
    shortNames: ['as', 'step'],
    description:
      'AgentStep drives one agent (build, kubernetes-job, minicluster, cost, flux-batch, optimize) until its artifact works: the agent generates it, the operator tries it on the cluster, and failures are fed back to the model. An optimize step then tries changes that make a working run faster.',
    spec: agentStepSpec,
    status: agentStepStatus,
    columns: [
      printerColumn('Plan', 'string', '.spec.planRef.name', 'The AgentPlan the step belongs to.'),
      printerColumn('Agent', 'string', '.spec.agent', 'The agent driving the step.'),
      printerColumn('Phase', 'string', '.status.phase', 'Where the step is.'),
      printerColumn('Attempt', 'integer', '.status.attempt', 'The current attempt.'),
      AGE,
      printerColumn(
        'Best',
        'number',
        '.status.optimization.best',
        'An optimize step: the best figure of merit.',
        1,
      ),
      printerColumn(
        'Ratio',
        'number',
        '.status.optimization.ratio',
        'An optimize step: how much better the best is than the baseline.',
        1,
      ),
      printerColumn('Message', 'string', '.status.message', 'What is happening, or the last error.', 1),
    ],
  });

export const agentExperimentCrd = () =>
  crd({
    kind: 'AgentExperiment',
    plural: 'agentexperiments',
    singular: 'agentexperiment',
    shortNames: ['ax', 'experiment'],
    description:
      "AgentExperiment runs an AgentPlan template many times, once per application × variant × model and repetition, and collects every plan's results for a report (fractale experiment report).",
    spec: agentExperimentSpec,
    status: agentExperimentStatus,
    columns: [
      printerColumn('Phase', 'string', '.status.phase', 'Pending, Running, Completed or Failed.'),
      printerColumn('Plans', 'integer', '.status.plans', 'Plans the experiment runs in all.'),
      printerColumn('Done', 'integer', '.status.done', 'Plans that ended.'),
      printerColumn('Failed', 'integer', '.status.failed', 'Plans that failed.'),
      AGE,
      printerColumn('Message', 'string', '.status.message', 'What is happening.', 1),
    ],
  });

const HEADER = '# Generated from src/api by `npm run generate:crds`. Do not edit.\n';

/** The CRD files and their YAML, as written to crds/. */
export function crdFiles(): Record<string, string> {
  return {
    'fractale.dev_agentplans.yaml': HEADER + stringify(agentPlanCrd(), { lineWidth: 0 }),
    'fractale.dev_agentsteps.yaml': HEADER + stringify(agentStepCrd(), { lineWidth: 0 }),
    'fractale.dev_agentexperiments.yaml': HEADER + stringify(agentExperimentCrd(), { lineWidth: 0 }),
  };
}

/** The CRD files in `dir` that differ from what the schemas generate (missing files count). */
export function crdDrift(dir: string): string[] {
  return Object.entries(crdFiles())
    .filter(([file, text]) => {
      const path = join(dir, file);
      return !existsSync(path) || readFileSync(path, 'utf8') !== text;
    })
    .map(([file]) => file);
}
