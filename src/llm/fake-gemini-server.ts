// A local HTTP server that speaks the Gemini REST protocol the @google/generative-ai SDK uses
// (POST {baseUrl}/v1beta/models/{model}:generateContent, key in the x-goog-api-key header), so tests and
// the demo exercise the real SDK. Each request takes the next queued behaviour.

import type { ServerResponse } from 'node:http';
import {
  type LoopbackServer,
  parseJson,
  redactedHeaders,
  sendJson,
  startLoopbackServer,
} from './fake-server-base.ts';
import { type ChatTurn, estimateTokens, type LanguageModel } from './types.ts';

export interface GeminiUsageMetadata {
  promptTokenCount: number;
  candidatesTokenCount: number;
  totalTokenCount: number;
}

export type FakeGeminiBehavior =
  /** 200 with one candidate; usage defaults to estimates from the request and the text, null leaves it out. */
  | { type: 'text'; text: string; usage?: GeminiUsageMetadata | null; finishReason?: string }
  /** 429 RESOURCE_EXHAUSTED, with a Retry-After header and a google.rpc.RetryInfo detail when given. */
  | { type: 'rate-limited'; retryAfterSeconds?: number }
  /** Any HTTP error status with Google's error body (500, 502, 503, 504, 400, 403, ...). */
  | { type: 'error'; status: number; message?: string }
  /** Blocked: `prompt` sends promptFeedback.blockReason and no candidates; `candidate` a candidate stopped by finishReason. */
  | { type: 'blocked'; where: 'prompt'; blockReason?: string }
  | { type: 'blocked'; where: 'candidate'; finishReason?: string }
  /** 200 with a candidate that has no text. */
  | { type: 'empty'; finishReason?: string }
  /** 200 whose body is not JSON. */
  | { type: 'malformed' }
  /** Waits `delayMs` before behaving as `then` (default: a short text answer). */
  | { type: 'slow'; delayMs: number; then?: FakeGeminiBehavior };

export interface GeminiContent {
  role?: string;
  parts: { text?: string }[];
}

/** What a client sent; the API key itself is never kept, only whether one came and matched. */
export interface RecordedGeminiRequest {
  method: string;
  path: string;
  model: string | undefined;
  task: string | undefined;
  headers: Record<string, string>;
  apiKeyPresent: boolean;
  apiKeyAccepted: boolean;
  body: {
    contents?: GeminiContent[];
    systemInstruction?: GeminiContent;
    generationConfig?: Record<string, unknown>;
    [key: string]: unknown;
  };
  rawBody: string;
}

export interface FakeGeminiServer {
  /** Give this as the SDK's requestOptions.baseUrl. */
  url: string;
  port: number;
  requests: RecordedGeminiRequest[];
  enqueue(...behaviors: FakeGeminiBehavior[]): void;
  /** Behaviours not yet used. */
  pending(): number;
  close(): Promise<void>;
}

export interface FakeGeminiOptions {
  /** When set, requests with another key get Gemini's 400 API_KEY_INVALID (not consuming a behaviour). */
  apiKey?: string;
  /** Answers requests when the queue is empty; without it they get a 400 naming the empty queue. */
  fallback?: (request: RecordedGeminiRequest) => FakeGeminiBehavior | Promise<FakeGeminiBehavior>;
  host?: string;
  port?: number;
}

const PATH = /^\/(v1beta|v1)\/(?:models|tunedModels)\/([^/:]+):([A-Za-z]+)$/;

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function googleError(
  res: ServerResponse,
  status: number,
  message: string,
  details?: unknown[],
  headers = {},
) {
  sendJson(
    res,
    status,
    {
      error: {
        code: status,
        message,
        status: STATUS_NAMES[status] ?? 'UNKNOWN',
        ...(details ? { details } : {}),
      },
    },
    headers,
  );
}

function promptText(body: RecordedGeminiRequest['body']): string {
  const texts: string[] = [];
  for (const content of [
    ...(body.contents ?? []),
    ...(body.systemInstruction ? [body.systemInstruction] : []),
  ]) {
    for (const part of content.parts ?? []) if (part.text) texts.push(part.text);
  }
  return texts.join('\n');
}

