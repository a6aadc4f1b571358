// The Gemini provider through the real @google/generative-ai SDK against the fake Gemini REST server.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  answerWith,
  type FakeGeminiServer,
  startFakeGeminiServer,
} from '../../src/llm/fake-gemini-server.ts';
import { GeminiModel, type GeminiOptions } from '../../src/llm/gemini.ts';
import {
  createModel,
  isModelError,
  ModelConfigError,
  type ModelError,
  ScriptedModel,
} from '../../src/llm/index.ts';

const API_KEY = 'AIzaFAKE-test-key-0123456789abcdef';

let server: FakeGeminiServer;
beforeAll(async () => {
  server = await startFakeGeminiServer({ apiKey: API_KEY });
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  server.requests.length = 0;
  expect(server.pending(), 'every queued behaviour was used').toBe(0);
});

/** A model whose waits are recorded instead of slept, so retry tests take no wall time. */
function model(options: Partial<GeminiOptions> = {}, random = () => 0.5) {
  const sleeps: number[] = [];
  const gemini = new GeminiModel(
    { apiKey: API_KEY, baseUrl: server.url, baseDelayMs: 100, maxDelayMs: 1_000, ...options },
    {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random,
    },
  );
  return { gemini, sleeps };
}

async function failure(promise: Promise<unknown>): Promise<ModelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isModelError(error)) throw new Error(`expected a ModelError, got ${String(error)}`);
  // Whatever failed, the key must not leak through any way an error is usually printed.
  for (const shown of [error.message, String(error), error.stack ?? '', JSON.stringify(error)]) {
    expect(shown).not.toContain(API_KEY);
  }
  return error;
}

