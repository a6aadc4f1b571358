// Runs every benchmark in bench/ in turn, each in its own Node process (with --expose-gc), and prints
// their reports. Benchmarks are never tests: timings on shared machines are noisy. The chaos harness
// (minutes of faults, not a timing) is its own command: npm run bench:chaos.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'chaos.ts')
  .sort()) {
  console.log(`\n== ${file}`);
  const result = spawnSync(process.execPath, ['--expose-gc', join(dir, file)], { stdio: 'inherit' });
  if (result.status !== 0) process.exitCode = 1;
}
