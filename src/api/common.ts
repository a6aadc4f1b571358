// Building blocks shared by the AgentPlan and AgentStep schemas.
import { z } from 'zod';
import { API_VERSION } from './names.ts';

/** Kubernetes wants x-kubernetes-preserve-unknown-fields on free-form objects; zod carries it as metadata. */
export const PRESERVE_UNKNOWN = { 'x-kubernetes-preserve-unknown-fields': true } as const;

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const dnsLabel = (what: string) =>
  z
    .string()
    .min(1)
    .max(63)
    .regex(DNS_LABEL, {
      message: `${what} must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. "build-lammps")`,
    });

export const maxAttempts = (what: string) =>
  z
    .int()
    .min(1, { message: `${what} must be at least 1` })
    .max(100, { message: `${what} must be at most 100` });

/** What the API server itself checks of a context: the attempts, in both spellings (1..100). */
const contextAttempts = (key: string) => ({
  type: 'integer',
  minimum: 1,
  maximum: 100,
  description: `${key}: attempts the step may use before it gives up (1..100).`,
});

/**
 * A free-form object: the CRD keeps unknown fields and the operator validates it per agent. Only
 * maxAttempts (and the seed's max_attempts) is declared, so that `kubectl apply` refuses a plan whose
 * step could never run (`maxAttempts: -3`) instead of the operator failing it later as InvalidPlan.
 */
export const freeformContext = z
  .record(z.string(), z.unknown(), {
    error: 'must be an object of key: value pairs (e.g. application: lammps), not a string or a list',
  })
  .meta({
    ...PRESERVE_UNKNOWN,
    properties: {
      maxAttempts: contextAttempts('maxAttempts'),
      max_attempts: contextAttempts('max_attempts'),
    },
    description:
      "context: what the agent needs, as key/value pairs (e.g. application, environment, details, container). Keys are validated per agent by the operator; the seed's snake_case spellings (max_attempts, no_pull, ...) are accepted.",
  });

export const time = (description: string) => z.iso.datetime().describe(description);

/** metav1.Condition, as kubebuilder and Tekton use it. */
export const condition = z
  .object({
    type: z.string().describe('type: the condition, in CamelCase (Ready, Succeeded).'),
    status: z.enum(['True', 'False', 'Unknown']).describe('status: True, False or Unknown.'),
    reason: z.string().describe('reason: a CamelCase word saying why the condition has its status.'),
    message: z.string().optional().describe('message: a human-readable explanation.'),
    lastTransitionTime: time('lastTransitionTime: when the status last changed.'),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('observedGeneration: the metadata.generation the condition was computed from.'),
  })
  .describe('A condition in the shape of metav1.Condition.');
export type Condition = z.infer<typeof condition>;

export const conditions = z
  .array(condition)
  .max(16)
  .describe('conditions: the latest observations of the object, one per type.')
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });

export const secretKeyRef = z
  .object({
    name: z.string().min(1).describe("name: the Secret in the object's namespace."),
    key: z.string().min(1).default('api-key').describe('key: the key in the Secret (default "api-key").'),
  })
  .describe('A key of a Secret in the same namespace.');

// Plans and steps may pick their model: different experiments compare models, and a cluster without
// Google access points at an OpenAI-compatible endpoint. Unset fields fall back to the operator's flags.
export const modelSpec = z
  .object({
    provider: z
      .enum(['gemini', 'openai', 'scripted'])
      .optional()
      .describe(
        'provider: gemini, openai (any OpenAI-compatible endpoint) or scripted (answers from a file, for tests and demos).',
      ),
    name: z.string().min(1).optional().describe('name: the model name, e.g. gemini-2.5-pro.'),
    apiKeySecretRef: secretKeyRef
      .optional()
      .describe(
        'apiKeySecretRef: the Secret holding the API key; the key itself is never copied into status, logs or events.',
      ),
  })
  .describe("model: which language model drives the agents; unset fields use the operator's defaults.");
export type ModelSpec = z.infer<typeof modelSpec>;

export const resultsSpec = z
  .object({
    incremental: z
      .boolean()
      .default(false)
      .describe(
        "incremental: also keep every attempt's artifacts (Dockerfiles, manifests, log tails), as the seed's --incremental.",
      ),
  })
  .describe('results: what the results document records.');

export const usage = z
  .object({
    modelCalls: z.int().min(0).default(0).describe('modelCalls: how many times the model was called.'),
    promptTokens: z.int().min(0).default(0).describe('promptTokens: tokens sent to the model.'),
    outputTokens: z.int().min(0).default(0).describe('outputTokens: tokens the model wrote.'),
    totalTokens: z
      .int()
      .min(0)
      .default(0)
      .describe('totalTokens: promptTokens plus outputTokens (and any the provider counts besides).'),
    modelSeconds: z
      .number()
      .min(0)
      .default(0)
      .describe('modelSeconds: wall-clock seconds spent waiting for the model.'),
    seconds: z
      .number()
      .min(0)
      .default(0)
      .describe('seconds: wall-clock seconds from start to the last change.'),
  })
  .describe('usage: what the work cost so far.');
export type Usage = z.infer<typeof usage>;

export const objectMeta = z
  .object({
    name: z.string().optional(),
    generateName: z.string().optional(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.int().optional(),
    creationTimestamp: z.string().optional(),
    deletionTimestamp: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    finalizers: z.array(z.string()).optional(),
    ownerReferences: z
      .array(
        z.looseObject({
          apiVersion: z.string(),
          kind: z.string(),
          name: z.string(),
          uid: z.string(),
          controller: z.boolean().optional(),
          blockOwnerDeletion: z.boolean().optional(),
        }),
      )
      .optional(),
  })
  .loose();

/** The status fields both kinds have: usage, conditions, start and completion, observedGeneration. */
export const lifecycleStatus = (what: string) => ({
  usage: usage.optional(),
  conditions: conditions.optional(),
  startTime: time(`startTime: when the ${what} started.`).optional(),
  completionTime: time(`completionTime: when the ${what} succeeded or failed.`).optional(),
  observedGeneration: z
    .int()
    .min(0)
    .optional()
    .describe('observedGeneration: the metadata.generation this status reflects.'),
});

/** A fractale resource: apiVersion, kind, metadata, spec and status. */
export const resource = <K extends string, S extends z.ZodType, T extends z.ZodType>(
  kind: K,
  spec: S,
  status: T,
) =>
  z.object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata: objectMeta,
    spec,
    status: status.optional(),
  });
