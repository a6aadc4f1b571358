// The table of CRD rules against a real kube-apiserver: each CRD is refused with the message the
// table holds (which the sim lane expects of the sim too), and the accepted ones are accepted.
import { describe, expect, it } from 'vitest';
import { CRD_ACCEPTED_CASES, CRD_RULE_CASES, invalidMessage } from '../fixtures/crd-rules.ts';
import { rawRequest } from './cluster.ts';

async function refusal(crd: Record<string, unknown>): Promise<string | undefined> {
  const res = await rawRequest(
    'POST',
    '/apis/apiextensions.k8s.io/v1/customresourcedefinitions?dryRun=All',
    crd,
  );
  if (res.status === 201) return undefined;
  expect(res.status).toBe(422);
  return res.body['message'] as string;
}

describe('CRD schema rules on the real kube-apiserver', () => {
  it.each(CRD_RULE_CASES)('refuses a CRD that breaks the rule: $rule', async ({ crd, errors }) => {
    expect(await refusal(crd)).toBe(invalidMessage(crd, errors));
  });

  it.each(CRD_ACCEPTED_CASES)('accepts: $rule', async ({ crd }) => {
    expect(await refusal(crd)).toBeUndefined();
  });
});
