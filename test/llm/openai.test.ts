// The OpenAI-compatible provider against the fake chat-completions server.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAIServer, startFakeOpenAIServer } from '../../src/llm/fake-openai-server.ts';
import { createModel, isModelError, ModelConfigError, type ModelError } from '../../src/llm/index.ts';
import { OpenAIModel, type OpenAIOptions } from '../../src/llm/openai.ts';

const API_KEY = 'sk-fake-test-key-0123456789abcdef';

let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await startFakeOpenAIServer({ apiKey: API_KEY });
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.requests.length = 0;
  expect(server.pending(), 'every queued behaviour was used').toBe(0);
});

function model(options: Partial<OpenAIOptions> = {}) {
  const sleeps: number[] = [];
  const openai = new OpenAIModel(
    {
      apiKey: API_KEY,
      model: 'qwen2.5-coder',
      baseUrl: server.url,
      baseDelayMs: 100,
      maxDelayMs: 1_000,
      ...options,
    },
    {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    },
  );
  return { openai, sleeps };
}

async function failure(promise: Promise<unknown>): Promise<ModelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isModelError(error)) throw new Error(`expected a ModelError, got ${String(error)}`);
  for (const shown of [error.message, String(error), error.stack ?? '', JSON.stringify(error)]) {
    expect(shown).not.toContain(API_KEY);
  }
  return error;
}

describe('openai-compatible provider', () => {
  it('sends system, history and prompt as chat messages and reports the usage the server counted', async () => {
    server.enqueue({
      type: 'text',
      text: 'apiVersion: batch/v1\nkind: Job',
      usage: { prompt_tokens: 321, completion_tokens: 12, total_tokens: 333 },
    });
    const { openai } = model();
    const generation = await openai.generate({
      prompt: 'Write the Job',
      system: 'You write Kubernetes manifests.',
      history: [
        { role: 'user', text: 'first try' },
        { role: 'model', text: 'kind: Pod' },
      ],
    });
    expect(generation.text).toBe('apiVersion: batch/v1\nkind: Job');
    expect(generation.usage).toEqual({ promptTokens: 321, outputTokens: 12, totalTokens: 333 });
    expect(generation.attempts).toBe(1);

    const sent = server.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.apiKeyAccepted).toBe(true);
    expect(sent.headers.authorization).toBe('[redacted]');
    expect(sent.body.model).toBe('qwen2.5-coder');
    expect(sent.body.messages).toEqual([
      { role: 'system', content: 'You write Kubernetes manifests.' },
      { role: 'user', content: 'first try' },
      { role: 'assistant', content: 'kind: Pod' },
      { role: 'user', content: 'Write the Job' },
    ]);
  });

  it('honours Retry-After on 429, then succeeds', async () => {
    server.enqueue({ type: 'rate-limited', retryAfterSeconds: 3 }, { type: 'text', text: 'ok' });
    const { openai, sleeps } = model();
    const generation = await openai.generate({ prompt: 'hi' });
    expect(generation.attempts).toBe(2);
    expect(sleeps).toEqual([3_000]);
  });

  it('gives up on repeated 502s after maxRetries + 1 requests', async () => {
    server.enqueue(...Array.from({ length: 3 }, () => ({ type: 'error' as const, status: 502 })));
    const { openai, sleeps } = model({ maxRetries: 2 });
    const error = await failure(openai.generate({ prompt: 'hi' }));
    expect(error.kind).toBe('server');
    expect(error.attempts).toBe(3);
    expect(sleeps).toHaveLength(2);
    expect(server.requests).toHaveLength(3);
  });

  it.each([
    { behavior: { type: 'blocked' }, kind: 'blocked' },
    { behavior: { type: 'empty' }, kind: 'empty' },
    { behavior: { type: 'error', status: 400, message: 'context length exceeded' }, kind: 'bad-request' },
  ] as const)('reports $behavior.type as $kind without retrying', async ({ behavior, kind }) => {
    server.enqueue(behavior);
    const { openai, sleeps } = model();
    const error = await failure(openai.generate({ prompt: 'hi' }));
    expect(error.kind).toBe(kind);
    expect(error.retryable).toBe(false);
    expect(error.attempts).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('retries a body that is not JSON', async () => {
    server.enqueue({ type: 'malformed' }, { type: 'text', text: 'fine now' });
    const { openai } = model();
    const generation = await openai.generate({ prompt: 'hi' });
    expect(generation.text).toBe('fine now');
    expect(generation.attempts).toBe(2);
  });

  it('times out slow responses', async () => {
    server.enqueue({ type: 'slow', delayMs: 10_000 }, { type: 'slow', delayMs: 10_000 });
    const { openai } = model({ timeoutMs: 250, maxRetries: 1 });
    const error = await failure(openai.generate({ prompt: 'hi' }));
    expect(error.kind).toBe('timeout');
    expect(error.attempts).toBe(2);
  });

  it('reports a wrong key as auth, without the key', async () => {
    const wrong = new OpenAIModel({ apiKey: 'sk-wrong-key-must-not-leak', model: 'm', baseUrl: server.url });
    const error = await wrong.generate({ prompt: 'hi' }).catch((e: unknown) => e);
    expect(isModelError(error) && error.kind).toBe('auth');
    expect(String(error)).not.toContain('sk-wrong-key-must-not-leak');
  });

  it('estimates usage (about 4 characters a token) when the server reports none, and sends no key when none is set', async () => {
    const local = await startFakeOpenAIServer();
    try {
      local.enqueue({ type: 'text', text: 'x'.repeat(40), usage: null });
      const keyless = new OpenAIModel({ model: 'local', baseUrl: local.url });
      const generation = await keyless.generate({ prompt: 'p'.repeat(80) });
      expect(generation.usage).toEqual({ promptTokens: 20, outputTokens: 10, totalTokens: 30 });
      expect(local.requests[0]!.apiKeyPresent).toBe(false);
    } finally {
      await local.close();
    }
  });
});

describe('createModel for openai', () => {
  it('needs a model name', () => {
    expect(() => createModel({ provider: 'openai' }, { env: {} })).toThrow(ModelConfigError);
    expect(() => createModel({ provider: 'openai' }, { env: {} })).toThrow(/model name/);
  });

  it('reads OPENAI_BASE_URL and OPENAI_API_KEY from the environment', async () => {
    server.enqueue({ type: 'text', text: 'env works' });
    const openai = createModel(
      { provider: 'openai', model: 'llama3' },
      { env: { OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: server.url } },
    );
    expect(openai.provider).toBe('openai');
    expect((await openai.generate({ prompt: 'hi' })).text).toBe('env works');
    expect(server.requests[0]!.apiKeyAccepted).toBe(true);
  });

  it('names OPENAI_BASE_URL when it is not a URL', () => {
    expect(() =>
      createModel({ provider: 'openai', model: 'm' }, { env: { OPENAI_BASE_URL: 'localhost:8000' } }),
    ).toThrow(/baseUrl \(from OPENAI_BASE_URL\)/);
  });
});
