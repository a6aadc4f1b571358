// How steps are shown while they are followed: on a terminal, one line per step redrawn in place;
// otherwise (pipes, CI, tests) one plain line per change.
import type { AgentStep } from '../api/index.ts';
import type { OutputStream } from './io.ts';

export interface StepRow {
  name: string;
  agent: string;
  phase: string;
  attempt: number;
  maxAttempts?: number;
  startTime?: string;
  completionTime?: string;
  tokens: number;
  message?: string;
}

export function stepRow(step: AgentStep): StepRow {
  const status = step.status ?? {};
  return {
    name: step.metadata.name ?? '',
    agent: step.spec.agent,
    phase: status.phase ?? 'Pending',
    attempt: status.attempt ?? 0,
    ...(status.maxAttempts ? { maxAttempts: status.maxAttempts } : {}),
    ...(status.startTime ? { startTime: status.startTime } : {}),
    ...(status.completionTime ? { completionTime: status.completionTime } : {}),
    tokens: status.usage?.totalTokens ?? 0,
    ...(status.message ? { message: status.message } : {}),
  };
}

/** Seconds between two times, or from `start` to now while running. */
export function elapsedSeconds(start: string | undefined, end: string | undefined, now: Date): number {
  if (!start) return 0;
  const to = end ? Date.parse(end) : now.getTime();
  return Math.max(0, (to - Date.parse(start)) / 1000);
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const attemptText = (row: StepRow) =>
  row.attempt ? `attempt ${row.attempt}${row.maxAttempts ? `/${row.maxAttempts}` : ''}` : '';

/**
 * The first line of `text` in at most `max` characters: cut at the last space when that keeps most of
 * it (never mid-word, as "CRLfi…"), else at the limit, with "…" to say so.
 */
export function clip(text: string | undefined, max: number): string {
  const line = (text ?? '').split('\n')[0] ?? '';
  if (line.length <= max) return line;
  const room = line.slice(0, max - 1);
  const space = room.lastIndexOf(' ');
  return `${(space >= max / 2 ? room.slice(0, space) : room).trimEnd()}…`;
}

const oneLine = clip;

export interface Widths {
  name: number;
  agent: number;
  phase: number;
  attempt: number;
  tokens: number;
  /** Room for the message; none when absent. */
  message?: number;
  /** Between columns (default two spaces; one on a narrow terminal). */
  separator?: string;
}

const tokensText = (row: StepRow) => `${row.tokens} tokens`;

/** Column widths that fit these rows (so a narrow terminal still shows every column). */
export function columnWidths(rows: StepRow[]): Omit<Widths, 'message'> {
  const widest = (cells: string[], min: number) => Math.max(min, ...cells.map((c) => c.length));
  return {
    name: widest(
      rows.map((r) => r.name),
      12,
    ),
    agent: widest(
      rows.map((r) => r.agent),
      5,
    ),
    phase: widest(
      rows.map((r) => r.phase),
      10,
    ),
    attempt: widest(rows.map(attemptText), 12),
    tokens: widest(rows.map(tokensText), 8),
  };
}

/** The width of a row without its message. */
export const rowWidth = (w: Omit<Widths, 'message'>) =>
  w.name + w.agent + w.phase + w.attempt + 6 + w.tokens + 10;

/** A step as one line: name, agent, phase, attempt, elapsed time, tokens (and the message when room is given). */
export function formatRow(row: StepRow, now: Date, widths: Widths): string {
  const cells = [
    row.name.padEnd(widths.name),
    row.agent.padEnd(widths.agent),
    row.phase.padEnd(widths.phase),
    attemptText(row).padEnd(widths.attempt),
    formatDuration(elapsedSeconds(row.startTime, row.completionTime, now)).padStart(6),
    tokensText(row).padStart(widths.tokens),
  ];
  const separator = widths.separator ?? '  ';
  const line = cells.join(separator);
  return widths.message && row.message ? `${line}${separator}${oneLine(row.message, widths.message)}` : line;
}

export interface LiveView {
  /** Replaces what is shown with these rows (in order). */
  update(rows: StepRow[]): void;
  /** A line above the rows (kept when the rows are redrawn). */
  note(line: string): void;
  /** Stops redrawing; leaves the last state on screen. */
  close(): void;
}

/** A view for `stream`: redrawn in place on a TTY, a line per change otherwise. */
export function createView(stream: OutputStream, now: () => Date): LiveView {
  return stream.isTTY ? new TerminalView(stream, now) : new PlainView(stream, now);
}

class PlainView implements LiveView {
  private readonly stream: OutputStream;
  private readonly now: () => Date;
  private readonly last = new Map<string, string>();
  /** Columns only widen, so lines printed before a longer step name appeared stay in line with it. */
  private widths: Omit<Widths, 'message'> = { name: 20, agent: 14, phase: 13, attempt: 13, tokens: 13 };
  constructor(stream: OutputStream, now: () => Date) {
    this.stream = stream;
    this.now = now;
  }
  update(rows: StepRow[]): void {
    // Generous minimums, widened only, keep successive lines aligned as new steps appear.
    const fit = columnWidths(rows);
    const w = this.widths;
    const widths = {
      name: Math.max(w.name, fit.name),
      agent: Math.max(w.agent, fit.agent),
      phase: Math.max(w.phase, fit.phase),
      attempt: Math.max(w.attempt, fit.attempt),
      tokens: Math.max(w.tokens, fit.tokens),
    };
    this.widths = widths;
    for (const row of rows) {
      // Elapsed time and tokens move all the time; a line is printed when the state changes.
      const key = `${row.phase}|${row.attempt}|${row.message ?? ''}`;
      if (this.last.get(row.name) === key) continue;
      this.last.set(row.name, key);
      this.stream.write(`${formatRow(row, this.now(), { ...widths, message: 160 })}\n`);
    }
  }
  note(line: string): void {
    this.stream.write(`${line}\n`);
  }
  close(): void {}
}

class TerminalView implements LiveView {
  private readonly stream: OutputStream;
  private readonly now: () => Date;
  private rows: StepRow[] = [];
  private drawn = 0;
  private readonly ticker: NodeJS.Timeout;
  constructor(stream: OutputStream, now: () => Date) {
    this.stream = stream;
    this.now = now;
    // Only the elapsed times move between events; redraw them once a second.
    this.ticker = setInterval(() => this.draw(), 1000);
    this.ticker.unref();
  }
  update(rows: StepRow[]): void {
    this.rows = rows;
    this.draw();
  }
  note(line: string): void {
    this.erase();
    this.stream.write(`${line}\n`);
    this.draw();
  }
  close(): void {
    clearInterval(this.ticker);
    this.draw();
  }
  private erase(): void {
    if (this.drawn > 0) this.stream.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }
  private draw(): void {
    this.erase();
    const columns = this.stream.columns || 120;
    const widths = columnWidths(this.rows);
    const room = columns - rowWidth(widths) - 3;
    const lines = this.rows.map((row) =>
      formatRow(row, this.now(), { ...widths, ...(room > 10 ? { message: room } : {}) }).slice(
        0,
        columns - 1,
      ),
    );
    for (const line of lines) this.stream.write(`${line}\n`);
    this.drawn = lines.length;
  }
}
