// What the two run agents share: the prompt inputs from the context, and acceptance of the model's
// manifest through the policy. They differ in the kind they write and the prompts they use.
import { stringify } from 'yaml';
import type { RunContext } from '../api/context.ts';
import type { ManifestKind } from '../kube/policy.ts';
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
  });
  if (!result.ok) return { ok: false, reason: 'PolicyRefused', error: result.explanation };
  return {
    ok: true,
    artifact: stringify(result.object, { lineWidth: 0 }),
    objects: [result.object as never],
    changes: result.changes,
  };
}
