import { describe, expect, it } from 'vitest';
import { LABELS, MANAGED_BY } from '../api/names.ts';
import {
  attemptName,
  childName,
  controllerReference,
  labelValue,
  MAX_NAME_LENGTH,
  stepLabels,
} from './names.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const long = (n: number) => 'a'.repeat(n);

describe('childName', () => {
  it.each([
    { name: 'short names are joined', parent: 'lammps-build', suffix: '1', want: 'lammps-build-1' },
    { name: 'exactly 63 characters stay whole', parent: long(61), suffix: '1', want: `${long(61)}-1` },
    { name: 'an empty suffix keeps the parent', parent: 'plan', suffix: '', want: 'plan' },
  ])('$name', ({ parent, suffix, want }) => {
    expect(childName(parent, suffix)).toBe(want);
  });

  it.each([
    { name: 'one past the limit', parent: long(62), suffix: '1' },
    { name: 'far past the limit', parent: `run-${'x'.repeat(200)}`, suffix: '12' },
    {
      name: 'a parent ending in dashes at the cut',
      parent: `${'b'.repeat(49)}${'-'.repeat(30)}`,
      suffix: '3',
    },
    { name: 'a suffix longer than the limit', parent: 'p', suffix: 'q'.repeat(70) },
  ])('fits 63 characters and stays a DNS label: $name', ({ parent, suffix }) => {
    const name = childName(parent, suffix);
    expect(name.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(name).toMatch(DNS_LABEL);
    expect(childName(parent, suffix)).toBe(name);
  });

  it('keeps the suffix readable past the limit', () => {
    expect(childName(long(80), '7').endsWith('-7')).toBe(true);
  });

  it('gives different long parents with the same prefix different names', () => {
    expect(childName(`${long(70)}x`, '1')).not.toBe(childName(`${long(70)}y`, '1'));
  });

  it('names attempts <step>-<attempt>', () => {
    expect(attemptName('demo-build', 3)).toBe('demo-build-3');
  });
});

describe('labels', () => {
  it('carries the operator labels', () => {
    expect(stepLabels({ plan: 'demo', step: 'demo-build', attempt: 2, agent: 'build' })).toEqual({
      [LABELS.managedBy]: MANAGED_BY,
      [LABELS.plan]: 'demo',
      [LABELS.step]: 'demo-build',
      [LABELS.attempt]: '2',
      [LABELS.agent]: 'build',
    });
  });

  it('leaves out the plan of a step run on its own', () => {
    expect(stepLabels({ step: 'solo', attempt: 1 })).not.toHaveProperty(LABELS.plan);
  });

  it.each([
    { given: 'ok-value', want: 'ok-value' },
    { given: '-trim-me-', want: 'trim-me' },
    { given: 'has spaces/slashes', want: 'has-spaces-slashes' },
  ])('labelValue($given) is $want', ({ given, want }) => {
    expect(labelValue(given)).toBe(want);
  });

  it('shortens long label values', () => {
    expect(labelValue(long(100)).length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
  });
});

describe('controllerReference', () => {
  it('points at the owner as its controller', () => {
    const ref = controllerReference({
      apiVersion: 'fractale.dev/v1alpha1',
      kind: 'AgentStep',
      metadata: { name: 's', uid: 'u-1' },
    });
    expect(ref).toEqual({
      apiVersion: 'fractale.dev/v1alpha1',
      kind: 'AgentStep',
      name: 's',
      uid: 'u-1',
      controller: true,
      blockOwnerDeletion: true,
    });
  });

  it('refuses an owner that has no uid yet', () => {
    expect(() =>
      controllerReference({ apiVersion: 'v1', kind: 'AgentStep', metadata: { name: 's' } }),
    ).toThrow(/no name or uid/);
  });
});
