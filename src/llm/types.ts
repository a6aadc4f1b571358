// The one interface every model provider implements, and the typed error they all throw.

/** One earlier turn of a conversation, oldest first. `model` is the model's own answer. */
export interface ChatTurn {
  role: 'user' | 'model';
  text: string;
}

export interface GenerateRequest {
  /** The new user message. */
  prompt: string;
  /** Earlier turns, oldest first; sent before the prompt. */
  history?: ChatTurn[];
  /** System instruction for this call. */
  system?: string;
  /** The agent asking (build, debug, manager, ...); scripted answers are selected by it. */
  agent?: string;
  /**
   * A key that makes scripted `choices` reproducible: the same seed picks the same choice. The
   * operator passes the plan's name, or the step's for a step on its own. Real providers ignore it.
   */
  seed?: string;
  /** Cancels the call, including waits between retries; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Called once if the call has to wait for its turn (src/llm/limiter.ts): how many calls wait before
   * it and what limits the provider's calls. Models without a limit never call it.
   */
  onQueued?: (wait: ModelWait) => void;
  /** Called by a limited model when the call is let through, at once or after waiting. */
  onStarted?: () => void;
}

/** Where a call waits in its provider's queue when it is queued. */
export interface ModelWait {
  provider: string;
  /** Calls queued before this one. */
  ahead: number;
  /** The most calls of the provider in flight at once. */
  concurrency: number;
  /** The provider's tokens-per-minute budget; 0: none. */
  tokensPerMinute: number;
}

export interface Usage {
  promptTokens: number;
  outputTokens: number;
  totalTokens: number;
}

export interface Generation {
  text: string;
  usage: Usage;
  /** Wall time of the whole call, retries and waits between them included. */
  latencyMs: number;
  /** Requests sent: 1 when the first succeeded. */
  attempts: number;
  /** Who answered (provider and model name), recorded with each call so a report can price it. */
  provider?: string;
  model?: string;
}

export interface LanguageModel {
  readonly provider: string;
  readonly model: string;
  generate(request: GenerateRequest): Promise<Generation>;
}

export const MODEL_ERROR_KINDS = [
  'blocked',
  'empty',
  'rate-limited',
  'server',
  'timeout',
  'auth',
  'bad-request',
  'no-script-match',
] as const;
export type ModelErrorKind = (typeof MODEL_ERROR_KINDS)[number];

export interface ModelErrorOptions {
  kind: ModelErrorKind;
  /** Whether sending the same request again later may succeed. */
  retryable: boolean;
  provider: string;
  /** Requests sent before giving up. */
  attempts?: number;
  /** HTTP status of the last failed response, when there was one. */
  status?: number;
  /** How long the server asked us to wait before the next request (rate limits). */
  retryAfterMs?: number;
}

/**
 * A failed model call. Its message is built by the providers from status codes and server messages with
 * the API key removed, and no raw cause is attached, so it is safe to log, record in status and show.
 */
export class ModelError extends Error {
  readonly kind: ModelErrorKind;
  readonly retryable: boolean;
  readonly provider: string;
  readonly attempts: number;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: ModelErrorOptions) {
    super(message);
    this.name = 'ModelError';
    this.kind = options.kind;
    this.retryable = options.retryable;
    this.provider = options.provider;
    this.attempts = options.attempts ?? 0;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** The same error, after `attempts` requests in all. */
  withAttempts(attempts: number): ModelError {
    const copy = new ModelError(this.message, {
      kind: this.kind,
      retryable: this.retryable,
      provider: this.provider,
      attempts,
      status: this.status,
      retryAfterMs: this.retryAfterMs,
    });
    return copy;
  }
}

export function isModelError(error: unknown): error is ModelError {
  return error instanceof ModelError;
}

/** Replaces every occurrence of each secret in `text`; used on anything a server or SDK said. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    // Very short strings would redact ordinary words; real keys are long.
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** Rough token count used where a provider reports none: about 4 characters per token for English and code. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
