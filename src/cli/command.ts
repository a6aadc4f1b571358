// What every command module receives: the I/O and a way to set the exit code.
import type { CliIO } from './io.ts';

export interface CommandContext {
  io: CliIO;
  /** Sets the process's exit code (the highest one set wins). */
  exit(code: number): void;
}

/** Exit codes: 1 for an error a person can act on, 2 when the work itself failed, 130 after Ctrl-C. */
export const EXIT = { userError: 1, failed: 2, interrupted: 130 } as const;

/** The options every cluster command takes. */
export interface ClusterOptions {
  namespace?: string;
  kubeconfig?: string;
}
