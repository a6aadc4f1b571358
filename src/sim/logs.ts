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
  /** The log of the container's last instance before a restart (what `previous=true` reads). */
  previous?: { text: string; lines: LogLine[] };
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

  /** A new instance of the container starts (a restart): the last one's log becomes the previous log. */
  restart(namespace: string, pod: string, container: string): void {
    const log = this.entry(namespace, pod, container);
    if (!log.started) return;
    log.previous = { text: log.text, lines: log.lines };
    log.text = '';
    log.lines = [];
    log.lastLineOpen = false;
    log.started = false;
    log.ended = false;
  }

  hasPrevious(namespace: string, pod: string, container: string): boolean {
    return this.logs.get(this.key(namespace, pod, container))?.previous !== undefined;
  }

  /** The container stopped: followers end. */
  end(namespace: string, pod: string, container: string): void {
    const log = this.entry(namespace, pod, container);
    log.started = true;
    log.ended = true;
    for (const f of [...log.followers]) f.onEnd();
    log.followers.clear();
  }

  read(namespace: string, pod: string, container: string, previous = false): string {
    const log = this.logs.get(this.key(namespace, pod, container));
    return (previous ? log?.previous?.text : log?.text) ?? '';
  }

  /** The log clock's time (sinceSeconds counts back from it). */
  now(): Date {
    return this.clock();
  }

  /** The log's lines with the time each was written (a last line without newline included). */
  lines(namespace: string, pod: string, container: string, previous = false): LogLine[] {
    const log = this.logs.get(this.key(namespace, pod, container));
    return [...((previous ? log?.previous?.lines : log?.lines) ?? [])];
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

type ContainerState = Record<string, { reason?: string } | undefined>;

/** A container's state from its pod's status (init containers included). */
export function containerState(pod: Record<string, unknown>, container: string): ContainerState | undefined {
  const status = (pod['status'] ?? {}) as {
    containerStatuses?: { name: string; state?: ContainerState }[];
    initContainerStatuses?: { name: string; state?: ContainerState }[];
  };
  return [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? [])].find(
    (c) => c.name === container,
  )?.state;
}

/**
 * Why the kubelet's read API refuses a container's log, worded as the kubelet does, or undefined:
 * a container not started yet has none, and `previous` needs an instance that ended before a restart.
 */
export function logUnavailable(
  logs: LogStore,
  target: { namespace: string; pod: string; container: string },
  state: ContainerState | undefined,
  previous: boolean,
): string | undefined {
  const { namespace, pod, container } = target;
  if (previous)
    return logs.hasPrevious(namespace, pod, container)
      ? undefined
      : `previous terminated container "${container}" in pod "${pod}" not found`;
  if (logs.has(namespace, pod, container) || state?.['running'] || state?.['terminated']) return undefined;
  const reason = state?.['waiting']?.reason ?? 'ContainerCreating';
  return `container "${container}" in pod "${pod}" is waiting to start: ${reason}`;
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
 * it): `previous`, `timestamps`, `sinceSeconds`, `tailLines` and `limitBytes`, then, with `follow=true`, what is
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
  const previous = q.get('previous') === 'true';
  let lines = logs.lines(namespace, podName, container, previous);
  if (Number.isFinite(since) && since > 0) {
    const from = logs.now().getTime() - since * 1000;
    lines = lines.filter((l) => l.time.getTime() >= from);
  }
  if (tail !== null && tail !== '' && Number(tail) >= 0)
    lines = Number(tail) === 0 ? [] : lines.slice(-Number(tail));
  const full = logs.read(namespace, podName, container, previous);
  // The last line written without a newline yet is sent as it is.
  const openLine =
    full !== '' && !full.endsWith('\n')
      ? logs.lines(namespace, podName, container, previous).at(-1)
      : undefined;
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
  // A previous instance has ended: its log is complete.
  const stopped = previous || logs.ended(namespace, podName, container) || target.terminated;
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
