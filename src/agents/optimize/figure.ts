// Figures of merit: the one number the optimize agent reads from each run's log to say whether a
// change (ranks x threads, binding, decomposition, options) made the run faster. Pure and
// deterministic; the log is untrusted and may be huge, so every parser reads it line by line from the
// end (where the figures are), looks at no more than MAX_LINE characters of a line, and uses only
// anchored or token-based matching (no pattern that can backtrack over a line more than linearly).
//
// The named parsers and what they read (test/fixtures/figures has real logs of each):
// - lammps-timesteps: the "timesteps/s" of LAMMPS' "Performance:" line ("Performance: 0.130 ns/day,
//   184.259 hours/ns, 15.075 timesteps/s, 36.663 katom-step/s"; tau/day for LJ units; katom- or
//   Matom-step/s in newer versions). A log with several runs has one line per run: the LAST is taken,
//   the final run's. A minimization prints no Performance line. Higher is better.
// - lammps-loop-time: the seconds of the last "Loop time of 3.6681 on 4 procs for 100 steps with 304
//   atoms" line (runs and minimizations print it). Lower is better.
// - amg-fom: the last "Figure of Merit (FOM): ..." line of AMG2023, the overall figure it prints after
//   the solve phase: nnz_AP / (Setup Phase Time + 3 * Solve Phase Time) for problem 2 and
//   nnz_AP / (Setup Phase Time + Solve Phase Time) for problem 1 (LLNL/AMG2023 amg.c). Versions of
//   2023 print it as "Figure of Merit (FOM): 1.41e+08" or "Figure of Merit (FOM_1): 2.89e+04"; the
//   number is the last on the line either way. The phase figures "FOM_Setup: ..." and "FOM_Solve: ..."
//   are not the default; read one with a regex, e.g. {regex: '^FOM_Solve:.*: ([0-9.e+-]+)$',
//   direction: 'higher'}. Higher is better.
// - hpl-gflops: the Gflops (7th column) of the LAST HPL result line ("WR11C2R4  29184  192  2  4
//   152.49  1.0872e+02"): HPL prints one per configuration of HPL.dat and the agent runs one per trial.
//   When the residual check after that line says FAILED the result is refused: wrong answers are not
//   fast ones. Higher is better.
// - osu-latency: the latency at the SMALLEST message size of at least 1 byte (size 0 is skipped) of the
//   last osu_latency table ("# Size  Latency (us)", or "# Size  Avg Latency(us)" in OSU 7): the
//   small-message latency is what ranks, binding and transports change. Collectives' latency tables
//   (osu_allreduce, ...) have the same header and are read the same way. Lower is better.
// - osu-bandwidth: the bandwidth at the LARGEST message size of the last osu_bw (or osu_bibw) table
//   ("# Size  Bandwidth (MB/s)"). Higher is better.
// For both OSU tables a row whose validation column (--validation) says Fail refuses the table.
//
// A regex spec takes the first capture group of the LAST match in the log. It is matched against each
// line separately (as with the m flag, ^ and $ anchor at line ends; a match cannot span lines), from the
// last line up; in a line with several matches the last one counts. The group is read as a number:
// "1.2e+03", "1,234.5" (commas dropped), "-3". A regex that repeats a group which itself repeats or
// alternates ("(a+)+", "(a|ab)*") can take exponential time and is refused; one that is merely
// quadratic in a line ("^.*a.*?([0-9]+)") stays bounded because it sees only a line's first
// MAX_REGEX_LINE (1024) characters.
//
// Every number must be finite: nan or inf where a figure should be refuses the figure, naming the line.
import { z } from 'zod';

export const FIGURE_PARSERS = [
  'lammps-timesteps',
  'lammps-loop-time',
  'amg-fom',
  'hpl-gflops',
  'osu-latency',
  'osu-bandwidth',
] as const;
export type FigureParserName = (typeof FIGURE_PARSERS)[number];
export type Direction = 'higher' | 'lower';

/** How a step says to read its figure: a named parser, or a regular expression with one capture group. */
export type FigureSpec =
  | { parser: FigureParserName; direction?: Direction } // direction defaults per parser
  | { regex: string; direction: Direction; name?: string; unit?: string };

