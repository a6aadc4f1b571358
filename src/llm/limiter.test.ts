import { describe, expect, it, vi } from 'vitest';
import { Metrics } from '../runtime/metrics.ts';
import { describeWait, ModelLimiter, TOKEN_WINDOW_MS } from './limiter.ts';
import type { GenerateRequest, Generation, LanguageModel, ModelWait } from './types.ts';

/** A model whose calls stay open until the test answers or fails them. */
class HeldModel implements LanguageModel {
  readonly provider = 'fake';
  readonly model = 'held';
  readonly calls: {
    request: GenerateRequest;
    answer: (totalTokens?: number) => void;
    fail: (error: unknown) => void;
  }[] = [];
  active = 0;
  maxActive = 0;

  generate(request: GenerateRequest): Promise<Generation> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    return new Promise((resolve, reject) => {
      this.calls.push({
        request,
        answer: (totalTokens = 10) => {
          this.active--;
          resolve({
            text: `answer to ${request.prompt}`,
            usage: { promptTokens: totalTokens, outputTokens: 0, totalTokens },
            latencyMs: 1,
            attempts: 1,
          });
        },
        fail: (error) => {
          this.active--;
          reject(error);
        },
      });
    });
  }

  prompts(): string[] {
    return this.calls.map((c) => c.request.prompt);
  }
}

/** A clock the test moves, with the timers the limiter schedules on it. */
function fakeClock() {
  let time = 0;
  const timers: { at: number; run: () => void; done: boolean }[] = [];
  return {
    now: () => time,
    schedule(run: () => void, ms: number) {
      const timer = { at: time + ms, run, done: false };
      timers.push(timer);
      return () => {
        timer.done = true;
      };
    },
    advance(ms: number) {
      time += ms;
      for (const timer of timers.filter((t) => !t.done && t.at <= time).sort((a, b) => a.at - b.at)) {
        timer.done = true;
        timer.run();
      }
    },
  };
}

/** Lets every promise callback that is ready run (no timers involved). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A prompt the limiter estimates at `tokens` (4 characters a token, no answer allowance). */
const promptOf = (tokens: number, tag = '') => tag.padEnd(tokens * 4, '.');

