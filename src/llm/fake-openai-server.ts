// A local HTTP server that speaks the OpenAI chat-completions protocol (POST {baseUrl}/chat/completions,
// key as a Bearer token), for tests and the demo. Each request takes the next queued behaviour.

import type { ServerResponse } from 'node:http';
import {
  type LoopbackServer,
  parseJson,
  redactedHeaders,
  sendJson,
  startLoopbackServer,
} from './fake-server-base.ts';
import { estimateTokens } from './types.ts';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type FakeOpenAIBehavior =
  /** 200 with one choice; usage defaults to estimates from the messages and the text, null leaves it out. */
  | { type: 'text'; text: string; usage?: OpenAIUsage | null; finishReason?: string }
  /** 429 with Retry-After (seconds) and retry-after-ms headers when given. */
  | { type: 'rate-limited'; retryAfterSeconds?: number }
  /** Any HTTP error status with OpenAI's error body. */
  | { type: 'error'; status: number; message?: string }
  /** 200 with finish_reason content_filter and no content. */
  | { type: 'blocked' }
  /** 200 with empty content. */
  | { type: 'empty' }
  /** 200 whose body is not JSON. */
  | { type: 'malformed' }
  /** Waits `delayMs` before behaving as `then` (default: a short text answer). */
  | { type: 'slow'; delayMs: number; then?: FakeOpenAIBehavior };

export interface RecordedOpenAIRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  apiKeyPresent: boolean;
  apiKeyAccepted: boolean;
  body: { model?: string; messages?: { role: string; content: string }[]; [key: string]: unknown };
}

export interface FakeOpenAIServer {
  /** Give this as the base URL (it ends in /v1). */
  url: string;
  port: number;
  requests: RecordedOpenAIRequest[];
  enqueue(...behaviors: FakeOpenAIBehavior[]): void;
  pending(): number;
  close(): Promise<void>;
}

export interface FakeOpenAIOptions {
  /** When set, requests without this Bearer key get 401 (not consuming a behaviour). */
  apiKey?: string;
  fallback?: (request: RecordedOpenAIRequest) => FakeOpenAIBehavior | Promise<FakeOpenAIBehavior>;
  host?: string;
  port?: number;
}

function openaiError(res: ServerResponse, status: number, message: string, type: string, headers = {}) {
  sendJson(res, status, { error: { message, type, param: null, code: null } }, headers);
}

export async function startFakeOpenAIServer(options: FakeOpenAIOptions = {}): Promise<FakeOpenAIServer> {
  const queue: FakeOpenAIBehavior[] = [];
  const requests: RecordedOpenAIRequest[] = [];
  let server: LoopbackServer;
  let completions = 0;

  const behave = (res: ServerResponse, behavior: FakeOpenAIBehavior, recorded: RecordedOpenAIRequest) => {
    const choice = (content: string | null, finishReason: string) => ({
      id: `chatcmpl-fake-${++completions}`,
      object: 'chat.completion',
      created: 0,
      model: recorded.body.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
    });
    switch (behavior.type) {
      case 'text': {
        const prompt_tokens = estimateTokens((recorded.body.messages ?? []).map((m) => m.content).join(''));
        const completion_tokens = estimateTokens(behavior.text);
        const usage =
          behavior.usage === undefined
            ? { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens }
            : behavior.usage;
        sendJson(res, 200, {
          ...choice(behavior.text, behavior.finishReason ?? 'stop'),
          ...(usage ? { usage } : {}),
        });
        return;
      }
      case 'rate-limited': {
        const seconds = behavior.retryAfterSeconds;
        openaiError(
          res,
          429,
          'Rate limit reached for requests',
          'requests',
          seconds === undefined
            ? {}
            : { 'retry-after': String(seconds), 'retry-after-ms': String(seconds * 1000) },
        );
        return;
      }
      case 'error':
        openaiError(
          res,
          behavior.status,
          behavior.message ?? `fake error ${behavior.status}`,
          'server_error',
        );
        return;
      case 'blocked':
        sendJson(res, 200, choice(null, 'content_filter'));
        return;
      case 'empty':
        sendJson(res, 200, choice('', 'stop'));
        return;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"choices": [');
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
      const auth = req.headers.authorization;
      const key =
        typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
      const recorded: RecordedOpenAIRequest = {
        method: req.method ?? '',
        path: url.pathname,
        headers: redactedHeaders(req, ['authorization']),
        apiKeyPresent: Boolean(key),
        apiKeyAccepted: options.apiKey === undefined || key === options.apiKey,
        body: (parseJson(rawBody) as RecordedOpenAIRequest['body'] | undefined) ?? {},
      };
      requests.push(recorded);
      if (req.method !== 'POST' || url.pathname !== '/v1/chat/completions') {
        openaiError(
          res,
          404,
          `fake OpenAI server: no route for ${req.method} ${url.pathname}`,
          'invalid_request_error',
        );
        return;
      }
      if (!recorded.apiKeyAccepted) {
        openaiError(res, 401, 'Incorrect API key provided.', 'invalid_request_error');
        return;
      }
      const queued = queue.shift();
      if (queued) {
        behave(res, queued, recorded);
      } else if (options.fallback) {
        Promise.resolve(options.fallback(recorded)).then(
          (behavior) => behave(res, behavior, recorded),
          (error: Error) =>
            openaiError(res, 500, `fake OpenAI server: fallback failed: ${error.message}`, 'server_error'),
        );
      } else {
        openaiError(
          res,
          400,
          'fake OpenAI server: no behaviour queued for this request',
          'invalid_request_error',
        );
      }
    },
    { host: options.host, port: options.port },
  );

  return {
    url: `${server.url}/v1`,
    port: server.port,
    requests,
    enqueue: (...behaviors) => {
      queue.push(...behaviors);
    },
    pending: () => queue.length,
    close: () => server.close(),
  };
}