export interface Figure {
  value: number;
  unit: string;
  name: string;
  direction: Direction;
  /** the log line it came from, trimmed, ≤ 300 chars */
  line: string;
}

export type FigureResult = { ok: true; figure: Figure } | { ok: false; error: string };

export const DEFAULT_DIRECTION: Record<FigureParserName, Direction> = {
  'lammps-timesteps': 'higher',
  'lammps-loop-time': 'lower',
  'amg-fom': 'higher',
  'hpl-gflops': 'higher',
  'osu-latency': 'lower',
  'osu-bandwidth': 'higher',
};

/** The most characters of one line any parser looks at; figure lines are a few hundred at most. */
export const MAX_LINE = 4096;
const MAX_EVIDENCE = 300;
/** The most characters of one line a regex spec is tried on. */
export const MAX_REGEX_LINE = 1024;
/** Regexes longer than this are refused: a figure's pattern is one line's worth. */
export const MAX_REGEX_LENGTH = 500;

// ---------------------------------------------------------------------------------------------------
// Lines, read backwards from the end and forwards from a line; "\n", "\r\n" and a lone "\r" (progress
// bars) all end a line.

interface Line {
  /** The line without its break, cut to MAX_LINE characters. */
  text: string;
  /** Where the line starts and ends (before its break) in the log. */
  start: number;
  end: number;
}

const isBreak = (code: number) => code === 10 || code === 13;

const lineAt = (log: string, start: number, end: number): Line => ({
  text: log.slice(start, Math.min(end, start + MAX_LINE)),
  start,
  end,
});

function* linesBackward(log: string): Generator<Line> {
  let end = log.length;
  for (;;) {
    let i = end - 1;
    while (i >= 0 && !isBreak(log.charCodeAt(i))) i--;
    yield lineAt(log, i + 1, end);
    if (i < 0) return;
    end = log.charCodeAt(i) === 10 && i > 0 && log.charCodeAt(i - 1) === 13 ? i - 1 : i;
  }
}

/** The lines after `line`, in order. */
function* linesAfter(log: string, line: Line): Generator<Line> {
  let start = line.end;
  if (start >= log.length) return;
  start += log.charCodeAt(start) === 13 && log.charCodeAt(start + 1) === 10 ? 2 : 1;
  for (;;) {
    let i = start;
    while (i < log.length && !isBreak(log.charCodeAt(i))) i++;
    yield lineAt(log, start, i);
    if (i >= log.length) return;
    start = i + (log.charCodeAt(i) === 13 && log.charCodeAt(i + 1) === 10 ? 2 : 1);
  }
}

const evidence = (text: string) => text.trim().slice(0, MAX_EVIDENCE);
const quoted = (text: string) => JSON.stringify(evidence(text).slice(0, 200));
const tokens = (text: string) => text.trim().split(/[\s,]+/);

// ---------------------------------------------------------------------------------------------------
// Numbers

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NOT_FINITE = /^[+-]?(?:nan|inf|infinity)(?:\(\w*\))?$/i;

type Parsed = { ok: true; value: number } | { ok: false; why: string };

/** A log's number: "1.2e+03", "-3", "1,234.5" (commas are thousands separators); finite only. */
export function parseLogNumber(token: string): Parsed {
  const text = token.trim().replace(/,/g, '');
  if (NOT_FINITE.test(text)) return { ok: false, why: `"${token}" is not a finite number` };
  if (!NUMBER.test(text)) return { ok: false, why: `"${token}" is not a number` };
  const value = Number(text);
  if (!Number.isFinite(value)) return { ok: false, why: `"${token}" is not a finite number` };
  return { ok: true, value };
}

const failure = (error: string): FigureResult => ({ ok: false, error });

/** The figure read from `token` of `line`, or a failure naming the line. */
function figureFrom(
  token: string,
  line: string,
  what: { name: string; unit: string; direction: Direction },
): FigureResult {
  const number = parseLogNumber(token);
  if (!number.ok) return failure(`${what.name}: ${number.why} in the line ${quoted(line)}`);
  return { ok: true, figure: { value: number.value, ...what, line: evidence(line) } };
}

// ---------------------------------------------------------------------------------------------------
// LAMMPS

