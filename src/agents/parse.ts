// Extraction of artifacts from model answers. Everything here reads untrusted text and never throws:
// callers get the artifact or an error message that can be shown to the model as-is.

export interface CodeBlock {
  /** The fence's language tag in lower case, '' when the fence had none. */
  language: string;
  body: string;
  /** The closing fence was missing (the answer was cut off or the model forgot it). */
  unterminated: boolean;
}

const FENCE = /^([ \t]*)(`{3,}|~{3,})[ \t]*([^\s`]*)[^\n]*$/;

/** Every fenced block of a markdown answer, in order. An unclosed last fence runs to the end. */
export function codeBlocks(text: string): CodeBlock[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: CodeBlock[] = [];
  let open: { indent: number; fence: string; language: string; body: string[] } | undefined;
  for (const line of lines) {
    const match = FENCE.exec(line);
    if (!open) {
      if (match)
        open = { indent: match[1]!.length, fence: match[2]!, language: match[3]!.toLowerCase(), body: [] };
      continue;
    }
    const closes =
      match && match[3] === '' && match[2]![0] === open.fence[0] && match[2]!.length >= open.fence.length;
    if (closes) {
      blocks.push({ language: open.language, body: trimBlock(open.body), unterminated: false });
      open = undefined;
    } else {
      // A fence indented by a list indents its body too; take that indentation off.
      open.body.push(line.replace(new RegExp(`^[ \\t]{0,${open.indent}}`), ''));
    }
  }
  if (open) blocks.push({ language: open.language, body: trimBlock(open.body), unterminated: true });
  return blocks;
}

const trimBlock = (lines: string[]) =>
  lines
    .join('\n')
    .replace(/^\s*\n/, '')
    .trimEnd();

/** Language tags that mean the same artifact. */
export const LANGUAGE_ALIASES: Record<string, readonly string[]> = {
  dockerfile: ['dockerfile', 'docker', 'containerfile'],
  yaml: ['yaml', 'yml'],
  json: ['json', 'jsonc'],
  bash: ['bash', 'sh', 'shell', 'zsh'],
};

export type ExtractResult =
  | { ok: true; text: string; note?: string }
  /** `tooLarge`: refused for its size alone, before anything was parsed. */
  | { ok: false; error: string; tooLarge?: true };

/**
 * The largest answer read, in UTF-8 bytes. A hand-written artifact is a few KiB, and the longest
 * answer a model writes (about 64k output tokens) fits; anything bigger is refused before it is
 * parsed, so that no reader (and no ConfigMap the attempt is stored in) ever sees megabytes.
 */
export const MAX_ANSWER_BYTES = 256 * 1024;

/** The refusal of an answer larger than MAX_ANSWER_BYTES, or undefined when it fits. */
export function answerTooLarge(text: string, language: string): string | undefined {
  // Cheap first: a string of n UTF-16 units is at most 3n UTF-8 bytes.
  if (text.length * 3 <= MAX_ANSWER_BYTES) return undefined;
  const bytes = Buffer.byteLength(text);
  if (bytes <= MAX_ANSWER_BYTES) return undefined;
  return `The answer is ${Math.ceil(bytes / 1024)} KiB, larger than the ${MAX_ANSWER_BYTES / 1024} KiB an answer may be. Answer with exactly one short \`\`\`${language} block and nothing else.`;
}

/**
 * The longest refusal an acceptor writes. The next prompt carries an attempt's error as its history
 * entry keeps it (2,000 characters), and the fix comes last: a longer list of problems would push the
 * fix out of what the model reads.
 */
export const MAX_EXPLANATION_CHARS = 1800;

/** Text shown in a message, cut when it is longer than `max` (a model's line, key or name). */
export const quoted = (text: string, max = 60) =>
  JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * Items joined with "; " within `budget` characters: as many as fit, then "and N more". An item that
 * alone is longer than the budget is cut.
 */
export function listWithin(items: readonly string[], budget: number): string {
  const out: string[] = [];
  let used = 0;
  for (const [i, item] of items.entries()) {
    const more = items.length - i;
    const tail = more > 1 ? `; and ${more - 1} more`.length : 0;
    if (used + item.length + 2 + tail > budget) {
      if (out.length === 0) out.push(`${item.slice(0, Math.max(0, budget - tail - 1))}…`);
      else {
        out.push(`and ${more} more`);
        return out.join('; ');
      }
      if (more > 1) out.push(`and ${more - 1} more`);
      return out.join('; ');
    }
    out.push(item);
    used += item.length + 2;
  }
  return out.join('; ');
}

/**
 * Whether the first line that is not blank or a comment (`#`) matches `first`, with `skip` lines
 * (e.g. `---`, `ARG x`) also passed over. A line scan, not a multi-line regular expression: a regex
 * with nested repetition takes quadratic time, or overflows the stack, on a long run of comment lines.
 */
export function firstMeaningfulLine(
  text: string,
  first: RegExp,
  skip: (line: string) => boolean = () => false,
): boolean {
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    const line = (end < 0 ? text.slice(start) : text.slice(start, end)).trim();
    if (line !== '' && !line.startsWith('#') && !skip(line)) return first.test(line);
    if (end < 0) return false;
    start = end + 1;
  }
  return false;
}

