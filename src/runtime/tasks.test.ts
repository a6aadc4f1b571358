import { describe, expect, it, vi } from 'vitest';
import { BackgroundTasks, type TaskContext } from './tasks.ts';

/** A task that runs until the test ends it, with the context it was given. */
function heldTask() {
  let context: TaskContext | undefined;
  let finish: (value: string) => void = () => {};
  const run = (task: TaskContext) => {
    context = task;
    return new Promise<string>((resolve) => {
      finish = resolve;
    });
  };
  return { run, context: () => context!, finish: (value: string) => finish(value) };
}

describe('BackgroundTasks', () => {
  it("keeps a running task's note and re-enqueues its key once per new note", async () => {
    const woken: string[] = [];
    const tasks = new BackgroundTasks((key) => woken.push(key));
    const held = heldTask();
    tasks.ensure('ns/a', 'generate-1', held.run);
    held.context().note('Waiting for the model: 3 calls ahead (at most 1 at a time)');
    held.context().note('Waiting for the model: 3 calls ahead (at most 1 at a time)');
    expect(tasks.get('ns/a', 'generate-1')).toMatchObject({
      state: 'running',
      note: 'Waiting for the model: 3 calls ahead (at most 1 at a time)',
    });
    expect(woken).toEqual(['ns/a']);
    // Clearing the note is quiet: nothing new to show.
    held.context().note(undefined);
    expect(tasks.get('ns/a', 'generate-1')).toEqual({ state: 'running', startedAt: expect.any(Number) });
    expect(woken).toEqual(['ns/a']);
    held.finish('answer');
    await vi.waitFor(() => expect(tasks.get('ns/a', 'generate-1')).toMatchObject({ state: 'done' }));
    expect(woken).toEqual(['ns/a', 'ns/a']);
    // A note after the end is dropped.
    held.context().note('late');
    expect(tasks.get('ns/a', 'generate-1')).toMatchObject({ state: 'done', value: 'answer' });
    expect(woken).toHaveLength(2);
    expect(held.context().signal.aborted).toBe(false);
  });

  it('aborts a task cleared while it runs and drops its result', async () => {
    const woken: string[] = [];
    const tasks = new BackgroundTasks((key) => woken.push(key));
    const held = heldTask();
    tasks.ensure('ns/gone', 'debug-2', held.run);
    tasks.clear('ns/gone');
    expect(held.context().signal.aborted).toBe(true);
    expect(tasks.get('ns/gone', 'debug-2')).toBeUndefined();
    // A new task of the same id is not overwritten by the old one's end.
    const again = heldTask();
    tasks.ensure('ns/gone', 'debug-2', again.run);
    held.finish('stale');
    again.finish('fresh');
    await vi.waitFor(() => expect(tasks.get('ns/gone', 'debug-2')).toMatchObject({ state: 'done' }));
    expect(tasks.get('ns/gone', 'debug-2')).toMatchObject({ value: 'fresh' });
    expect(woken).toEqual(['ns/gone']);
  });

  it('records a task that throws before returning a promise as failed', async () => {
    const tasks = new BackgroundTasks(() => {});
    tasks.ensure('ns/a', 'x', () => {
      throw new Error('no');
    });
    await vi.waitFor(() => expect(tasks.get('ns/a', 'x')).toMatchObject({ state: 'failed' }));
  });
});