const PERFORMANCE = /^\s*Performance:/;
const LOOP_TIME = /^\s*Loop time of /;

function lammpsTimesteps(log: string, direction: Direction): FigureResult {
  for (const line of linesBackward(log)) {
    if (!PERFORMANCE.test(line.text)) continue;
    const words = tokens(line.text);
    const at = words.indexOf('timesteps/s');
    if (at < 2) continue;
    return figureFrom(words[at - 1]!, line.text, {
      name: 'timesteps per second',
      unit: 'timesteps/s',
      direction,
    });
  }
  return failure(
    'no "Performance: ... timesteps/s" line in the log (LAMMPS prints it at the end of a run; a minimization, or a run that did not finish, has none)',
  );
}

function lammpsLoopTime(log: string, direction: Direction): FigureResult {
  for (const line of linesBackward(log)) {
    if (!LOOP_TIME.test(line.text)) continue;
    const words = tokens(line.text);
    if (words[4] !== 'on') continue;
    return figureFrom(words[3]!, line.text, { name: 'loop time', unit: 's', direction });
  }
  return failure(
    'no "Loop time of ... on ... procs for ... steps" line in the log (LAMMPS prints it at the end of a run or minimization)',
  );
}

// ---------------------------------------------------------------------------------------------------
// AMG2023

const AMG_FOM = /^\s*Figure of Merit \((FOM(?:_\w{1,20})?)\)\s*:/;
const AMG_PHASE_FOM = /^\s*FOM_(Setup|Solve)\b/;

function amgFom(log: string, direction: Direction): FigureResult {
  let phase: string | undefined;
  for (const line of linesBackward(log)) {
    const fom = AMG_FOM.exec(line.text);
    if (fom) {
      const words = tokens(line.text);
      return figureFrom(words.at(-1)!, line.text, {
        name: `AMG2023 Figure of Merit (${fom[1]})`,
        unit: 'nnz_AP/s',
        direction,
      });
    }
    if (phase === undefined) phase = AMG_PHASE_FOM.exec(line.text)?.[0].trim();
  }
  return failure(
    phase
      ? `no "Figure of Merit (FOM): ..." line in the log, though it has "${phase}": AMG2023 prints the figure of merit last, after the solve phase, so the run did not finish`
      : 'no "Figure of Merit (FOM): ..." line in the log (AMG2023 prints it last, after the solve phase)',
  );
}

// ---------------------------------------------------------------------------------------------------
// HPL

/** HPL's T/V code: W, R or C (row/column major), depth, broadcast, rfact, ndiv, pfact, nbmin. */
const HPL_VARIANT = /^W[RC]\d\d[LCR]\d{1,3}[LCR]\d{1,3}$/;
const HPL_START = /^\s*W[RC]\d/;
const INTEGER = /^\d+$/;
const HPL_RESIDUAL = /^\s*\|\|Ax-b\|\|/;

function hplGflops(log: string, direction: Direction): FigureResult {
  for (const line of linesBackward(log)) {
    if (!HPL_START.test(line.text)) continue;
    const words = tokens(line.text);
    if (words.length < 7 || !HPL_VARIANT.test(words[0]!)) continue;
    if (!words.slice(1, 5).every((w) => INTEGER.test(w))) continue;
    for (const after of linesAfter(log, line)) {
      if (!HPL_RESIDUAL.test(after.text)) continue;
      if (/\bFAILED\s*$/.test(after.text)) {
        return failure(
          `HPL's residual check FAILED for the last result ${quoted(line.text)}: ${quoted(after.text)}; the solution is wrong, so its Gflops do not count (check the BLAS, the MPI and the memory; rerun)`,
        );
      }
    }
    return figureFrom(words[6]!, line.text, { name: 'HPL Gflops', unit: 'Gflops', direction });
  }
  return failure(
    'no HPL result line (a T/V code such as WR11C2R4, then N, NB, P, Q, Time and Gflops) in the log; HPL prints one per test under the "T/V  N  NB  P  Q  Time  Gflops" header',
  );
}

// ---------------------------------------------------------------------------------------------------
// OSU micro-benchmarks

