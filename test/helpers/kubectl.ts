// The real kubectl (v1.34, unpacked by `npm run tools`) against a simulated cluster.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const KUBECTL = join(import.meta.dirname, '../../.tools/bin/kubectl');

export async function kubectl(
  kubeconfig: string,
  args: string[],
): Promise<{ stdout: string; stderr: string; code: number }> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
  try {
    const { stdout, stderr } = await run(KUBECTL, [
      '--kubeconfig',
      kubeconfig,
      '--cache-dir',
      cacheDir,
      ...args,
    ]);
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
  }
}
