// How a plan step's context is assembled: the plan step's own context, plus what earlier steps
// produced, with the seed's rule that a step's own values win for step-specific keys.
import { normalizeContextKeys } from '../api/context.ts';

/** Keys whose value belongs to one step: a later step's own value replaces an earlier step's. */
export const STEP_SPECIFIC_KEYS = [
  'details',
  'useCache',
  'outfile',
  'maxAttempts',
  'description',
  'instruction',
  'avoid',
];

/**
 * Merges the outputs of earlier steps (oldest first) into a step's context. An earlier output fills a
 * key the step does not set; a key the step sets itself wins when it is step-specific or when it is
 * not an output at all. A `container` the step names itself wins too: the seed lets a run step pin an
 * image it was given.
 */
export function mergeStepContext(
  own: Record<string, unknown> | undefined,
  earlierOutputs: readonly Record<string, string>[],
): Record<string, unknown> {
  const ownContext = normalizeContextKeys(own ?? {}).context;
  const merged: Record<string, unknown> = {};
  for (const outputs of earlierOutputs) Object.assign(merged, outputs);
  for (const [key, value] of Object.entries(ownContext)) {
    if (!(key in merged) || STEP_SPECIFIC_KEYS.includes(key) || key === 'container') merged[key] = value;
  }
  // The seed's noPull meant "the image was loaded onto the nodes by hand" (kind load). An image an
  // earlier step built is in a registry and must be pulled, so noPull does not apply to it.
  const builtEarlier =
    earlierOutputs.some((o) => o['container'] !== undefined) && ownContext['container'] === undefined;
  if (builtEarlier) delete merged['noPull'];
  return merged;
}
