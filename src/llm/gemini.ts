// Gemini through the @google/generative-ai SDK, with bounded retries and typed errors.

import {
  type Content,
  type EnhancedGenerateContentResponse,
  type GenerativeModel,
  GoogleGenerativeAI,
  GoogleGenerativeAIAbortError,
  GoogleGenerativeAIError,
  GoogleGenerativeAIFetchError,
  GoogleGenerativeAIRequestInputError,
} from '@google/generative-ai';
import {
  classifyStatus,
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUT_MS,
  type ModelDeps,
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

export const DEFAULT_GEMINI_MODEL = 'gemini-2.5-pro';
export const DEFAULT_GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com';

export interface GeminiOptions extends Partial<RetryPolicy> {
  apiKey: string;
  /** Default gemini-2.5-pro, the seed's model. */
  model?: string;
  /** Another endpoint speaking the same REST protocol: a gateway, or the fake server in tests. */
  baseUrl?: string;
  /** Per request, not per call: each retry gets the full time again. */
  timeoutMs?: number;
}

/** Finish reasons that mean the answer was withheld, not that the model had nothing to say. */
const BLOCKING_FINISH_REASONS = new Set([
  'SAFETY',
  'RECITATION',
  'PROHIBITED_CONTENT',
  'BLOCKLIST',
  'SPII',
  'IMAGE_SAFETY',
  'LANGUAGE',
]);

const PROVIDER = 'gemini';

export class GeminiModel implements LanguageModel {
  readonly provider = PROVIDER;
  readonly model: string;
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly #client: GenerativeModel;
  readonly #policy: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #deps: Required<ModelDeps>;

  constructor(options: GeminiOptions, deps: ModelDeps = {}) {
    if (!options.apiKey) throw new Error('no Gemini API key given');
    this.model = options.model ?? DEFAULT_GEMINI_MODEL;
    this.#apiKey = options.apiKey;
    this.#baseUrl = (options.baseUrl ?? DEFAULT_GEMINI_BASE_URL).replace(/\/+$/, '');
    this.#policy = {
      maxRetries: options.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries,
      baseDelayMs: options.baseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
      maxDelayMs: options.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
      maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_RETRY_POLICY.maxRetryAfterMs,
    };
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#deps = resolveDeps(deps);
    // The timeout is not given to the SDK as requestOptions.timeout: the SDK never clears that timer,
    // which would keep a finished CLI alive for the whole timeout. A per-request AbortSignal.timeout
    // passed as requestOptions.signal aborts the same fetch without that cost.
    this.#client = new GoogleGenerativeAI(this.#apiKey).getGenerativeModel(
      { model: this.model },
      { baseUrl: this.#baseUrl },
    );
  }

  async generate(request: GenerateRequest): Promise<Generation> {
    const started = this.#deps.now();
    const contents: Content[] = [
      ...(request.history ?? []).map((turn) => ({ role: turn.role, parts: [{ text: turn.text }] })),
      { role: 'user', parts: [{ text: request.prompt }] },
    ];
    const { value, attempts } = await withRetries(
      () => this.#send(contents, request.system, request.signal),
      this.#policy,
      this.#deps,
      request.signal,
    );
    return { ...value, latencyMs: Math.max(0, Math.round(this.#deps.now() - started)), attempts };
  }

  async #send(
    contents: Content[],
    system: string | undefined,
    caller: AbortSignal | undefined,
  ): Promise<{ text: string; usage: Usage }> {
    const timeout = timeoutSignal(this.#timeoutMs, caller);
    let response: EnhancedGenerateContentResponse;
    try {
      const result = await this.#client.generateContent(
        { contents, ...(system ? { systemInstruction: system } : {}) },
        { signal: timeout.signal },
      );
      response = result.response;
    } catch (error) {
      throw this.#toModelError(error, timeout.timedOut());
    }
    return this.#read(response, contents, system);
  }

  #read(response: EnhancedGenerateContentResponse, contents: Content[], system: string | undefined) {
    const feedback = response.promptFeedback;
    if (feedback?.blockReason) {
      const detail = feedback.blockReasonMessage ? `: ${feedback.blockReasonMessage}` : '';
      throw this.#error(`Gemini blocked the prompt (${feedback.blockReason})${detail}`, 'blocked', false);
    }
    const candidate = response.candidates?.[0];
    if (!candidate) throw this.#error('Gemini returned no candidate', 'empty', false);
    const finishReason = candidate.finishReason as string | undefined;
    if (finishReason && BLOCKING_FINISH_REASONS.has(finishReason)) {
      const detail = candidate.finishMessage ? `: ${candidate.finishMessage}` : '';
      throw this.#error(
        `Gemini withheld the answer (finishReason ${finishReason})${detail}`,
        'blocked',
        false,
      );
    }
    const text = (candidate.content?.parts ?? [])
      .map((part) => part.text ?? '')
      .join('')
      .trim();
    if (!text) {
      throw this.#error(
        `Gemini returned an empty answer (finishReason ${finishReason ?? 'unset'})`,
        'empty',
        false,
      );
    }
    const metadata = response.usageMetadata;
    let usage: Usage;
    if (metadata) {
      usage = {
        promptTokens: metadata.promptTokenCount ?? 0,
        outputTokens: metadata.candidatesTokenCount ?? 0,
        totalTokens: metadata.totalTokenCount ?? 0,
      };
    } else {
      // Gateways may drop usage; an estimate keeps budgets meaningful.
      const promptText = [system ?? '', ...contents.flatMap((c) => c.parts.map((p) => p.text ?? ''))].join(
        '',
      );
      const promptTokens = estimateTokens(promptText);
      const outputTokens = estimateTokens(text);
      usage = { promptTokens, outputTokens, totalTokens: promptTokens + outputTokens };
    }
    return { text, usage };
  }

  #toModelError(error: unknown, timedOut: boolean): unknown {
    if (timedOut) {
      return this.#error(`Gemini did not answer within ${this.#timeoutMs} ms`, 'timeout', true);
    }
    if (error instanceof GoogleGenerativeAIFetchError) {
      const status = error.status ?? 0;
      const details = (error.errorDetails ?? []) as {
        '@type'?: string;
        reason?: string;
        retryDelay?: string;
      }[];
      // The SDK drops response headers, so a Retry-After header never reaches us; Gemini states the
      // same wait in a google.rpc.RetryInfo detail of the error body, which the SDK keeps.
      const retryAfterMs = parseDuration(
        details.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay,
      );
      const keyInvalid = details.some((d) => d.reason === 'API_KEY_INVALID');
      const { kind, retryable } = keyInvalid
        ? { kind: 'auth' as const, retryable: false }
        : classifyStatus(status);
      const serverMessage = error.message.replace(/^.*?\[\d+[^\]]*\]\s*/, '').replace(/\s*\[\{.*$/, '');
      return this.#error(
        `Gemini returned ${status}${error.statusText ? ` ${error.statusText}` : ''}${serverMessage ? `: ${serverMessage}` : ''}${retryAfterMs === undefined ? '' : ` (asked to wait ${retryAfterMs / 1000} s)`}`,
        kind,
        retryable,
        { status, retryAfterMs },
      );
    }
    if (error instanceof SyntaxError) {
      return this.#error(`Gemini returned a body that is not valid JSON (${error.message})`, 'server', true);
    }
    if (error instanceof GoogleGenerativeAIAbortError || (error as Error)?.name === 'AbortError') {
      return this.#error('the request to Gemini was aborted', 'timeout', true);
    }
    if (error instanceof GoogleGenerativeAIRequestInputError) {
      return this.#error(`invalid Gemini request: ${stripPrefix(error.message)}`, 'bad-request', false);
    }
    if (error instanceof GoogleGenerativeAIError) {
      // Connection refused, reset, DNS: the SDK wraps fetch's failure without a status.
      const origin = safeOrigin(this.#baseUrl);
      return this.#error(
        `could not reach Gemini at ${origin}: ${stripPrefix(error.message)}`,
        'server',
        true,
      );
    }
    return error;
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

function stripPrefix(message: string): string {
  return message.replace(/^\[GoogleGenerativeAI Error\]:\s*/, '');
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the configured base URL';
  }
}

/** Parses a protobuf Duration as JSON renders it ("7s", "1.5s"). */
export function parseDuration(value: string | undefined): number | undefined {
  const match = value ? /^(\d+(?:\.\d+)?)s$/.exec(value.trim()) : null;
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}
