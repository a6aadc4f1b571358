import { describe, expect, it } from 'vitest';
import { WorkQueue } from './queue.ts';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

describe('WorkQueue', () => {
  it('deduplicates a key added while it waits', async () => {
    const seen: string[] = [];
    const queue = new WorkQueue(async (key) => void seen.push(key), { concurrency: 1 });
    queue.add('a');
    queue.add('a');
    queue.add('b');
    queue.add('a');
    queue.start();
    await queue.whenIdle();
    expect(seen).toEqual(['a', 'b']);
  });

  it('never runs one key twice at once, and runs it again when added meanwhile', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const gate = deferred();
    const queue = new WorkQueue(
      async () => {
        running++;
        runs++;
        maxRunning = Math.max(maxRunning, running);
        if (runs === 1) await gate.promise;
        running--;
      },
      { concurrency: 4 },
    );
    queue.start();
    queue.add('a');
    queue.add('a');
    queue.add('a');
    gate.resolve();
    await queue.whenIdle();
    expect(maxRunning).toBe(1);
    expect(runs).toBe(2);
  });

  it('runs up to the concurrency limit in parallel', async () => {
    let running = 0;
    let maxRunning = 0;
    const queue = new WorkQueue(
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 20; i++) queue.add(`k${i}`);
    queue.start();
    await queue.whenIdle();
    expect(maxRunning).toBe(3);
  });

  it('retries a failing key with growing delays, and forgets the failures after a success', async () => {
    const times: number[] = [];
    const delays: number[] = [];
    const done = deferred();
    const queue = new WorkQueue(
      async () => {
        times.push(performance.now());
        if (times.length < 5) throw new Error('not yet');
        done.resolve();
      },
      { concurrency: 1, baseBackoffMs: 4, onError: (_k, _e, delay) => delays.push(delay) },
    );
    queue.start();
    queue.add('a');
    await done.promise;
    expect(delays).toEqual([4, 8, 16, 32]);
    for (let i = 1; i < times.length; i++)
      expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(delays[i - 1]! - 1);
    await queue.whenIdle();
    expect(queue.failuresOf('a')).toBe(0);
  });

  it('requeues after the delay a reconcile asks for', async () => {
    let runs = 0;
    const done = deferred();
    const queue = new WorkQueue(
      async () => {
        runs++;
        if (runs === 3) done.resolve();
        return runs < 3 ? { requeueAfterMs: 2 } : undefined;
      },
      { concurrency: 1 },
    );
    queue.start();
    queue.add('a');
    await done.promise;
    expect(runs).toBe(3);
  });

  it('shutdown stops taking work and waits for running reconciles', async () => {
    const gate = deferred();
    let finished = false;
    const queue = new WorkQueue(
      async () => {
        await gate.promise;
        finished = true;
      },
      { concurrency: 1 },
    );
    queue.start();
    queue.add('a');
    queue.add('b');
    const stopped = queue.shutdown(1000);
    queue.add('c');
    gate.resolve();
    expect(await stopped).toBe(true);
    expect(finished).toBe(true);
    expect(queue.depth).toBe(0);
  });
});
