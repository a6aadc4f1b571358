import { describe, expect, it } from 'vitest';
import { validateCostAnswer } from './validate.ts';

const entry = {
  application: 'lammps',
  environment: 'Google Cloud',
  instance: 'c2d-standard-56',
  type: 'cpu',
  reason: 'reaxff scales with cores; compute-optimized AMD is cheapest per core-hour',
  estimate: 4.2,
};

describe('validateCostAnswer', () => {
  it.each([
    { name: 'a json block', answer: `\`\`\`json\n${JSON.stringify([entry])}\n\`\`\``, want: [entry] },
    {
      name: 'dollar strings and upper-case types',
      answer: JSON.stringify([{ ...entry, type: 'GPU', estimate: '$1,234.50' }]),
      want: [{ ...entry, type: 'gpu', estimate: 1234.5 }],
    },
    { name: 'a lone object', answer: JSON.stringify(entry), want: [entry] },
    {
      name: 'a list under one key',
      answer: JSON.stringify({ results: [entry, entry] }),
      want: [entry, entry],
    },
    {
      name: 'prose around the JSON',
      answer: `Here is my estimate: ${JSON.stringify([entry])} Thanks.`,
      want: [entry],
    },
  ])('accepts $name', ({ answer, want }) => {
    expect(validateCostAnswer(answer)).toEqual({ ok: true, estimates: want });
  });

  it.each([
    { name: 'no JSON', answer: 'Use a c2d-standard-56.', says: /not valid JSON/ },
    { name: 'an empty list', answer: '[]', says: /\(root\): must hold at least one suggestion/ },
    {
      name: 'a missing estimate',
      answer: JSON.stringify([{ ...entry, estimate: undefined }]),
      says: /\[0\]\.estimate: must be the estimated total cost in USD/,
    },
    {
      name: 'a word for an estimate',
      answer: JSON.stringify([{ ...entry, estimate: 'cheap' }]),
      says: /\[0\]\.estimate/,
    },
    {
      name: 'a negative estimate',
      answer: JSON.stringify([{ ...entry, estimate: -3 }]),
      says: /\[0\]\.estimate/,
    },
    {
      name: 'an unknown type',
      answer: JSON.stringify([entry, { ...entry, type: 'tpu' }]),
      says: /\[1\]\.type: must be "cpu" or "gpu"/,
    },
    {
      name: 'an empty instance',
      answer: JSON.stringify([{ ...entry, instance: ' ' }]),
      says: /\[0\]\.instance: must be the instance type/,
    },
  ])('explains $name', ({ answer, says }) => {
    const result = validateCostAnswer(answer);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(says);
    expect(result.error).toMatch(/Answer with one ```json block/);
  });
});
