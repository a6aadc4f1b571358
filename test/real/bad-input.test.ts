// The admission cases of test/api/bad-input.ts against a real kube-apiserver: each refused with the
// field named, as the sim lane expects of the sim (test/api/invalid-apply.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { expectAdmissionRefusals } from '../api/admission.ts';
import { startTestCluster } from '../helpers/cluster.ts';

const dir = mkdtempSync(join(tmpdir(), 'fractale-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('invalid plans and steps on the real kube-apiserver', () => {
  it('refuses every admission case naming the field, and stores none', async () => {
    const cluster = await startTestCluster();
    try {
      await expectAdmissionRefusals(cluster.kubeconfigPath, dir);
    } finally {
      await cluster.stop();
    }
  }, 180_000);
});
