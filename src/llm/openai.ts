// Any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, LiteLLM, ...), over fetch.

import {
  classifyStatus,
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUT_MS,
  type ModelDeps,
  parseRetryAfter,
  type RetryPolicy,
  resolveDeps,
  timeoutSignal,
  withRetries,
} from './retry.ts';
import {
  estimateTokens,
  type GenerateRequest,
  type Generation,
  type LanguageModel,
  ModelError,
  redact,
  type Usage,
} from './types.ts';

export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAIOptions extends Partial<RetryPolicy> {
  /** Optional: local servers often need none. */
  apiKey?: string;
  model: string;
  /** Up to and including the version path, e.g. http://localhost:11434/v1; /chat/completions is appended. */
  baseUrl?: string;
  /** Per request: each retry gets the full time again. */
  timeoutMs?: number;
}

interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

interface ChatCompletion {
  choices?: {
    message?: { content?: string | null; refusal?: string | null };
    finish_reason?: string | null;
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
}

const PROVIDER = 'openai';

export class OpenAIModel implements LanguageModel {
  readonly provider = PROVIDER;
  readonly model: string;
  readonly #apiKey: string | undefined;
  readonly #endpoint: string;
  readonly #policy: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #deps: Required<ModelDeps>;

  constructor(options: OpenAIOptions, deps: ModelDeps = {}) {
    if (!options.model) throw new Error('no model name given for the OpenAI-compatible provider');
    this.model = options.model;
    this.#apiKey = options.apiKey || undefined;
    this.#endpoint = `${(options.baseUrl ?? DEFAULT_OPENAI_BASE_URL).replace(/\/+$/, '')}/chat/completions`;
    this.#policy = {
      maxRetries: options.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries,
      baseDelayMs: options.baseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
      maxDelayMs: options.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
      maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_RETRY_POLICY.maxRetryAfterMs,
    };
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#deps = resolveDeps(deps);
  }

  async generate(request: GenerateRequest): Promise<Generation> {
    const started = this.#deps.now();
    const messages: ChatMessage[] = [
      ...(request.system ? [{ role: 'system' as const, content: request.system }] : []),
      ...(request.history ?? []).map((turn) => ({
        role: turn.role === 'model' ? ('assistant' as const) : ('user' as const),
        content: turn.text,
      })),
      { role: 'user', content: request.prompt },
    ];
    const body = JSON.stringify({ model: this.model, messages });
    const { value, attempts } = await withRetries(
      () => this.#send(body, messages, request.signal),
      this.#policy,
      this.#deps,
      request.signal,
    );
    return { ...value, latencyMs: Math.max(0, Math.round(this.#deps.now() - started)), attempts };
  }

  async #send(body: string, messages: ChatMessage[], caller: AbortSignal | undefined) {
    const timeout = timeoutSignal(this.#timeoutMs, caller);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    let completion: ChatCompletion;
    try {
      const response = await fetch(this.#endpoint, { method: 'POST', headers, body, signal: timeout.signal });
      const text = await response.text();
      if (!response.ok) throw this.#httpError(response, text);
      try {
        completion = JSON.parse(text) as ChatCompletion;
      } catch (error) {
        throw this.#error(
          `the endpoint returned a body that is not valid JSON (${(error as Error).message})`,
          'server',
          true,
        );
      }
    } catch (error) {
      if (error instanceof ModelError) throw error;
      if (timeout.timedOut()) {
        throw this.#error(`the endpoint did not answer within ${this.#timeoutMs} ms`, 'timeout', true);
      }
      if (caller?.aborted) throw caller.reason;
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw this.#error(
        `could not reach ${safeOrigin(this.#endpoint)}: ${(error as Error).message}${cause ? ` (${cause})` : ''}`,
        'server',
        true,
      );
    }
    return this.#read(completion, messages);
  }

  #read(completion: ChatCompletion, messages: ChatMessage[]): { text: string; usage: Usage } {
    const choice = completion.choices?.[0];
    if (!choice) throw this.#error('the endpoint returned no choice', 'empty', false);
    if (choice.finish_reason === 'content_filter' || choice.message?.refusal) {
      const detail = choice.message?.refusal ? `: ${choice.message.refusal}` : '';
      throw this.#error(
        `the model's answer was withheld (${choice.finish_reason ?? 'refusal'})${detail}`,
        'blocked',
        false,
      );
    }
    const text = (choice.message?.content ?? '').trim();
    if (!text) {
      throw this.#error(
        `the endpoint returned an empty answer (finish_reason ${choice.finish_reason ?? 'unset'})`,
        'empty',
        false,
      );
    }
    const reported = completion.usage;
    let usage: Usage;
    if (reported && typeof reported.prompt_tokens === 'number') {
      const promptTokens = reported.prompt_tokens;
      const outputTokens = reported.completion_tokens ?? 0;
      usage = {
        promptTokens,
        outputTokens,
        totalTokens: reported.total_tokens ?? promptTokens + outputTokens,
      };
    } else {
      // Some compatible servers omit usage; estimate so budgets still count something.
      const promptTokens = estimateTokens(messages.map((m) => m.content).join(''));
      const outputTokens = estimateTokens(text);
      usage = { promptTokens, outputTokens, totalTokens: promptTokens + outputTokens };
    }
    return { text, usage };
  }

  #httpError(response: Response, text: string): ModelError {
    let serverMessage = '';
    try {
      const parsed = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
      serverMessage =
        typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message ?? '');
    } catch {
      serverMessage = text.slice(0, 200);
    }
    const { kind, retryable } = classifyStatus(response.status);
    // OpenAI sends the finer retry-after-ms beside Retry-After; prefer it when present.
    const retryAfterMs =
      msHeader(response.headers.get('retry-after-ms')) ??
      parseRetryAfter(response.headers.get('retry-after'));
    return this.#error(
      `the endpoint returned ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${serverMessage ? `: ${serverMessage}` : ''}${retryAfterMs === undefined ? '' : ` (asked to wait ${retryAfterMs / 1000} s)`}`,
      kind,
      retryable,
      { status: response.status, retryAfterMs },
    );
  }

  #error(
    message: string,
    kind: ModelError['kind'],
    retryable: boolean,
    extra: { status?: number; retryAfterMs?: number | undefined } = {},
  ): ModelError {
    return new ModelError(redact(message, [this.#apiKey]), { kind, retryable, provider: PROVIDER, ...extra });
  }
}

function msHeader(value: string | null): number | undefined {
  if (!value) return undefined;
  const ms = Number(value);
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms) : undefined;
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the configured base URL';
  }
}
