// A run manifest from a model answer: the ```yaml block, held to the manifest policy.
import { applyManifestPolicy, type ManifestPolicy, type PolicyResult } from '../kube/policy.ts';
import { extractCodeBlock } from './parse.ts';

const looksLikeManifest = (text: string) => /^\s*(#.*\n\s*)*(---\s*\n\s*)?(apiVersion|kind):/m.test(text);

/**
 * Reads the Job or MiniCluster a model wrote and applies the policy. An answer without YAML is refused
 * like an invalid manifest, so the controller has one path for every bad attempt.
 */
export function readManifestAnswer(answer: string, policy: ManifestPolicy): PolicyResult {
  const extracted = extractCodeBlock(answer, 'yaml', looksLikeManifest);
  if (!extracted.ok) {
    return {
      ok: false,
      reason: 'NotOneDocument',
      explanation: extracted.error,
      violations: [{ reason: 'NotOneDocument', path: '(manifest)', message: extracted.error }],
    };
  }
  return applyManifestPolicy(extracted.text, policy);
}