describe('gemini provider', () => {
  it('sends history, system instruction and prompt, and reports the usage Gemini counted', async () => {
    server.enqueue({
      type: 'text',
      text: '```dockerfile\nFROM ubuntu:24.04\n```',
      usage: { promptTokenCount: 123, candidatesTokenCount: 45, totalTokenCount: 190 },
    });
    const { gemini, sleeps } = model();
    const generation = await gemini.generate({
      prompt: 'Fix the build error',
      system: 'You write Dockerfiles.',
      history: [
        { role: 'user', text: 'Write a Dockerfile for LAMMPS' },
        { role: 'model', text: 'FROM ubuntu:22.04' },
      ],
    });

    expect(generation.text).toBe('```dockerfile\nFROM ubuntu:24.04\n```');
    expect(generation.usage).toEqual({ promptTokens: 123, outputTokens: 45, totalTokens: 190 });
    expect(generation.attempts).toBe(1);
    expect(generation.latencyMs).toBeGreaterThanOrEqual(0);
    expect(sleeps).toEqual([]);

    expect(server.requests).toHaveLength(1);
    const sent = server.requests[0]!;
    expect(sent.path).toBe('/v1beta/models/gemini-2.5-pro:generateContent');
    expect(sent.apiKeyAccepted).toBe(true);
    expect(sent.headers['x-goog-api-key']).toBe('[redacted]');
    expect(JSON.stringify(sent)).not.toContain(API_KEY);
    expect(sent.body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Write a Dockerfile for LAMMPS' }] },
      { role: 'model', parts: [{ text: 'FROM ubuntu:22.04' }] },
      { role: 'user', parts: [{ text: 'Fix the build error' }] },
    ]);
    expect(sent.body.systemInstruction?.parts).toEqual([{ text: 'You write Dockerfiles.' }]);
  });

  it('estimates usage (about 4 characters a token) when the response carries none', async () => {
    server.enqueue({ type: 'text', text: 'y'.repeat(40), usage: null });
    const { gemini } = model();
    const generation = await gemini.generate({ prompt: 'p'.repeat(60), system: 's'.repeat(20) });
    expect(generation.usage).toEqual({ promptTokens: 20, outputTokens: 10, totalTokens: 30 });
  });

  it('measures latency with the injected clock, waits between retries included', async () => {
    server.enqueue({ type: 'error', status: 503 }, { type: 'text', text: 'ok' });
    let clock = 1_000;
    const gemini = new GeminiModel(
      { apiKey: API_KEY, baseUrl: server.url, baseDelayMs: 400, maxDelayMs: 400 },
      {
        now: () => clock,
        random: () => 0,
        sleep: async (ms) => {
          clock += ms;
        },
      },
    );
    const generation = await gemini.generate({ prompt: 'hi' });
    expect(generation.latencyMs).toBe(200);
    expect(generation.attempts).toBe(2);
  });

  it('uses the configured model name', async () => {
    server.enqueue({ type: 'text', text: 'ok' });
    const { gemini } = model({ model: 'gemini-2.5-flash' });
    expect(gemini.model).toBe('gemini-2.5-flash');
    await gemini.generate({ prompt: 'hi' });
    expect(server.requests[0]!.model).toBe('gemini-2.5-flash');
  });

  it('waits as long as a 429 asks (RetryInfo), then succeeds', async () => {
    server.enqueue({ type: 'rate-limited', retryAfterSeconds: 7 }, { type: 'text', text: 'after the wait' });
    const { gemini, sleeps } = model();
    const generation = await gemini.generate({ prompt: 'hello' });
    expect(generation.text).toBe('after the wait');
    expect(generation.attempts).toBe(2);
    expect(sleeps).toEqual([7_000]);
    expect(server.requests).toHaveLength(2);
  });

  it('backs off exponentially without a server hint, capped, with jitter from the injected random', async () => {
    server.enqueue(
      { type: 'rate-limited' },
      { type: 'error', status: 503 },
      { type: 'error', status: 502 },
      { type: 'error', status: 504 },
      { type: 'error', status: 500 },
      { type: 'text', text: 'finally' },
    );
    const low = model({ maxRetries: 5 }, () => 0);
    const generation = await low.gemini.generate({ prompt: 'hello' });
    expect(generation.attempts).toBe(6);
    // Equal jitter: half the exponential step when random() is 0; the step doubles from 100 and stops at 1000.
    expect(low.sleeps).toEqual([50, 100, 200, 400, 500]);

    server.enqueue(
      { type: 'error', status: 500 },
      { type: 'error', status: 500 },
      { type: 'text', text: 'again' },
    );
    const high = model({ maxRetries: 5 }, () => 0.999);
    await high.gemini.generate({ prompt: 'hello' });
    expect(high.sleeps[0]).toBeGreaterThan(low.sleeps[0]!);
    expect(high.sleeps[0]).toBeLessThanOrEqual(100);
    expect(high.sleeps[1]).toBeLessThanOrEqual(200);
  });

  it('gives up on repeated 500s after maxRetries + 1 requests with a server error', async () => {
    server.enqueue(
      ...Array.from({ length: 4 }, () => ({ type: 'error' as const, status: 500, message: 'backend broke' })),
    );
    const { gemini, sleeps } = model({ maxRetries: 3 });
    const error = await failure(gemini.generate({ prompt: 'hello' }));
    expect(error.kind).toBe('server');
    expect(error.retryable).toBe(true);
    expect(error.attempts).toBe(4);
    expect(error.status).toBe(500);
    expect(error.message).toContain('backend broke');
    expect(sleeps).toHaveLength(3);
    expect(server.requests).toHaveLength(4);
  });

  it('ends with a retryable rate-limited error when the server asks for a longer wait than allowed', async () => {
    server.enqueue({ type: 'rate-limited', retryAfterSeconds: 600 });
    const { gemini, sleeps } = model({ maxRetryAfterMs: 60_000 });
    const error = await failure(gemini.generate({ prompt: 'hello' }));
    expect(error.kind).toBe('rate-limited');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(600_000);
    expect(error.attempts).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it.each([
    {
      name: 'a blocked prompt',
      behavior: { type: 'blocked', where: 'prompt', blockReason: 'SAFETY' },
      says: 'SAFETY',
    },
    {
      name: 'a candidate stopped for safety',
      behavior: { type: 'blocked', where: 'candidate', finishReason: 'SAFETY' },
      says: 'SAFETY',
    },
    {
      name: 'a candidate stopped for recitation',
      behavior: { type: 'blocked', where: 'candidate', finishReason: 'RECITATION' },
      says: 'RECITATION',
    },
    {
      name: 'a candidate with prohibited content',
      behavior: { type: 'blocked', where: 'candidate', finishReason: 'PROHIBITED_CONTENT' },
      says: 'PROHIBITED_CONTENT',
    },
  ] as const)('turns $name into a blocked error without retrying', async ({ behavior, says }) => {
    server.enqueue(behavior);
    const { gemini, sleeps } = model();
    const error = await failure(gemini.generate({ prompt: 'something unsafe' }));
    expect(error.kind).toBe('blocked');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(says);
    expect(error.attempts).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('turns an answer without text into an empty error naming the finish reason', async () => {
    server.enqueue({ type: 'empty', finishReason: 'MAX_TOKENS' });
    const { gemini } = model();
    const error = await failure(gemini.generate({ prompt: 'hello' }));
    expect(error.kind).toBe('empty');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('MAX_TOKENS');
  });

  it('treats a body that is not JSON as a retryable server error', async () => {
    server.enqueue({ type: 'malformed' });
    const once = model({ maxRetries: 0 });
    const error = await failure(once.gemini.generate({ prompt: 'hello' }));
    expect(error.kind).toBe('server');
    expect(error.message).toContain('not valid JSON');

    server.enqueue({ type: 'malformed' }, { type: 'text', text: 'recovered' });
    const twice = model({ maxRetries: 2 });
    const generation = await twice.gemini.generate({ prompt: 'hello' });
    expect(generation.text).toBe('recovered');
    expect(generation.attempts).toBe(2);
  });

  it('times out a slow response, retries, and reports a timeout when every try is slow', async () => {
    server.enqueue({ type: 'slow', delayMs: 10_000 }, { type: 'text', text: 'quick one' });
    const { gemini, sleeps } = model({ timeoutMs: 250, maxRetries: 2 });
    const generation = await gemini.generate({ prompt: 'hello' });
    expect(generation.text).toBe('quick one');
    expect(generation.attempts).toBe(2);
    expect(sleeps).toHaveLength(1);

    server.enqueue({ type: 'slow', delayMs: 10_000 }, { type: 'slow', delayMs: 10_000 });
    const slow = model({ timeoutMs: 250, maxRetries: 1 });
    const error = await failure(slow.gemini.generate({ prompt: 'hello' }));
    expect(error.kind).toBe('timeout');
    expect(error.retryable).toBe(true);
    expect(error.attempts).toBe(2);
  });

  it('reports a wrong key as an auth error that does not contain the key', async () => {
    const wrong = new GeminiModel(
      { apiKey: 'AIzaWRONG-key-that-must-not-leak-42', baseUrl: server.url, maxRetries: 3 },
      { sleep: async () => {} },
    );
    const error = await wrong.generate({ prompt: 'hello' }).catch((e: ModelError) => e);
    expect(isModelError(error) && error.kind).toBe('auth');
    expect(String(error)).not.toContain('AIzaWRONG-key-that-must-not-leak-42');
    expect((error as ModelError).attempts).toBe(1);
  });

  it('reports an unreachable endpoint as a retryable server error', async () => {
    const closed = await startFakeGeminiServer();
    await closed.close();
    const { gemini, sleeps } = model({ baseUrl: closed.url, maxRetries: 1 });
    const error = await failure(gemini.generate({ prompt: 'hello' }));
    expect(error.kind).toBe('server');
    expect(error.message).toContain(closed.url);
    expect(sleeps).toHaveLength(1);
  });

  it('stops waiting between retries when the caller aborts, with the caller’s reason', async () => {
    server.enqueue({ type: 'rate-limited', retryAfterSeconds: 30 });
    const controller = new AbortController();
    const gemini = new GeminiModel({ apiKey: API_KEY, baseUrl: server.url });
    const pending = gemini.generate({ prompt: 'hello', signal: controller.signal });
    // The wait starts once the 429 has come back; abort as soon as the server has seen the request.
    while (server.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error('step deleted'));
    await expect(pending).rejects.toThrow('step deleted');
    expect(server.requests).toHaveLength(1);
  });
});

describe('fake Gemini server answering from a model', () => {
  it('passes prompt and history to the model and its answer back through the SDK', async () => {
    const script = ScriptedModel.fromYaml(
      'responses:\n  - match: "^Fix"\n    text: fixed\n  - match: "^Write"\n    text: written\n',
    );
    const seen: { prompt: string; history: number; system: string | undefined }[] = [];
    const recording = {
      provider: 'recording',
      model: 'script',
      generate: (request: Parameters<ScriptedModel['generate']>[0]) => {
        seen.push({ prompt: request.prompt, history: request.history?.length ?? 0, system: request.system });
        return script.generate(request);
      },
    };
    const scripted = await startFakeGeminiServer({ fallback: answerWith(recording) });
    try {
      const gemini = new GeminiModel({ apiKey: API_KEY, baseUrl: scripted.url, maxRetries: 0 });
      expect((await gemini.generate({ prompt: 'Write it' })).text).toBe('written');
      const fix = await gemini.generate({
        prompt: 'Fix it',
        system: 'be brief',
        history: [
          { role: 'user', text: 'Write it' },
          { role: 'model', text: 'written' },
        ],
      });
      expect(fix.text).toBe('fixed');
      expect(seen).toEqual([
        { prompt: 'Write it', history: 0, system: undefined },
        { prompt: 'Fix it', history: 2, system: 'be brief' },
      ]);
      const error = await failure(gemini.generate({ prompt: 'Something else' }));
      expect(error.kind).toBe('bad-request');
      expect(error.message).toContain('no scripted response');
    } finally {
      await scripted.close();
    }
  });
});

describe('createModel for gemini', () => {
  it('refuses to build without an API key, saying where to put one', () => {
    expect(() => createModel({ provider: 'gemini' }, { env: {} })).toThrow(ModelConfigError);
    expect(() => createModel({ provider: 'gemini' }, { env: {} })).toThrow(
      /^no Gemini API key: set GEMINI_API_KEY$/,
    );
    // The operator also reads a key from a Secret, and says so.
    expect(() =>
      createModel(
        { provider: 'gemini' },
        { env: {}, otherKeySource: 'give --api-key-secret <secret[:key]>' },
      ),
    ).toThrow('no Gemini API key: set GEMINI_API_KEY or give --api-key-secret <secret[:key]>');
  });

  it('reads GEMINI_API_KEY and GEMINI_BASE_URL from the environment', async () => {
    server.enqueue({ type: 'text', text: 'from env' });
    const gemini = createModel(
      { provider: 'gemini' },
      { env: { GEMINI_API_KEY: API_KEY, GEMINI_BASE_URL: server.url } },
    );
    expect(gemini.provider).toBe('gemini');
    expect(gemini.model).toBe('gemini-2.5-pro');
    expect((await gemini.generate({ prompt: 'hi' })).text).toBe('from env');
    expect(server.requests[0]!.apiKeyAccepted).toBe(true);
  });

  it('names the bad field of an invalid configuration', () => {
    expect(() =>
      createModel({ provider: 'gemini', apiKey: API_KEY, baseUrl: 'not a url' }, { env: {} }),
    ).toThrow(/baseUrl/);
    expect(() => createModel({ provider: 'gemini', apiKey: API_KEY, maxRetries: -1 }, { env: {} })).toThrow(
      /maxRetries/,
    );
    expect(() => createModel({ provider: 'gemini', apiKey: API_KEY, timeoutMs: 0 }, { env: {} })).toThrow(
      /timeoutMs/,
    );
  });
});
