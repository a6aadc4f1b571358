// Checks on a generated Dockerfile before it is built. Builds run from a ConfigMap with nothing else
// in the context, so COPY/ADD of local files can only fail; multi-stage builds are out of scope for
// the agent (the seed's rule), and a Dockerfile must start from a base image.
import { createHash } from 'node:crypto';
import { extractCodeBlock, firstMeaningfulLine, listWithin, quoted } from '../parse.ts';

export interface DockerfileProblem {
  line: number;
  message: string;
}

export type DockerfileCheck =
  | { ok: true; dockerfile: string }
  | { ok: false; problems: DockerfileProblem[]; explanation: string };

interface Instruction {
  line: number;
  keyword: string;
  args: string;
}

/** The instructions of a Dockerfile, with line continuations joined and comments dropped. */
export function instructions(dockerfile: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = dockerfile.replace(/\r\n?/g, '\n').split('\n');
  let current: Instruction | undefined;
  let heredoc: string | undefined;
  lines.forEach((text, index) => {
    if (heredoc) {
      if (text.trim() === heredoc) heredoc = undefined;
      return;
    }
    const trimmed = text.trim();
    if (!current && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (current) {
      if (trimmed.startsWith('#')) return;
      current.args += ` ${trimmed.replace(/\\$/, '').trim()}`;
    } else {
      const match = /^(\w+)\s*(.*)$/.exec(trimmed);
      current = {
        line: index + 1,
        keyword: (match?.[1] ?? trimmed).toUpperCase(),
        args: (match?.[2] ?? '').replace(/\\$/, '').trim(),
      };
    }
    const doc = /<<-?\s*["']?(\w+)["']?/.exec(trimmed);
    if (doc) heredoc = doc[1];
    if (!trimmed.endsWith('\\')) {
      out.push(current);
      current = undefined;
    }
  });
  if (current) out.push(current);
  return out;
}

/**
 * Checks a generated Dockerfile. A refusal comes with one paragraph for the model saying what to
 * change, because the next attempt is only as good as the reason it is given.
 */
export function checkDockerfile(dockerfile: string): DockerfileCheck {
  const text = dockerfile.trim();
  const all = instructions(text);
  const problems: DockerfileProblem[] = [];
  const first = all.find((i) => i.keyword !== 'ARG');
  if (!first) {
    problems.push({ line: 1, message: 'the Dockerfile has no instructions' });
  } else if (first.keyword !== 'FROM') {
    problems.push({
      line: first.line,
      message: `it must start with FROM, not ${/^\w{1,20}$/.test(first.keyword) ? first.keyword : quoted(first.keyword, 40)}`,
    });
  }
  const froms = all.filter((i) => i.keyword === 'FROM');
  if (froms.length > 1) {
    problems.push({
      line: froms[1]!.line,
      message: `it has ${froms.length} FROM instructions; multi-stage builds are not allowed`,
    });
  }
  for (const i of all) {
    if (i.keyword !== 'COPY' && i.keyword !== 'ADD') continue;
    const remote = i.keyword === 'ADD' && /(^|\s)(https?:\/\/|git@)/.test(i.args);
    if (!remote) {
      problems.push({
        line: i.line,
        message: `${i.keyword} on line ${i.line} needs local files, and the build context is empty`,
      });
    }
  }
  if (problems.length === 0) return { ok: true, dockerfile: text };
  return { ok: false, problems, explanation: explainProblems(problems) };
}

function explainProblems(problems: DockerfileProblem[]): string {
  const listed = listWithin(
    problems.map((p) => p.message),
    700,
  );
  return (
    `The Dockerfile was not built because ${listed}. ` +
    'Write a single-stage Dockerfile that starts with FROM and creates every file it needs inside RUN ' +
    'instructions (download sources with curl, wget or git, write small files with printf or a heredoc); ' +
    'there is no build context to COPY or ADD from, and only one FROM is allowed.'
  );
}

/** The image name the operator uses when the context names none: the application, as a valid repository. */
export function imageName(application: string): string {
  let name = application
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '')
    .slice(0, 63)
    .replace(/[._-]+$/, '');
  if (name.length < 2) name = `${name}c`.padStart(2, 'c');
  return name;
}

/** The first 12 hex digits of the SHA-256 of the Dockerfile: the same Dockerfile always names the same image. */
export const dockerfileDigest = (dockerfile: string) =>
  createHash('sha256').update(dockerfile).digest('hex').slice(0, 12);

/**
 * The immutable image reference `<registry>/<name>:<digest>`. The tag is derived from the content, so
 * a rebuild of the same Dockerfile reuses the pushed image and a new Dockerfile never overwrites an
 * image a later step is running. A `name` that already carries a tag or digest keeps only its repository.
 */
export function imageReference(registry: string, name: string, dockerfile: string): string {
  const repository = name.replace(/@sha256:[0-9a-f]+$/, '').replace(/:[\w][\w.-]{0,127}$/, '');
  const prefix = registry.replace(/\/+$/, '');
  const withRegistry =
    prefix && !repository.startsWith(`${prefix}/`) ? `${prefix}/${repository}` : repository;
  return `${withRegistry}:${dockerfileDigest(dockerfile)}`;
}

/** A bare Dockerfile: after comments and ARG lines, the first instruction is FROM. */
const looksLikeDockerfile = (text: string) =>
  firstMeaningfulLine(text, /^FROM\s/i, (line) => /^ARG\s/i.test(line));

/**
 * The Dockerfile in a model answer, checked: the ```dockerfile block (or the bare answer when it is a
 * Dockerfile), held to checkDockerfile. A refusal's explanation is the error of the attempt.
 */
export function readDockerfileAnswer(answer: string): DockerfileCheck {
  const extracted = extractCodeBlock(answer, 'dockerfile', looksLikeDockerfile);
  if (!extracted.ok)
    return { ok: false, problems: [{ line: 1, message: extracted.error }], explanation: extracted.error };
  return checkDockerfile(extracted.text);
}
