// Work that outlives one reconcile (a model call takes seconds to minutes): started once per key and
// task id, tracked while it runs, and its result kept until the reconciler collects it. A second
// reconcile of the same key sees the task running and does not start another; when the task ends,
// `onSettled` re-enqueues the key so the reconciler picks the result up. A running task may leave a
// note for the reconciler to show (a model call waiting for its turn); a note re-enqueues the key
// too, clearing it does not. A task cleared before it ends (its key is gone) has its signal aborted.

export type TaskState<T> =
  | { state: 'running'; startedAt: number; note?: string }
  | { state: 'done'; value: T; startedAt: number; endedAt: number }
  | { state: 'failed'; error: unknown; startedAt: number; endedAt: number };

/** What a running task is given. */
export interface TaskContext {
  /** Aborted when the task is cleared before it ends: nobody will collect its result. */
  signal: AbortSignal;
  /** A text sets the running task's note and re-enqueues its key; undefined clears the note quietly. */
  note(text: string | undefined): void;
}

export class BackgroundTasks {
  private readonly tasks = new Map<string, TaskState<unknown>>();
  private readonly aborts = new Map<string, AbortController>();
  private readonly onSettled: (key: string) => void;

  constructor(onSettled: (key: string) => void) {
    this.onSettled = onSettled;
  }

  /** Starts the task unless one with this id is known for the key; returns its state. */
  ensure<T>(key: string, id: string, run: (task: TaskContext) => Promise<T>): TaskState<T> {
    const slot = `${key}#${id}`;
    const known = this.tasks.get(slot);
    if (known) return known as TaskState<T>;
    const startedAt = Date.now();
    const running: TaskState<T> = { state: 'running', startedAt };
    const abort = new AbortController();
    this.tasks.set(slot, running);
    this.aborts.set(slot, abort);
    const note = (text: string | undefined) => {
      // Only while this very task runs: a note arriving after its end, or after it was cleared, is dropped.
      if (this.tasks.get(slot) !== running) return;
      if (text === undefined) {
        delete running.note;
        return;
      }
      if (running.note === text) return;
      running.note = text;
      this.onSettled(key);
    };
    let started: Promise<T>;
    try {
      started = run({ signal: abort.signal, note });
    } catch (error) {
      started = Promise.reject(error);
    }
    started.then(
      (value) => {
        if (this.aborts.get(slot) === abort) this.aborts.delete(slot);
        if (this.tasks.get(slot) !== running) return;
        this.tasks.set(slot, { state: 'done', value, startedAt, endedAt: Date.now() });
        this.onSettled(key);
      },
      (error: unknown) => {
        if (this.aborts.get(slot) === abort) this.aborts.delete(slot);
        if (this.tasks.get(slot) !== running) return;
        this.tasks.set(slot, { state: 'failed', error, startedAt, endedAt: Date.now() });
        this.onSettled(key);
      },
    );
    return this.tasks.get(slot) as TaskState<T>;
  }

  get<T>(key: string, id: string): TaskState<T> | undefined {
    return this.tasks.get(`${key}#${id}`) as TaskState<T> | undefined;
  }

  /** Forgets a task once its result is persisted (or the key is gone); one still running is aborted. */
  clear(key: string, id?: string): void {
    if (id !== undefined) {
      this.forget(`${key}#${id}`);
      return;
    }
    for (const slot of [...this.tasks.keys()]) if (slot.startsWith(`${key}#`)) this.forget(slot);
  }

  private forget(slot: string): void {
    this.tasks.delete(slot);
    const abort = this.aborts.get(slot);
    if (!abort) return;
    this.aborts.delete(slot);
    abort.abort(new Error('the task was cleared before it ended: its result is not wanted'));
  }

  running(): number {
    let n = 0;
    for (const task of this.tasks.values()) if (task.state === 'running') n++;
    return n;
  }
}