const OSU_LATENCY_HEADER = /^#\s*Size\s+(?:Avg\s+)?Latency\s*\(us\)/i;
const OSU_BANDWIDTH_HEADER = /^#\s*Size\s+Bandwidth\s*\(MB\/s\)/i;

interface OsuRow {
  size: number;
  value: string;
  line: string;
  failed: boolean;
}

/** The rows of the last table under a header matching `header`, or undefined when there is none. */
function lastOsuTable(log: string, header: RegExp): OsuRow[] | undefined {
  for (const line of linesBackward(log)) {
    if (!header.test(line.text.trim())) continue;
    const rows: OsuRow[] = [];
    for (const after of linesAfter(log, line)) {
      const text = after.text.trim();
      // OSU 7 prints "# Datatype: MPI_CHAR." under (or over) the header; blank lines may precede rows.
      if (rows.length === 0 && (text === '' || text.startsWith('#'))) continue;
      const words = text.split(/\s+/);
      const value = words[1];
      if (!INTEGER.test(words[0]!) || value === undefined) break;
      if (!NUMBER.test(value) && !NOT_FINITE.test(value)) break;
      const failed = words.slice(2).some((w) => /^fail(ed)?$/i.test(w));
      rows.push({ size: Number(words[0]), value, line: text, failed });
    }
    return rows;
  }
  return undefined;
}

function osuFigure(log: string, kind: 'latency' | 'bandwidth', direction: Direction): FigureResult {
  const table = lastOsuTable(log, kind === 'latency' ? OSU_LATENCY_HEADER : OSU_BANDWIDTH_HEADER);
  if (table === undefined) {
    return failure(
      kind === 'latency'
        ? 'no OSU latency table in the log (osu_latency prints "# Size  Latency (us)", or "# Size  Avg Latency(us)" in OSU 7, then one "size latency" row per message size)'
        : 'no OSU bandwidth table in the log (osu_bw prints "# Size  Bandwidth (MB/s)", then one "size bandwidth" row per message size)',
    );
  }
  const failed = table.find((row) => row.failed);
  if (failed) {
    return failure(
      `OSU's validation failed at ${failed.size} bytes (${quoted(failed.line)}): the messages arrived wrong, so the ${kind} does not count`,
    );
  }
  const candidates = kind === 'latency' ? table.filter((row) => row.size >= 1) : table;
  if (candidates.length === 0) {
    return failure(
      kind === 'latency'
        ? 'the last OSU latency table has no row for a message of 1 byte or more (the benchmark may have died before printing them)'
        : 'the last OSU bandwidth table has no rows (the benchmark may have died before printing them)',
    );
  }
  const pick = candidates.reduce((best, row) =>
    kind === 'latency' ? (row.size < best.size ? row : best) : row.size > best.size ? row : best,
  );
  return figureFrom(pick.value, pick.line, {
    name: `OSU ${kind} (${pick.size}-byte messages)`,
    unit: kind === 'latency' ? 'us' : 'MB/s',
    direction,
  });
}

// ---------------------------------------------------------------------------------------------------
// Regular expressions

/**
 * Whether `source` repeats a group that itself repeats or alternates, such as (a+)+, (\d+\s?)* or
 * (a|ab)+: the shapes whose backtracking is exponential in the line's length. Conservative: it may
 * refuse a pattern that would have been fine, never the other way round for these shapes.
 */