export async function startFakeGeminiServer(options: FakeGeminiOptions = {}): Promise<FakeGeminiServer> {
  const queue: FakeGeminiBehavior[] = [];
  const requests: RecordedGeminiRequest[] = [];
  let server: LoopbackServer;

  const behave = (res: ServerResponse, behavior: FakeGeminiBehavior, recorded: RecordedGeminiRequest) => {
    switch (behavior.type) {
      case 'text': {
        const promptTokenCount = estimateTokens(promptText(recorded.body));
        const candidatesTokenCount = estimateTokens(behavior.text);
        sendJson(res, 200, {
          candidates: [
            {
              content: { role: 'model', parts: [{ text: behavior.text }] },
              finishReason: behavior.finishReason ?? 'STOP',
              index: 0,
            },
          ],
          ...(behavior.usage === null
            ? {}
            : {
                usageMetadata: behavior.usage ?? {
                  promptTokenCount,
                  candidatesTokenCount,
                  totalTokenCount: promptTokenCount + candidatesTokenCount,
                },
              }),
          modelVersion: recorded.model,
        });
        return;
      }
      case 'rate-limited': {
        const seconds = behavior.retryAfterSeconds;
        googleError(
          res,
          429,
          'Resource has been exhausted (e.g. check quota).',
          seconds === undefined
            ? undefined
            : [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${seconds}s` }],
          seconds === undefined ? {} : { 'retry-after': String(seconds) },
        );
        return;
      }
      case 'error':
        googleError(res, behavior.status, behavior.message ?? `fake error ${behavior.status}`);
        return;
      case 'blocked':
        if (behavior.where === 'prompt') {
          sendJson(res, 200, {
            promptFeedback: {
              blockReason: behavior.blockReason ?? 'SAFETY',
              safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH' }],
            },
            usageMetadata: {
              promptTokenCount: estimateTokens(promptText(recorded.body)),
              totalTokenCount: 0,
            },
          });
        } else {
          sendJson(res, 200, {
            candidates: [
              {
                finishReason: behavior.finishReason ?? 'SAFETY',
                index: 0,
                safetyRatings: [
                  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true },
                ],
              },
            ],
          });
        }
        return;
      case 'empty':
        sendJson(res, 200, {
          candidates: [
            {
              content: { role: 'model', parts: [] },
              finishReason: behavior.finishReason ?? 'STOP',
              index: 0,
            },
          ],
          usageMetadata: { promptTokenCount: estimateTokens(promptText(recorded.body)), totalTokenCount: 0 },
        });
        return;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"candidates": [ {"content": ');
        return;
      case 'slow':
        server.later(res, behavior.delayMs, () =>
          behave(res, behavior.then ?? { type: 'text', text: 'slow answer' }, recorded),
        );
        return;
    }
  };

  server = await startLoopbackServer(
    (req, res, rawBody) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const match = PATH.exec(url.pathname);
      const key = req.headers['x-goog-api-key'];
      const apiKeyPresent = typeof key === 'string' && key.length > 0;
      const apiKeyAccepted = apiKeyPresent && (options.apiKey === undefined || key === options.apiKey);
      const recorded: RecordedGeminiRequest = {
        method: req.method ?? '',
        path: url.pathname,
        model: match?.[2],
        task: match?.[3],
        headers: redactedHeaders(req, ['x-goog-api-key', 'authorization']),
        apiKeyPresent,
        apiKeyAccepted,
        body: (parseJson(rawBody) as RecordedGeminiRequest['body'] | undefined) ?? {},
        rawBody,
      };
      requests.push(recorded);
      if (req.method !== 'POST' || !match) {
        googleError(res, 404, `fake Gemini server: no route for ${req.method} ${url.pathname}`);
        return;
      }
      if (match[3] !== 'generateContent') {
        googleError(res, 400, `fake Gemini server: only generateContent is served, not ${match[3]}`);
        return;
      }
      if (!apiKeyAccepted) {
        googleError(res, 400, 'API key not valid. Please pass a valid API key.', [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
          },
        ]);
        return;
      }
      const queued = queue.shift();
      if (queued) {
        behave(res, queued, recorded);
      } else if (options.fallback) {
        Promise.resolve(options.fallback(recorded)).then(
          (behavior) => behave(res, behavior, recorded),
          (error: Error) => googleError(res, 500, `fake Gemini server: fallback failed: ${error.message}`),
        );
      } else {
        googleError(res, 400, 'fake Gemini server: no behaviour queued for this request');
      }
    },
    { host: options.host, port: options.port },
  );

  return {
    url: server.url,
    port: server.port,
    requests,
    enqueue: (...behaviors) => {
      queue.push(...behaviors);
    },
    pending: () => queue.length,
    close: () => server.close(),
  };
}

/**
 * A fallback that answers each request with `model` (e.g. a ScriptedModel), so a demo can drive the real
 * SDK with reproducible answers. The REST protocol carries no agent name, so script entries used this
 * way should select by `match`, not by `agent`. A model error becomes a 400 naming it.
 */
export function answerWith(
  model: LanguageModel,
): (request: RecordedGeminiRequest) => Promise<FakeGeminiBehavior> {
  const textOf = (content: GeminiContent | undefined) =>
    (content?.parts ?? []).map((part) => part.text ?? '').join('');
  return async (request) => {
    const contents = request.body.contents ?? [];
    const history: ChatTurn[] = contents
      .slice(0, -1)
      .map((content) => ({ role: content.role === 'model' ? 'model' : 'user', text: textOf(content) }));
    const system = textOf(request.body.systemInstruction) || undefined;
    try {
      const generation = await model.generate({ prompt: textOf(contents.at(-1)), history, system });
      return { type: 'text', text: generation.text };
    } catch (error) {
      return { type: 'error', status: 400, message: (error as Error).message };
    }
  };
}