/**
 * The artifact in a model answer: the block tagged with `language` (or an alias), else the first
 * block with no tag, else the first block; with no fence at all, the whole answer when `looksLike`
 * accepts it. An unterminated block is still used, with a note, because a cut-off answer is usually
 * the artifact minus its last line and the checks that follow will say what is wrong with it.
 */
export function extractCodeBlock(
  text: string,
  language: string,
  looksLike: (text: string) => boolean = () => false,
): ExtractResult {
  const tooLarge = answerTooLarge(text, language);
  if (tooLarge) return { ok: false, error: tooLarge, tooLarge: true };
  const blocks = codeBlocks(text).filter((b) => b.body.trim() !== '');
  const names = LANGUAGE_ALIASES[language.toLowerCase()] ?? [language.toLowerCase()];
  const chosen =
    blocks.find((b) => names.includes(b.language)) ?? blocks.find((b) => b.language === '') ?? blocks[0];
  if (chosen) {
    return chosen.unterminated
      ? { ok: true, text: chosen.body, note: 'the code block was not closed' }
      : { ok: true, text: chosen.body };
  }
  const whole = text.trim();
  if (whole && looksLike(whole)) return { ok: true, text: whole };
  return {
    ok: false,
    error: whole
      ? `The answer has no \`\`\`${language} code block. Answer with exactly one \`\`\`${language} block.`
      : `The answer was empty. Answer with exactly one \`\`\`${language} block.`,
  };
}

export type JsonResult<T = unknown> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Parses JSON from a model answer: a ```json block, any block, or the bare answer (also when prose
 * surrounds one object or list). The error names the position so the model can repair its answer.
 */
export function parseJson(text: string): JsonResult {
  const tooLarge = answerTooLarge(text, 'json');
  if (tooLarge) return { ok: false, error: tooLarge };
  const extracted = extractCodeBlock(text, 'json', () => true);
  const candidate = extracted.ok ? extracted.text : text.trim();
  const first = tryParse(candidate);
  if (first.ok) return first;
  // Prose around a bare JSON value: take the outermost brackets.
  const start = candidate.search(/[[{]/);
  const end = Math.max(candidate.lastIndexOf('}'), candidate.lastIndexOf(']'));
  if (start >= 0 && end > start) {
    const inner = tryParse(candidate.slice(start, end + 1));
    if (inner.ok) return inner;
  }
  return {
    ok: false,
    error: candidate
      ? `The answer is not valid JSON (${first.error}). Answer with one \`\`\`json block holding only the JSON.`
      : 'The answer was empty. Answer with one ```json block holding only the JSON.',
  };
}

function tryParse(text: string): JsonResult & { error?: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

export const RETURN_TO_MANAGER = 'RETURN TO MANAGER';
export const RETURN_TO_HUMAN = 'RETURN TO HUMAN';

export interface DebugAdvice {
  /** The advice with the directive lines taken out. */
  advice: string;
  returnToManager: boolean;
  returnToHuman: boolean;
  /** What the model asks the human, when it returns to one. */
  question?: string;
}

export interface DebugDirectivesOptions {
  allowReturnToManager: boolean;
  allowReturnToHuman: boolean;
}

/**
 * Reads the debug agent's answer. A directive only counts where it is allowed (a model may name one
 * it was told it cannot use); when both appear, the human wins, since a person can also send the step
 * back. The question is the text after `RETURN TO HUMAN` on its line, or the lines that follow, or
 * the advice's last question.
 */
export function parseDebugAdvice(text: string, options: DebugDirectivesOptions): DebugAdvice {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  let sawManager = false;
  let sawHuman = false;
  let question = '';
  let collecting = false;
  for (const line of lines) {
    const upper = line.toUpperCase();
    if (upper.includes(RETURN_TO_HUMAN)) {
      sawHuman = true;
      const after = line.slice(upper.indexOf(RETURN_TO_HUMAN) + RETURN_TO_HUMAN.length);
      question = after.replace(/^[\s:*_-]+/, '').trim();
      collecting = question === '';
      continue;
    }
    if (upper.includes(RETURN_TO_MANAGER)) {
      sawManager = true;
      const rest = line.replace(new RegExp(RETURN_TO_MANAGER, 'i'), '').replace(/^[\s:*_-]+$/, '');
      if (rest.trim()) kept.push(rest.trim());
      collecting = false;
      continue;
    }
    if (collecting && line.trim()) {
      question = question ? `${question} ${line.trim()}` : line.trim();
      continue;
    }
    if (collecting && question) collecting = false;
    kept.push(line);
  }
  const returnToHuman = sawHuman && options.allowReturnToHuman;
  // A question the model may not put to a person is still part of its advice.
  if (!returnToHuman && question) kept.push(question);
  const advice = kept.join('\n').trim();
  const returnToManager = !returnToHuman && sawManager && options.allowReturnToManager;
  const result: DebugAdvice = { advice, returnToManager, returnToHuman };
  if (returnToHuman) {
    const lastQuestion = advice
      .split(/(?<=[.?!])\s+/)
      .filter((s) => s.trim().endsWith('?'))
      .pop();
    result.question =
      question || lastQuestion?.trim() || 'The debug agent asked for help without a question.';
  }
  return result;
}
