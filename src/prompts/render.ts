// A tiny renderer for prompts: sections that vanish when empty, bullet lists, fenced blocks.
// Prompts are text with slots; there is no logic here beyond leaving out what is not given.

type Part = string | false | null | undefined;

/** Joins the parts that have text with one blank line between them. */
export const join = (...parts: Part[]) =>
  parts
    .filter((p): p is string => typeof p === 'string' && p.trim() !== '')
    .map((p) => p.trim())
    .join('\n\n');

/** `Title:\nbody`, or nothing when the body is empty. */
export const section = (title: string, body: Part) =>
  typeof body === 'string' && body.trim() !== '' ? `${title}:\n${body.trim()}` : undefined;

/** A bullet list, or nothing when there are no items. */
export const bullets = (items: readonly Part[] | undefined) => {
  const kept = (items ?? []).filter((i): i is string => typeof i === 'string' && i.trim() !== '');
  return kept.length > 0 ? kept.map((i) => `- ${i.trim()}`).join('\n') : undefined;
};

/** A fenced block whose fence is longer than any backtick run inside, so the body cannot close it. */
export const fenced = (language: string, body: string) => {
  const longest = Math.max(2, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${body.trim()}\n${fence}`;
};

/** A value for a `key: value` line, or nothing. */
export const line = (label: string, value: Part) =>
  typeof value === 'string' && value.trim() !== '' ? `${label}: ${value.trim()}` : undefined;
