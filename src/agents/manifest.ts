// A run manifest from a model answer: the ```yaml block, held to the manifest policy.
import { applyManifestPolicy, type ManifestPolicy, type PolicyResult } from '../kube/policy.ts';
import { extractCodeBlock, firstMeaningfulLine } from './parse.ts';

/** A bare manifest: after comments and a `---`, the first line is apiVersion: or kind:. */
const looksLikeManifest = (text: string) =>
  firstMeaningfulLine(text, /^(apiVersion|kind):/, (line) => line === '---');

/**
 * Reads the Job or MiniCluster a model wrote and applies the policy. An answer without YAML is refused
 * like an invalid manifest, so the controller has one path for every bad attempt.
 */
export function readManifestAnswer(answer: string, policy: ManifestPolicy): PolicyResult {
  const extracted = extractCodeBlock(answer, 'yaml', looksLikeManifest);
  if (!extracted.ok) {
    const reason = extracted.tooLarge ? 'TooLarge' : 'NotOneDocument';
    return {
      ok: false,
      reason,
      explanation: extracted.error,
      violations: [{ reason, path: '(manifest)', message: extracted.error }],
    };
  }
  return applyManifestPolicy(extracted.text, policy);
}
