// The sim refuses the CRDs a real kube-apiserver refuses, with its message (the table is checked
// against the real server by test/real/crd-rules.test.ts).
import { describe, expect, it } from 'vitest';
import { StatusError, Store } from '../../src/sim/store.ts';
import { CRD_ACCEPTED_CASES, CRD_RULE_CASES, invalidMessage } from '../fixtures/crd-rules.ts';

const CRDS = 'apiextensions.k8s.io/v1/customresourcedefinitions';

function refusal(crd: Record<string, unknown>): string | undefined {
  try {
    new Store().create(CRDS, structuredClone(crd) as never);
    return undefined;
  } catch (err) {
    if (err instanceof StatusError) return err.message;
    throw err;
  }
}

describe('CRD schema rules, as kube-apiserver applies them', () => {
  it.each(CRD_RULE_CASES)('refuses a CRD that breaks the rule: $rule', ({ crd, errors }) => {
    expect(refusal(crd)).toBe(invalidMessage(crd, errors));
  });

  it.each(CRD_ACCEPTED_CASES)('accepts what the real server accepts: $rule', ({ crd }) => {
    expect(refusal(crd)).toBeUndefined();
  });
});
