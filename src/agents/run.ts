// What the two run agents share: the prompt inputs from the context, and acceptance of the model's
// manifest through the policy. They differ in the kind they write and the prompts they use.
import { stringify } from 'yaml';
import type { RunContext } from '../api/context.ts';
import { hardenRunManifest } from '../kube/hardening.ts';
import type { ManifestKind, ManifestPolicy } from '../kube/policy.ts';
import { parseQuantity } from '../kube/quantity.ts';
import type { RunPromptInput } from '../prompts/kubernetes.ts';
import type { Acceptance, AttemptInput } from '../step/driver.ts';
import { readManifestAnswer } from './manifest.ts';

export function runPromptInput(input: AttemptInput): RunPromptInput {
  const context = input.context as RunContext;
  return {
    container: context.container,
    ...(context.environment ? { environment: context.environment } : {}),
    ...(context.details ? { details: context.details } : {}),
    ...(context.testing !== undefined ? { testing: context.testing } : {}),
    ...(context.dockerfile ? { dockerfile: context.dockerfile } : {}),
    ...(context.noPull ? { noPull: true } : {}),
    ...(context.resources ? { resources: context.resources } : {}),
    ...(input.instruction ? { managerInstruction: input.instruction } : {}),
    avoid: input.avoid,
  };
}

export function runFixedContext(input: AttemptInput): Record<string, string | undefined> {
  const context = input.context as RunContext;
  return { container: context.container, environment: context.environment };
}

function maxRequests(input: AttemptInput): Pick<ManifestPolicy, 'maxRequests'> {
  const { maxCpuRequest: cpu, maxMemoryRequest: memory } = input.settings;
  if (!cpu && !memory) return {};
  return { maxRequests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } };
}

/**
 * A run whose context asks for more than the operator's caps could never be accepted: the model is
 * told to request exactly the context's resources, and the policy refuses them. Said once, before
 * any model call, naming the field and the setting.
 */
export function runPreflight(input: AttemptInput): string | undefined {
  const resources = (input.context as RunContext).resources;
  const checks = [
    { field: 'cpu', value: resources?.cpu, cap: input.settings.maxCpuRequest, flag: '--max-cpu-request' },
    {
      field: 'memory',
      value: resources?.memory,
      cap: input.settings.maxMemoryRequest,
      flag: '--max-memory-request',
    },
  ];
  for (const { field, value, cap, flag } of checks) {
    if (value === undefined || !cap) continue;
    const amount = parseQuantity(value);
    const limit = parseQuantity(cap);
    if (amount === undefined) {
      return `spec.context.resources.${field}: ${JSON.stringify(value)} is not a Kubernetes quantity; write e.g. ${field === 'cpu' ? '"4" or "500m"' : '"16Gi"'}`;
    }
    if (limit !== undefined && amount > limit) {
      return `spec.context.resources.${field}: ${JSON.stringify(value)} is more than the ${cap} a generated pod may ask for; ask for at most ${cap}, or raise the operator's ${flag}`;
    }
  }
  return undefined;
}

/** Extracts the manifest and holds it to the policy; the accepted artifact is the manifest as created. */
export function acceptManifest(kind: ManifestKind, answer: string, input: AttemptInput): Acceptance {
  const context = input.context as RunContext & { secrets?: unknown };
  const result = readManifestAnswer(answer, {
    kind,
    namespace: input.namespace,
    name: input.objectName,
    image: context.container,
    labels: input.labels,
    ownerReference: input.ownerReference,
    activeDeadlineSeconds: input.maxRuntimeSeconds,
    ...(context.noPull ? { noPull: true } : {}),
    serviceAccountName: input.settings.runServiceAccount,
    allowedSecrets: Array.isArray(context.secrets) ? context.secrets.map(String) : [],
    ...maxRequests(input),
    ...(kind === 'MiniCluster' && input.cluster.miniClusterCrdSchema
      ? { miniclusterSchema: input.cluster.miniClusterCrdSchema }
      : {}),
    ...(input.settings.runAsNonRoot ? { runAsNonRoot: true } : {}),
  });
  if (!result.ok) return { ok: false, reason: 'PolicyRefused', error: result.explanation };
  // What Pod Security `restricted` asks that a working image does not notice (src/kube/hardening.ts).
  const hardened = hardenRunManifest(kind, result.object, {
    ...(input.settings.runAsNonRoot ? { runAsNonRoot: true } : {}),
  });
  return {
    ok: true,
    artifact: stringify(result.object, { lineWidth: 0 }),
    objects: [result.object as never],
    changes: [...result.changes, ...hardened],
  };
}
