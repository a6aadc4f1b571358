// What a command reads and writes besides its arguments, injectable so commands run in-process in
// tests: streams, environment, clock, randomness, how long to wait for the operator, and Ctrl-C.

export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIO {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** How long a new step or plan may stay without status before the operator is reported missing. */
  operatorWaitMs: number;
  /** Aborted when the person presses Ctrl-C: following stops, the work goes on. */
  signal: AbortSignal;
  now: () => Date;
  random: () => number;
}

export const DEFAULT_OPERATOR_WAIT_MS = 10_000;

/** The process's own streams and environment; the first Ctrl-C aborts `signal`, a second one exits. */
export function processIO(): CliIO {
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Output piped into `head` (or a closed pager) is not an error: stop writing, as Unix tools do.
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    operatorWaitMs: Number(process.env['FRACTALE_OPERATOR_WAIT_MS']) || DEFAULT_OPERATOR_WAIT_MS,
    signal: interrupt.signal,
    now: () => new Date(),
    random: Math.random,
  };
}

/** Writes a line. */
export const println = (stream: OutputStream, line = '') => stream.write(`${line}\n`);

/** Resolves when the signal aborts (at once when it already has). */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
