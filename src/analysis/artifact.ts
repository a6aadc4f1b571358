// Artifacts as sequences to compare: a Dockerfile's instructions, or any other artifact's lines,
// normalised so that indentation and spacing do not count as a change.

/** Trimmed, with runs of whitespace as one space. */
export function normaliseLine(line: string): string {
  return line.replace(/\s+/g, ' ').trim();
}

export interface Instruction {
  /** FROM, RUN, COPY, ... (upper case, as Docker reads keywords case-insensitively). */
  keyword: string;
  /** The whole instruction on one line: keyword, then its arguments with whitespace collapsed. */
  text: string;
}

/**
 * A Dockerfile's instructions, as Docker reads them: `\` continues a line, and comment and blank
 * lines are skipped, inside a continuation too. Parser directives (`# syntax=`) are comments here.
 */
export function dockerfileInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: string[] = [];
  const flush = () => {
    const joined = normaliseLine(pending.join(' '));
    pending = [];
    if (joined === '') return;
    const space = joined.indexOf(' ');
    const keyword = (space < 0 ? joined : joined.slice(0, space)).toUpperCase();
    instructions.push({ keyword, text: space < 0 ? keyword : `${keyword}${joined.slice(space)}` });
  };
  for (const raw of text.split(/\r?\n/)) {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const continued = /\\\s*$/.test(raw);
    pending.push(continued ? trimmed.replace(/\\\s*$/, '') : trimmed);
    if (!continued) flush();
  }
  flush();
  return instructions;
}

/** Non-empty normalised lines, comments kept: what a manifest or script is, line by line. */
export function normalisedLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map(normaliseLine)
    .filter((line) => line !== '');
}

/**
 * The lines an artifact is made of, for comparing artifacts as sets: a Dockerfile's joined
 * instructions, or other artifacts' normalised lines without comments (`#` in YAML and shell).
 */
export function contentLines(text: string, dockerfile: boolean): string[] {
  if (dockerfile) return dockerfileInstructions(text).map((i) => i.text);
  return normalisedLines(text).filter((line) => !line.startsWith('#'));
}
