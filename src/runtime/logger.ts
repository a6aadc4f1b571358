// Structured logs: JSON by default (for log collectors), pretty on a terminal. Secrets are redacted
// by key wherever they appear, and by value (the keys the operator read, credentials by their shape:
// src/kube/redact.ts) in every line, as a second line of defence: the code never logs them on purpose.
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import { SECRETS, type SecretRedactor } from '../kube/redact.ts';

export type { Logger };

export const REDACTED_KEYS = [
  'apiKey',
  'api_key',
  'authorization',
  'Authorization',
  'token',
  'password',
  'x-goog-api-key',
  '*.apiKey',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["x-goog-api-key"]',
  '*.token',
  '*.password',
];

export interface LoggerOptions {
  level?: string;
  pretty?: boolean;
  destination?: pino.DestinationStream;
  /** Redacts each line before it is written; default: the process's (SECRETS). */
  redactor?: SecretRedactor;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  const redactor = options.redactor ?? SECRETS;
  const base: pino.LoggerOptions = {
    level: options.level ?? 'info',
    base: undefined,
    redact: { paths: REDACTED_KEYS, censor: '[redacted]' },
    // The serialised line, messages and error stacks included, just before any destination gets it.
    hooks: { streamWrite: (line) => redactor.redact(line) },
  };
  if (options.destination && pretty) {
    // Formatted in this thread (not a transport's worker), so the lines go where the caller says.
    const out = options.destination;
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        out.write(chunk.toString());
        done();
      },
    });
    return pino(
      base,
      pinoPretty({
        colorize: true,
        ignore: 'pid,hostname',
        translateTime: 'HH:MM:ss',
        sync: true,
        destination,
      }),
    );
  }
  if (options.destination) return pino(base, options.destination);
  if (pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' },
      },
    });
  }
  return pino(base);
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger = (): Logger => pino({ level: 'silent' });
