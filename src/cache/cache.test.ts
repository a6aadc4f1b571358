import { describe, expect, it } from 'vitest';
import { cacheInputs, cacheName } from './cache.ts';

describe('cache keys', () => {
  it('depend on the inputs that shape the result, not on attempt limits or spelling of whitespace', () => {
    const a = cacheName('build', { application: 'lammps', environment: 'cpu', details: 'x', maxAttempts: 3 });
    const b = cacheName('build', {
      details: ' x\n',
      environment: 'cpu',
      application: 'lammps',
      maxAttempts: 10,
    });
    expect(a).toBe(b);
    expect(a).toMatch(/^fractale-cache-build-[0-9a-f]{16}$/);
  });

  it.each([
    ['application', { application: 'amg' }],
    ['environment', { environment: 'gpu' }],
    ['details', { details: 'y' }],
  ])('change with %s', (_field, change) => {
    const base = { application: 'lammps', environment: 'cpu', details: 'x' };
    expect(cacheName('build', { ...base, ...change })).not.toBe(cacheName('build', base));
  });

  it('differ between agents with the same inputs', () => {
    expect(cacheName('cost', { instruction: 'x' })).not.toBe(cacheName('flux-batch', { instruction: 'x' }));
  });

  it('keep only known inputs', () => {
    expect(cacheInputs('cost', { instruction: 'go', maxAttempts: 2, result: 'r' })).toEqual({
      instruction: 'go',
    });
  });
});
