import { defineConfig } from 'vitest/config';

// Two lanes (docs/testing.md): `sim` runs every suite against the project's simulated cluster;
// `real` runs the suites under test/real against a real kube-apiserver, etcd and
// kube-controller-manager built from Kubernetes' sources (scripts/control-plane.ts).
// FRACTALE_TEST_LANES=sim skips the real lane (which needs Go, and ~12 minutes to build once).
const lanes = (process.env['FRACTALE_TEST_LANES'] ?? 'sim,real').split(',').map((l) => l.trim());

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites start in-process API servers on loopback ports; a few forks keep a 2-core machine responsive.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/lanes-reporter.ts'],
    projects: [
      ...(lanes.includes('sim')
        ? [
            {
              extends: true as const,
              test: {
                name: 'sim',
                include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
                exclude: ['test/real/**'],
              },
            },
          ]
        : []),
      ...(lanes.includes('real')
        ? [
            {
              extends: true as const,
              test: {
                name: 'real',
                // The end-to-end suites run unchanged on the real control plane (test/helpers/cluster.ts
                // attaches the simulated world); tests that read the sim's Store are marked sim only.
                include: [
                  'test/real/**/*.test.ts',
                  'test/agreement/**/*.test.ts',
                  'test/runtime/runtime.test.ts',
                  'test/step/**/*.test.ts',
                  'test/plan/**/*.test.ts',
                  'test/experiment/**/*.test.ts',
                  'test/cli/**/*.test.ts',
                ],
                env: { FRACTALE_TEST_LANE: 'real' },
                globalSetup: ['test/real/control-plane.setup.ts'],
                // The suites share one control plane (installing and deleting CRDs): one file at a time.
                fileParallelism: false,
              },
            },
          ]
        : []),
    ],
  },
});
