#!/usr/bin/env node
// Runs the sources in a checkout (Node 24 runs TypeScript directly), else the compiled CLI (the
// published package and the container image ship dist/ only). A checkout run by an older Node (the
// system's Node 20, say) runs again on the project's own Node 24, which `npm ci` installs.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
const runsTypeScript = Boolean(process.features.typescript);

if (existsSync(source) && !runsTypeScript) {
  const projectNode = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(projectNode) || process.env.FRACTALE_REEXEC) {
    process.stderr.write(
      `fractale: this checkout runs on Node 24 (this is Node ${process.versions.node}): run \`npm ci\` in it, then \`npx fractale\`\n`,
    );
    process.exit(1);
  }
  const child = spawn(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, FRACTALE_REEXEC: '1' },
  });
  // Ctrl-C reaches both processes (one terminal, one process group): the child decides what it
  // means; a signal sent to this process alone is passed on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.on(signal, () => {
      if (signal !== 'SIGINT') child.kill(signal);
    });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
} else {
  const entry = existsSync(source) ? source : new URL('../dist/cli/main.js', import.meta.url);
  const { main } = await import(entry.href);
  process.exitCode = await main();
}
