import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites start in-process API servers on loopback ports; a few forks keep a 2-core machine responsive.
    pool: 'forks',
    maxWorkers: 2,
  },
});
