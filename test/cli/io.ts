// Runs the fractale command in-process with captured output, as a person would type it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIO } from '../../src/cli/io.ts';
import { run } from '../../src/cli/main.ts';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestIO extends CliIO {
  out: string[];
  err: string[];
  /** Presses Ctrl-C. */
  interrupt(): void;
}

export function testIO(overrides: Partial<CliIO> & { tty?: boolean } = {}): TestIO {
  const out: string[] = [];
  const err: string[] = [];
  const interrupt = new AbortController();
  let seed = 0;
  const { tty, ...rest } = overrides;
  return {
    out,
    err,
    interrupt: () => interrupt.abort(),
    stdout: { write: (text: string) => out.push(text), isTTY: Boolean(tty), columns: 160 },
    stderr: { write: (text: string) => err.push(text) },
    env: { HOME: mkdtempSync(join(tmpdir(), 'fractale-home-')) },
    cwd: process.cwd(),
    operatorWaitMs: 10_000,
    signal: interrupt.signal,
    now: () => new Date(),
    // Deterministic names: the same suffix every run.
    random: () => {
      seed = (seed * 9301 + 49297) % 233280;
      return seed / 233280;
    },
    ...rest,
  };
}

/** Runs `fractale <argv>` and returns its exit code and output. */
export async function fractale(argv: string[], io: TestIO = testIO()): Promise<Captured> {
  const code = await run(argv, io);
  return { code, stdout: io.out.join(''), stderr: io.err.join('') };
}

export const tempDir = (prefix = 'fractale-cli-') => mkdtempSync(join(tmpdir(), prefix));
