// Prints, after the run, how many tests each lane ran (docs/testing.md) and which tests the real
// lane skipped because they read the sim's own Store.
import type { Reporter, TestModule } from 'vitest/node';

export default class LanesReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const lanes = new Map<string, { passed: number; failed: number; skipped: number; simOnly: string[] }>();
    for (const module of testModules) {
      const lane = module.project.name || 'default';
      const counts = lanes.get(lane) ?? { passed: 0, failed: 0, skipped: 0, simOnly: [] };
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else {
          counts.skipped++;
          if (test.name.endsWith('[sim only]'))
            counts.simOnly.push(`${module.moduleId.split('/test/').at(-1)} > ${test.name}`);
        }
      }
      lanes.set(lane, counts);
    }
    console.log(
      '\nTests by lane (sim: the simulated cluster; real: kube-apiserver, etcd, kube-controller-manager):',
    );
    const total = { passed: 0, failed: 0, skipped: 0 };
    for (const [lane, c] of lanes) {
      for (const name of c.simOnly) console.log(`  skipped on the ${lane} lane (sim only): ${name}`);
      console.log(`${lane}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
      total.passed += c.passed;
      total.failed += c.failed;
      total.skipped += c.skipped;
    }
    console.log(`total: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  }
}