function repeatsARepetition(source: string): boolean {
  const groups: { repeats: boolean; alternates: boolean }[] = [{ repeats: false, alternates: false }];
  /** Reads a quantifier at `i`: how many characters it takes and whether it repeats (more than once). */
  const quantifier = (i: number): { length: number; repeats: boolean } | undefined => {
    const c = source[i];
    if (c === '*' || c === '+') return { length: 1, repeats: true };
    if (c === '?') return { length: 1, repeats: false };
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i, i + 24));
      if (!m) return undefined;
      const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
      return { length: m[0].length, repeats: max > 1 };
    }
    return undefined;
  };
  /** After an atom ending before `i`: marks the enclosing group when a quantifier follows; returns the index after it. */
  const afterAtom = (i: number, inner?: { repeats: boolean; alternates: boolean }): number | 'unsafe' => {
    const q = quantifier(i);
    const top = groups.at(-1)!;
    if (inner && (inner.repeats || inner.alternates) && q?.repeats) return 'unsafe';
    if (q || inner?.repeats) top.repeats = true;
    if (!q) return i;
    const next = i + q.length;
    return source[next] === '?' ? next + 1 : next; // a lazy quantifier
  };
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    let next: number | 'unsafe';
    if (c === '\\') {
      next = afterAtom(i + 2);
    } else if (c === '[') {
      let j = i + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') j++;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      next = afterAtom(j + 1);
    } else if (c === '(') {
      groups.push({ repeats: false, alternates: false });
      next = i + 1;
    } else if (c === ')') {
      const inner = groups.length > 1 ? groups.pop() : undefined;
      next = afterAtom(i + 1, inner ?? { repeats: false, alternates: false });
    } else if (c === '|') {
      groups.at(-1)!.alternates = true;
      next = i + 1;
    } else {
      next = afterAtom(i + 1);
    }
    if (next === 'unsafe') return true;
    i = next;
  }
  return false;
}

/** Why `source` cannot be a figure's regex, or undefined when it can. */
export function regexProblem(source: string): string | undefined {
  if (source.length === 0)
    return 'regex must not be empty: give a pattern with one capture group, e.g. "Time: ([0-9.]+) s"';
  if (source.length > MAX_REGEX_LENGTH) {
    return `regex is ${source.length} characters; at most ${MAX_REGEX_LENGTH}: match the one line the figure is on`;
  }
  try {
    new RegExp(source);
  } catch (error) {
    return `regex is not a valid regular expression (${(error as Error).message}); e.g. "Time: ([0-9.]+) s"`;
  }
  // With an alternative that matches the empty string, exec returns one slot per capture group.
  const groupCount = new RegExp(`(?:${source})|`).exec('')!.length - 1;
  if (groupCount !== 1) {
    return `regex must have exactly one capture group, around the number; it has ${groupCount} (write (?:...) for a group that only groups), e.g. "Time: ([0-9.]+) s"`;
  }
  if (repeatsARepetition(source)) {
    return 'regex repeats a group that itself repeats or alternates, such as (a+)+ or (x|xy)*, which can take exponential time on a long line: repeat a character class instead, e.g. ([0-9.]+)';
  }
  return undefined;
}

function regexFigure(
  spec: { regex: string; direction: Direction; name?: string; unit?: string },
  log: string,
) {
  const problem = regexProblem(spec.regex);
  if (problem) return failure(problem);
  const probe = new RegExp(spec.regex);
  const every = new RegExp(spec.regex, 'g');
  const what = { name: spec.name ?? 'figure', unit: spec.unit ?? '', direction: spec.direction };
  for (const line of linesBackward(log)) {
    // A pattern may be quadratic in the line it is tried on ("^.*a.*?([0-9]+)"): it sees a line's
    // first MAX_REGEX_LINE characters, which hold any figure's line.
    const text = line.text.length > MAX_REGEX_LINE ? line.text.slice(0, MAX_REGEX_LINE) : line.text;
    if (!probe.test(text)) continue;
    let last: string | undefined;
    for (const match of text.matchAll(every)) {
      if (match[1] !== undefined) last = match[1];
    }
    if (last !== undefined) return figureFrom(last, text, what);
  }
  return failure(`no line of the log matches the regex ${JSON.stringify(spec.regex)}`);
}

// ---------------------------------------------------------------------------------------------------

const isDirection = (value: unknown): value is Direction => value === 'higher' || value === 'lower';
const isParser = (value: unknown): value is FigureParserName =>
  typeof value === 'string' && (FIGURE_PARSERS as readonly string[]).includes(value);

