import type { ServerResponse } from 'node:http';

/**
 * Container logs of simulated pods: the kubelet side appends text, the API server's `pods/log`
 * handler reads it and follows it until the container ends.
 */

/** A line of a container's log and when its first character was written. */
export interface LogLine {
  time: Date;
  text: string;
}

interface ContainerLog {
  text: string;
  /** The text split in lines (the last one may still be open), for timestamps and sinceSeconds. */
  lines: LogLine[];
  lastLineOpen: boolean;
  started: boolean;
  ended: boolean;
  followers: Set<{ onData: (chunk: string) => void; onEnd: () => void }>;
}

export class LogStore {
  private readonly logs = new Map<string, ContainerLog>();
  private readonly clock: () => Date;

  constructor(options: { clock?: () => Date } = {}) {
    this.clock = options.clock ?? (() => new Date());
  }

  private key(namespace: string, pod: string, container: string): string {
    return `${namespace}/${pod}/${container}`;
  }

  private entry(namespace: string, pod: string, container: string): ContainerLog {
    const key = this.key(namespace, pod, container);
    let log = this.logs.get(key);
    if (!log) {
      log = { text: '', lines: [], lastLineOpen: false, started: false, ended: false, followers: new Set() };
      this.logs.set(key, log);
    }
    return log;
  }

  append(namespace: string, pod: string, container: string, text: string): void {
    const log = this.entry(namespace, pod, container);
    // A restarted container writes again after it ended.
    log.started = true;
    log.ended = false;
    log.text += text;
    const time = this.clock();
    const pieces = text.split('\n');
    pieces.forEach((piece, i) => {
      const last = log.lines[log.lines.length - 1];
      if (i === 0 && last && log.lastLineOpen) last.text += piece;
      else if (i < pieces.length - 1 || piece !== '') log.lines.push({ time, text: piece });
    });
    log.lastLineOpen = !text.endsWith('\n') && (log.lastLineOpen || text !== '');
    for (const f of [...log.followers]) f.onData(text);
  }

  /** The container stopped: followers end. */
  end(namespace: string, pod: string, container: string): void {
    const log = this.entry(namespace, pod, container);
    log.started = true;
    log.ended = true;
    for (const f of [...log.followers]) f.onEnd();
    log.followers.clear();
  }

  read(namespace: string, pod: string, container: string): string {
    return this.logs.get(this.key(namespace, pod, container))?.text ?? '';
  }

  /** The log clock's time (sinceSeconds counts back from it). */
  now(): Date {
    return this.clock();
  }

  /** The log's lines with the time each was written (a last line without newline included). */
  lines(namespace: string, pod: string, container: string): LogLine[] {
    return [...(this.logs.get(this.key(namespace, pod, container))?.lines ?? [])];
  }

  /** Whether the container has written anything or ended (so it has started). */
  has(namespace: string, pod: string, container: string): boolean {
    return this.logs.get(this.key(namespace, pod, container))?.started ?? false;
  }

  ended(namespace: string, pod: string, container: string): boolean {
    return this.logs.get(this.key(namespace, pod, container))?.ended ?? false;
  }

  /** Calls onData for text appended from now on; onEnd when the container ends (at once if it has). */
  follow(
    namespace: string,
    pod: string,
    container: string,
    onData: (chunk: string) => void,
    onEnd: () => void,
  ): () => void {
    const log = this.entry(namespace, pod, container);
    if (log.ended) {
      onEnd();
      return () => {};
    }
    const follower = { onData, onEnd };
    log.followers.add(follower);
    return () => {
      log.followers.delete(follower);
    };
  }

  /** The pod is gone: its logs go and followers end. */
  delete(namespace: string, pod: string): void {
    const prefix = `${namespace}/${pod}/`;
    for (const [key, log] of this.logs) {
      if (!key.startsWith(prefix)) continue;
      for (const f of [...log.followers]) f.onEnd();
      this.logs.delete(key);
    }
  }
}

/** Log timestamps as the kubelet writes them: RFC 3339 with nanoseconds. */
export function rfc3339Nano(time: Date): string {
  return time.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export interface LogTarget {
  namespace: string;
  pod: string;
  container: string;
  /** The container has terminated: its log is complete, follow or not. */
  terminated: boolean;
}

/**
 * Writes a container's log as the kubelet's read API does (the API server's `pods/log` proxies to
 * it): `timestamps`, `sinceSeconds`, `tailLines` and `limitBytes`, then, with `follow=true`, what is
 * appended until the container ends. `closers` holds what stops an open stream when the server does.
 */
export function streamLog(
  res: ServerResponse,
  logs: LogStore,
  target: LogTarget,
  q: URLSearchParams,
  closers: Set<() => void>,
): void {
  const { namespace, pod: podName, container } = target;
  const timestamps = q.get('timestamps') === 'true';
  const since = Number(q.get('sinceSeconds') ?? '');
  const tail = q.get('tailLines');
  let lines = logs.lines(namespace, podName, container);
  if (Number.isFinite(since) && since > 0) {
    const from = logs.now().getTime() - since * 1000;
    lines = lines.filter((l) => l.time.getTime() >= from);
  }
  if (tail !== null && tail !== '' && Number(tail) >= 0)
    lines = Number(tail) === 0 ? [] : lines.slice(-Number(tail));
  const full = logs.read(namespace, podName, container);
  // The last line written without a newline yet is sent as it is.
  const openLine =
    full !== '' && !full.endsWith('\n') ? logs.lines(namespace, podName, container).at(-1) : undefined;
  const text = lines
    .map((l) => `${timestamps ? `${rfc3339Nano(l.time)} ` : ''}${l.text}${l === openLine ? '' : '\n'}`)
    .join('');
  // Followed output is stamped line by line as it comes.
  let atLineStart = text === '' || text.endsWith('\n');
  const stamp = (chunk: string): string => {
    if (!timestamps) return chunk;
    const time = `${rfc3339Nano(logs.now())} `;
    let out = '';
    for (const ch of chunk) {
      if (atLineStart) out += time;
      out += ch;
      atLineStart = ch === '\n';
    }
    return out;
  };
  let budget = q.get('limitBytes') ? Number(q.get('limitBytes')) : Number.POSITIVE_INFINITY;
  const take = (chunk: string): string => {
    if (budget === Number.POSITIVE_INFINITY) return chunk;
    const bytes = Buffer.from(chunk);
    const out = bytes.subarray(0, Math.max(0, budget)).toString('utf8');
    budget -= Math.min(bytes.length, budget);
    return out;
  };
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
  res.write(take(text));
  const stopped = logs.ended(namespace, podName, container) || target.terminated;
  if (q.get('follow') !== 'true' || budget <= 0 || stopped) {
    res.end();
    return;
  }
  res.flushHeaders();
  let stop: () => void = () => {};
  const finish = () => {
    stop();
    closers.delete(finish);
    if (!res.writableEnded) res.end();
  };
  closers.add(finish);
  stop = logs.follow(
    namespace,
    podName,
    container,
    (chunk) => {
      if (res.writableEnded) return;
      res.write(take(stamp(chunk)));
      if (budget <= 0) finish();
    },
    finish,
  );
  res.on('close', finish);
}