describe('ModelLimiter', () => {
  it('keeps at most `concurrency` calls in flight, and runs every call', async () => {
    const model = new HeldModel();
    const limiter = new ModelLimiter({ provider: 'fake', concurrency: 3 });
    const limited = limiter.wrap(model);
    const results = Array.from({ length: 10 }, (_, i) => limited.generate({ prompt: `p${i}` }));
    await vi.waitFor(() => expect(model.calls).toHaveLength(3));
    expect([limiter.inFlight, limiter.queued]).toEqual([3, 7]);
    // Answer one call at a time: each end lets exactly one more through.
    for (let answered = 0; answered < 10; answered++) {
      model.calls[answered]!.answer();
      await settle();
      expect(model.calls).toHaveLength(Math.min(10, answered + 4));
      expect(model.active).toBeLessThanOrEqual(3);
    }
    expect((await Promise.all(results)).map((g) => g.text)).toEqual(
      Array.from({ length: 10 }, (_, i) => `answer to p${i}`),
    );
    expect(model.maxActive).toBe(3);
    expect([limiter.inFlight, limiter.queued]).toEqual([0, 0]);
  });

  it('lets queued calls through first in, first out, telling each how many are ahead', async () => {
    const model = new HeldModel();
    const limited = new ModelLimiter({ provider: 'fake', concurrency: 1 }).wrap(model);
    const queued: Record<string, ModelWait> = {};
    const started: string[] = [];
    const names = ['a', 'b', 'c', 'd', 'e'];
    const results = names.map((name) =>
      limited.generate({
        prompt: name,
        onQueued: (wait) => {
          queued[name] = wait;
        },
        onStarted: () => started.push(name),
      }),
    );
    expect(Object.keys(queued)).toEqual(['b', 'c', 'd', 'e']);
    expect(Object.values(queued).map((w) => w.ahead)).toEqual([0, 1, 2, 3]);
    expect(queued['e']).toEqual({ provider: 'fake', ahead: 3, concurrency: 1, tokensPerMinute: 0 });
    for (let i = 0; i < names.length; i++) {
      await vi.waitFor(() => expect(model.calls).toHaveLength(i + 1));
      model.calls[i]!.answer();
    }
    await Promise.all(results);
    expect(model.prompts()).toEqual(names);
    expect(started).toEqual(names);
    // The hooks are the limiter's: the model behind it does not see them.
    expect(model.calls[1]!.request).toEqual({ prompt: 'b' });
  });

  it('removes an aborted call from the queue and rejects it with the reason', async () => {
    const model = new HeldModel();
    const limiter = new ModelLimiter({ provider: 'fake', concurrency: 1 });
    const limited = limiter.wrap(model);
    const first = limited.generate({ prompt: 'first' });
    const stop = new AbortController();
    const second = limited.generate({ prompt: 'second', signal: stop.signal });
    const third = limited.generate({ prompt: 'third' });
    expect(limiter.queued).toBe(2);
    const reason = new Error('the step was deleted');
    stop.abort(reason);
    await expect(second).rejects.toBe(reason);
    expect(limiter.queued).toBe(1);
    model.calls[0]!.answer();
    await vi.waitFor(() => expect(model.calls).toHaveLength(2));
    model.calls[1]!.answer();
    await Promise.all([first, third]);
    expect(model.prompts()).toEqual(['first', 'third']);

    // Aborted before it is asked: never queued, never sent.
    const late = new AbortController();
    late.abort(new Error('too late'));
    await expect(limited.generate({ prompt: 'never', signal: late.signal })).rejects.toThrow('too late');
    expect(model.prompts()).toEqual(['first', 'third']);
    expect([limiter.inFlight, limiter.queued]).toEqual([0, 0]);
  });

  it('passes the signal of a call it lets through to the model', async () => {
    const model = new HeldModel();
    const limited = new ModelLimiter({ provider: 'fake', concurrency: 1 }).wrap(model);
    const stop = new AbortController();
    const call = limited.generate({ prompt: 'p', signal: stop.signal });
    expect(model.calls[0]!.request.signal).toBe(stop.signal);
    model.calls[0]!.answer();
    await call;
  });

  it('frees the slot of a call that fails', async () => {
    const model = new HeldModel();
    const limiter = new ModelLimiter({ provider: 'fake', concurrency: 1 });
    const limited = limiter.wrap(model);
    const failing = limited.generate({ prompt: 'fails' });
    const next = limited.generate({ prompt: 'next' });
    const error = new Error('server said no');
    model.calls[0]!.fail(error);
    await expect(failing).rejects.toBe(error);
    await vi.waitFor(() => expect(model.calls).toHaveLength(2));
    model.calls[1]!.answer();
    expect((await next).text).toBe('answer to next');
    expect([limiter.inFlight, limiter.queued]).toEqual([0, 0]);

    // A call that throws before returning a promise frees its slot too.
    const throwing = new ModelLimiter({ provider: 'fake', concurrency: 1 });
    await expect(
      throwing.run(
        () => {
          throw new Error('sync');
        },
        { tokens: 1 },
      ),
    ).rejects.toThrow('sync');
    expect(throwing.inFlight).toBe(0);
  });

  it('holds calls back while the tokens started in the last minute would pass the budget', async () => {
    const clock = fakeClock();
    const model = new HeldModel();
    const limiter = new ModelLimiter({
      provider: 'fake',
      concurrency: 10,
      tokensPerMinute: 100,
      answerAllowance: 0,
      now: clock.now,
      schedule: clock.schedule,
    });
    const limited = limiter.wrap(model);
    const waits: ModelWait[] = [];
    const a = limited.generate({ prompt: promptOf(40, 'a') });
    const b = limited.generate({ prompt: promptOf(40, 'b') });
    const c = limited.generate({ prompt: promptOf(40, 'c'), onQueued: (w) => waits.push(w) });
    expect(model.calls).toHaveLength(2);
    expect(waits).toEqual([{ provider: 'fake', ahead: 0, concurrency: 10, tokensPerMinute: 100 }]);
    // Their answers use what was estimated: the window still holds 80 tokens.
    model.calls[0]!.answer(40);
    model.calls[1]!.answer(40);
    await Promise.all([a, b]);
    expect(limiter.windowTokens()).toBe(80);
    clock.advance(TOKEN_WINDOW_MS - 1);
    await settle();
    expect(model.calls).toHaveLength(2);
    clock.advance(1);
    await vi.waitFor(() => expect(model.calls).toHaveLength(3));
    expect(model.calls[2]!.request.prompt.startsWith('c')).toBe(true);
    model.calls[2]!.answer(40);
    await c;
  });

  it('corrects the estimate with the usage the answer reports', async () => {
    const clock = fakeClock();
    const model = new HeldModel();
    const limiter = new ModelLimiter({
      provider: 'fake',
      tokensPerMinute: 100,
      answerAllowance: 0,
      now: clock.now,
      schedule: clock.schedule,
    });
    const limited = limiter.wrap(model);
    const big = limited.generate({ prompt: promptOf(80) });
    const small = limited.generate({ prompt: promptOf(40) });
    expect(model.calls).toHaveLength(1);
    expect(limiter.windowTokens()).toBe(80);
    // It used 20 tokens, not 80: the second fits at once, no time passing.
    model.calls[0]!.answer(20);
    await big;
    await vi.waitFor(() => expect(model.calls).toHaveLength(2));
    expect(limiter.windowTokens()).toBe(60);
    model.calls[1]!.answer(40);
    await small;
  });

  it('counts the estimate of the prompt, the system instruction, the history and the answer', () => {
    const limiter = new ModelLimiter({ provider: 'fake', answerAllowance: 500 });
    expect(
      limiter.estimate({
        prompt: 'x'.repeat(400),
        system: 'y'.repeat(40),
        history: [{ role: 'user', text: 'z'.repeat(41) }],
      }),
    ).toBe(Math.ceil(481 / 4) + 500);
  });

  it('runs a call larger than the whole budget alone once the window is empty, in its turn', async () => {
    const clock = fakeClock();
    const model = new HeldModel();
    const limiter = new ModelLimiter({
      provider: 'fake',
      concurrency: 10,
      tokensPerMinute: 100,
      answerAllowance: 0,
      now: clock.now,
      schedule: clock.schedule,
    });
    const limited = limiter.wrap(model);
    const first = limited.generate({ prompt: promptOf(40, 'first') });
    const huge = limited.generate({ prompt: promptOf(500, 'huge') });
    // Small enough to fit beside the first, but queued behind the huge one: no overtaking.
    const after = limited.generate({ prompt: promptOf(10, 'after') });
    model.calls[0]!.answer(40);
    await first;
    await settle();
    expect(model.calls).toHaveLength(1);
    clock.advance(TOKEN_WINDOW_MS);
    await vi.waitFor(() => expect(model.calls).toHaveLength(2));
    expect(model.calls[1]!.request.prompt.startsWith('huge')).toBe(true);
    model.calls[1]!.answer(500);
    await huge;
    // The huge call filled the window alone; the next waits for it to expire.
    clock.advance(TOKEN_WINDOW_MS - 1);
    await settle();
    expect(model.calls).toHaveLength(2);
    clock.advance(1);
    await vi.waitFor(() => expect(model.calls).toHaveLength(3));
    model.calls[2]!.answer(10);
    await after;

    // With nothing in the window, an oversized call starts at once.
    const alone = new ModelLimiter({ provider: 'fake', tokensPerMinute: 100, answerAllowance: 0 });
    const held = new HeldModel();
    const call = alone.wrap(held).generate({ prompt: promptOf(1000) });
    expect(held.calls).toHaveLength(1);
    held.calls[0]!.answer(1000);
    await call;
  });

  it('keeps no window without a budget', async () => {
    const model = new HeldModel();
    const limiter = new ModelLimiter({ provider: 'fake', concurrency: 2 });
    const limited = limiter.wrap(model);
    const calls = [limited.generate({ prompt: promptOf(100) }), limited.generate({ prompt: promptOf(100) })];
    expect(model.calls).toHaveLength(2);
    for (const call of model.calls) call.answer(100);
    await Promise.all(calls);
    expect(limiter.windowTokens()).toBe(0);
  });

  it('refuses limits that make no sense', () => {
    expect(() => new ModelLimiter({ provider: 'fake', concurrency: 0 })).toThrow(RangeError);
    expect(() => new ModelLimiter({ provider: 'fake', concurrency: 1.5 })).toThrow(RangeError);
    expect(() => new ModelLimiter({ provider: 'fake', tokensPerMinute: -1 })).toThrow(RangeError);
  });

  it('reports the queue, the calls in flight and the waits as metrics', async () => {
    const metrics = new Metrics();
    const model = new HeldModel();
    const limiter = new ModelLimiter({ provider: 'gemini', concurrency: 1, observer: metrics });
    const limited = limiter.wrap(model);
    const calls = [limited.generate({ prompt: 'a' }), limited.generate({ prompt: 'b' })];
    limited.generate({ prompt: 'c' }).catch(() => {});
    const text = await metrics.registry.metrics();
    expect(text).toContain('fractale_model_calls_queued{provider="gemini"} 2');
    expect(text).toContain('fractale_model_calls_in_flight{provider="gemini"} 1');
    model.calls[0]!.answer();
    await vi.waitFor(() => expect(model.calls).toHaveLength(2));
    model.calls[1]!.answer();
    await Promise.all(calls);
    await vi.waitFor(() => expect(model.calls).toHaveLength(3));
    model.calls[2]!.answer();
    await vi.waitFor(() => expect(limiter.inFlight).toBe(0));
    const after = await metrics.registry.metrics();
    expect(after).toContain('fractale_model_calls_queued{provider="gemini"} 0');
    expect(after).toContain('fractale_model_calls_in_flight{provider="gemini"} 0');
    // One observation per call sent, waited or not.
    expect(after).toContain('fractale_model_queue_wait_seconds_count{provider="gemini"} 3');
  });
});

describe('describeWait', () => {
  it.each([
    [
      { ahead: 37, concurrency: 16, tokensPerMinute: 0 },
      'Waiting for the model: 37 calls ahead (at most 16 at a time)',
    ],
    [
      { ahead: 1, concurrency: 1, tokensPerMinute: 0 },
      'Waiting for the model: 1 call ahead (at most 1 at a time)',
    ],
    [
      { ahead: 0, concurrency: 16, tokensPerMinute: 200_000 },
      'Waiting for the model: next in line (at most 16 at a time, 200000 tokens a minute)',
    ],
  ])('%o reads %s', (wait, message) => {
    expect(describeWait({ provider: 'gemini', ...wait })).toBe(message);
  });
});