/** Reads the figure `spec` names from `log`. Never throws; says what it looked for when it finds nothing. */
export function parseFigure(spec: FigureSpec, log: string): FigureResult {
  try {
    if (typeof log !== 'string') return failure('the log must be text');
    const given = (spec ?? {}) as Partial<
      Record<'parser' | 'regex' | 'direction' | 'name' | 'unit', unknown>
    >;
    if (given.direction !== undefined && !isDirection(given.direction)) {
      return failure('direction must be "higher" or "lower"');
    }
    if (typeof given.regex === 'string') {
      if (!isDirection(given.direction))
        return failure('a regex figure needs a direction: "higher" or "lower"');
      return regexFigure(
        {
          regex: given.regex,
          direction: given.direction,
          name: typeof given.name === 'string' && given.name !== '' ? given.name : undefined,
          unit: typeof given.unit === 'string' ? given.unit : undefined,
        },
        log,
      );
    }
    if (!isParser(given.parser)) {
      return failure(`parser must be one of ${FIGURE_PARSERS.join(', ')}, or give a regex`);
    }
    const direction = isDirection(given.direction) ? given.direction : DEFAULT_DIRECTION[given.parser];
    switch (given.parser) {
      case 'lammps-timesteps':
        return lammpsTimesteps(log, direction);
      case 'lammps-loop-time':
        return lammpsLoopTime(log, direction);
      case 'amg-fom':
        return amgFom(log, direction);
      case 'hpl-gflops':
        return hplGflops(log, direction);
      case 'osu-latency':
        return osuFigure(log, 'latency', direction);
      case 'osu-bandwidth':
        return osuFigure(log, 'bandwidth', direction);
    }
  } catch (error) {
    // Nothing above should throw; if something does, a figure is still refused, not the agent crashed.
    return failure(`reading the figure failed: ${(error as Error)?.message ?? String(error)}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// The schema for user input

const SHAPE =
  'a figure is {parser: "lammps-timesteps"} (or another parser) or {regex: "Time: ([0-9.]+) s", direction: "lower"}';

const figureSpecObject = z
  .strictObject(
    {
      parser: z
        .enum(FIGURE_PARSERS, { error: `parser must be one of ${FIGURE_PARSERS.join(', ')}` })
        .optional()
        .describe(`parser: a named figure, one of ${FIGURE_PARSERS.join(', ')}.`),
      regex: z
        .string({ error: 'regex must be a string: a regular expression with one capture group' })
        .optional()
        .describe(
          'regex: a regular expression with one capture group around the number; the last match counts.',
        ),
      direction: z
        .enum(['higher', 'lower'], {
          error:
            'direction must be "higher" (bigger is better, e.g. timesteps/s) or "lower" (smaller is better, e.g. seconds)',
        })
        .optional()
        .describe('direction: "higher" or "lower" is better; required with regex, defaults per parser.'),
      name: z
        .string({ error: 'name must be a string, e.g. "solve time"' })
        .min(1, { error: 'name must not be empty, e.g. "solve time"' })
        .max(100, { error: 'name must be at most 100 characters' })
        .optional()
        .describe('name: what the regex figure is (default "figure").'),
      unit: z
        .string({ error: 'unit must be a string, e.g. "s"' })
        .max(40, { error: 'unit must be at most 40 characters' })
        .optional()
        .describe('unit: the regex figure\'s unit, e.g. "s" (default none).'),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}: ${SHAPE} (with optional name and unit for a regex)`
          : `must be an object: ${SHAPE}`,
    },
  )
  .superRefine((spec, ctx) => {
    if (spec.parser === undefined && spec.regex === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: `give parser or regex: ${SHAPE}` });
      return;
    }
    if (spec.parser !== undefined && spec.regex !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['regex'], message: 'give parser or regex, not both' });
      return;
    }
    if (spec.parser !== undefined) {
      for (const key of ['name', 'unit'] as const) {
        if (spec[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `${key} is only for a regex figure: the parser ${spec.parser} names its own`,
          });
        }
      }
      return;
    }
    const problem = regexProblem(spec.regex!);
    if (problem) ctx.addIssue({ code: 'custom', path: ['regex'], message: problem });
    if (spec.direction === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['direction'],
        message:
          'direction is required with regex: "higher" (bigger is better) or "lower" (smaller is better)',
      });
    }
  })
  .describe(`figure: how to read a run's figure of merit from its log; ${SHAPE}.`);

/**
 * Validates a figure spec from user input. The object's keys are all optional to zod; the refinement
 * lets through only the two shapes of FigureSpec, hence the cast (a union would report only "Invalid
 * input" instead of the field and the fix).
 */
export const figureSpecSchema: z.ZodType<FigureSpec> = figureSpecObject as unknown as z.ZodType<FigureSpec>;
