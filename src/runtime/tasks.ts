// Work that outlives one reconcile (a model call takes seconds to minutes): started once per key and
// task id, tracked while it runs, and its result kept until the reconciler collects it. A second
// reconcile of the same key sees the task running and does not start another; when the task ends,
// `onSettled` re-enqueues the key so the reconciler picks the result up.

export type TaskState<T> =
  | { state: 'running'; startedAt: number }
  | { state: 'done'; value: T; startedAt: number; endedAt: number }
  | { state: 'failed'; error: unknown; startedAt: number; endedAt: number };

export class BackgroundTasks {
  private readonly tasks = new Map<string, TaskState<unknown>>();
  private readonly onSettled: (key: string) => void;

  constructor(onSettled: (key: string) => void) {
    this.onSettled = onSettled;
  }

  /** Starts the task unless one with this id is known for the key; returns its state. */
  ensure<T>(key: string, id: string, run: () => Promise<T>): TaskState<T> {
    const slot = `${key}#${id}`;
    const known = this.tasks.get(slot);
    if (known) return known as TaskState<T>;
    const startedAt = Date.now();
    this.tasks.set(slot, { state: 'running', startedAt });
    run().then(
      (value) => {
        if (!this.tasks.has(slot)) return;
        this.tasks.set(slot, { state: 'done', value, startedAt, endedAt: Date.now() });
        this.onSettled(key);
      },
      (error: unknown) => {
        if (!this.tasks.has(slot)) return;
        this.tasks.set(slot, { state: 'failed', error, startedAt, endedAt: Date.now() });
        this.onSettled(key);
      },
    );
    return this.tasks.get(slot) as TaskState<T>;
  }

  get<T>(key: string, id: string): TaskState<T> | undefined {
    return this.tasks.get(`${key}#${id}`) as TaskState<T> | undefined;
  }

  /** Forgets a task once its result is persisted (or the key is gone). */
  clear(key: string, id?: string): void {
    if (id !== undefined) {
      this.tasks.delete(`${key}#${id}`);
      return;
    }
    for (const slot of this.tasks.keys()) if (slot.startsWith(`${key}#`)) this.tasks.delete(slot);
  }

  running(): number {
    let n = 0;
    for (const task of this.tasks.values()) if (task.state === 'running') n++;
    return n;
  }
}
