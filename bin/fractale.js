#!/usr/bin/env node
// Runs the compiled CLI when the package is built (npm pack, the container image), else the sources
// (a checkout, where Node 24 runs TypeScript directly).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const { main } = await import(
  existsSync(compiled) ? compiled.href : new URL('../src/cli/main.ts', import.meta.url).href
);
process.exitCode = await main();
