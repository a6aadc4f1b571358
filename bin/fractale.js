#!/usr/bin/env node
// Runs the sources in a checkout (Node 24 runs TypeScript directly), else the compiled CLI (the
// published package and the container image ship dist/ only).
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const entry = existsSync(source) ? source : new URL('../dist/cli/main.js', import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main();
