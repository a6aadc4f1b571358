// The checker for a generated Flux batch script. It follows flux-batch(1) and RFC 36 (submission
// directives): a shebang, then a group of directives with one sentinel (`#FLUX:`, `# flux:`, ...),
// then the commands. Options are flux batch's own; note that flux batch counts slots
// (-n/--nslots, -c/--cores-per-slot, -g/--gpus-per-slot), where flux run counts tasks.
import { extractCodeBlock, listWithin, quoted } from '../parse.ts';

export interface Directive {
  line: number;
  option: string;
  value?: string;
}

export interface ScriptProblem {
  line: number;
  message: string;
}

export type FluxBatchCheck =
  | { ok: true; script: string; directives: Directive[] }
  | { ok: false; problems: ScriptProblem[]; explanation: string };

interface OptionSpec {
  long: string;
  takesValue: boolean;
  check?: (value: string) => string | undefined;
}

const positiveInt = (value: string) =>
  /^[1-9]\d*$/.test(value) ? undefined : `must be a positive whole number, not "${value}"`;
const duration = (value: string) =>
  /^(\d+(\.\d+)?|\.\d+)[smhd]?$/.test(value) && Number.parseFloat(value) > 0
    ? undefined
    : `must be minutes or a duration such as 30m or 2h, not "${value}"`;
const anything = () => undefined;

/** The options of flux batch (flux-core's man page), by long name, with their short aliases. */
const OPTIONS: Record<string, OptionSpec> = {
  nslots: { long: 'nslots', takesValue: true, check: positiveInt },
  'cores-per-slot': { long: 'cores-per-slot', takesValue: true, check: positiveInt },
  'gpus-per-slot': { long: 'gpus-per-slot', takesValue: true, check: positiveInt },
  nodes: { long: 'nodes', takesValue: true, check: positiveInt },
  exclusive: { long: 'exclusive', takesValue: false },
  queue: { long: 'queue', takesValue: true, check: anything },
  'time-limit': { long: 'time-limit', takesValue: true, check: duration },
  'job-name': { long: 'job-name', takesValue: true, check: anything },
  output: { long: 'output', takesValue: true, check: anything },
  error: { long: 'error', takesValue: true, check: anything },
  input: { long: 'input', takesValue: true, check: anything },
  cwd: { long: 'cwd', takesValue: true, check: anything },
  urgency: { long: 'urgency', takesValue: true, check: anything },
  setopt: { long: 'setopt', takesValue: true, check: anything },
  setattr: { long: 'setattr', takesValue: true, check: anything },
  env: { long: 'env', takesValue: true, check: anything },
  'env-remove': { long: 'env-remove', takesValue: true, check: anything },
  'env-file': { long: 'env-file', takesValue: true, check: anything },
  requires: { long: 'requires', takesValue: true, check: anything },
  dependency: { long: 'dependency', takesValue: true, check: anything },
  'begin-time': { long: 'begin-time', takesValue: true, check: anything },
  signal: { long: 'signal', takesValue: true, check: anything },
  flags: { long: 'flags', takesValue: true, check: anything },
  conf: { long: 'conf', takesValue: true, check: anything },
  'broker-opts': { long: 'broker-opts', takesValue: true, check: anything },
  'add-file': { long: 'add-file', takesValue: true, check: anything },
  rlimit: { long: 'rlimit', takesValue: true, check: anything },
  unbuffered: { long: 'unbuffered', takesValue: false },
  'label-io': { long: 'label-io', takesValue: false },
  verbose: { long: 'verbose', takesValue: false },
};

const SHORT: Record<string, string> = {
  n: 'nslots',
  c: 'cores-per-slot',
  g: 'gpus-per-slot',
  N: 'nodes',
  x: 'exclusive',
  q: 'queue',
  t: 'time-limit',
  o: 'setopt',
  S: 'setattr',
  B: 'broker-opts',
  u: 'unbuffered',
  l: 'label-io',
  v: 'verbose',
};

/** Options of flux run/submit that models write in batch directives; flux batch rejects them. */
const RUN_ONLY: Record<string, string> = {
  ntasks: '-n/--nslots',
  'cores-per-task': '-c/--cores-per-slot',
  'gpus-per-task': '-g/--gpus-per-slot',
  'tasks-per-node': '-n/--nslots with -N/--nodes',
  time: '-t/--time-limit',
};

const SENTINEL = /^([^A-Za-z0-9\s]*\s*)(flux|FLUX):/;

/** Splits a directive's text like a shell would (quotes, escapes), dropping a trailing # comment. */
export function splitDirective(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (ch === '#' && !inWord) {
      break;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function parseOptions(words: string[], line: number, problems: ScriptProblem[]): Directive[] {
  const out: Directive[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    let name: string | undefined;
    let value: string | undefined;
    let spelled: string;
    const long = /^--([^=]+)(?:=(.*))?$/s.exec(word);
    const short = /^-([A-Za-z])(.*)$/s.exec(word);
    if (long) {
      name = long[1]!;
      value = long[2];
      spelled = `--${name}`;
    } else if (short) {
      spelled = `-${short[1]}`;
      name = SHORT[short[1]!];
      if (!name) {
        problems.push({ line, message: `${spelled} is not a flux batch option` });
        continue;
      }
      value = short[2] ? short[2].replace(/^=/, '') : undefined;
    } else {
      problems.push({
        line,
        message: `${quoted(word)} is not an option; directives hold flux batch options only`,
      });
      continue;
    }
    const spec = OPTIONS[name];
    if (!spec) {
      const instead = RUN_ONLY[name];
      problems.push({
        line,
        message: instead
          ? `--${name} is a flux run option; flux batch uses ${instead}`
          : `--${name} is not a flux batch option`,
      });
      continue;
    }
    if (spec.takesValue && value === undefined) {
      const next = words[i + 1];
      if (next === undefined || next.startsWith('-')) {
        problems.push({ line, message: `${spelled} needs a value` });
        continue;
      }
      value = next;
      i++;
    }
    if (!spec.takesValue && value !== undefined && value !== '') {
      problems.push({ line, message: `${spelled} takes no value` });
      continue;
    }
    const error = spec.check && value !== undefined ? spec.check(value) : undefined;
    if (error) problems.push({ line, message: `${spelled} ${error}` });
    out.push(value === undefined ? { line, option: spec.long } : { line, option: spec.long, value });
  }
  return out;
}

/**
 * Checks a batch script: shebang first; then the directives, grouped, with one sentinel, holding known
 * flux batch options with valid values and asking for nodes or slots; then at least one command.
 */
export function checkFluxBatchScript(script: string): FluxBatchCheck {
  const text = script.replace(/\r\n?/g, '\n').trim();
  const lines = text.split('\n');
  const problems: ScriptProblem[] = [];
  const directives: Directive[] = [];
  if (!lines[0]?.startsWith('#!'))
    problems.push({ line: 1, message: 'the script must start with a shebang such as #!/bin/bash' });

  let sentinel: string | undefined;
  let firstCommand: number | undefined;
  let lastDirective: number | undefined;
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (index === 0 && raw.startsWith('#!')) return;
    const trimmed = raw.trim();
    if (trimmed === '') return;
    const match = SENTINEL.exec(trimmed);
    if (match) {
      const prefix = match[1]!.trim();
      const tag = `${prefix}${match[2]}:`;
      if (sentinel === undefined) sentinel = tag;
      else if (tag !== sentinel)
        problems.push({
          line,
          message: `directive sentinel ${quoted(tag)} differs from ${quoted(sentinel)}`,
        });
      if (firstCommand !== undefined) {
        problems.push({
          line,
          message: `directive after the command on line ${firstCommand}; all directives come first`,
        });
      }
      lastDirective = line;
      directives.push(...parseOptions(splitDirective(trimmed.slice(match[0].length)), line, problems));
      return;
    }
    if (/^#\s*(SBATCH|PBS|BSUB)\b|^#\$ /.test(trimmed)) {
      problems.push({
        line,
        message: `${quoted(trimmed.split(/\s/)[0]!)} is another scheduler's directive; use ${(sentinel ?? '#FLUX:').slice(0, 40)} instead`,
      });
      return;
    }
    if (trimmed.startsWith('#')) return;
    firstCommand ??= line;
  });

  if (directives.length === 0 && lastDirective === undefined) {
    problems.push({ line: 2, message: 'there are no #FLUX: directives after the shebang' });
  } else {
    const options = new Set(directives.map((d) => d.option));
    if (!options.has('nodes') && !options.has('nslots')) {
      problems.push({
        line: lastDirective ?? 2,
        message: 'the directives ask for neither -N/--nodes nor -n/--nslots',
      });
    }
    if (options.has('exclusive') && !options.has('nodes')) {
      problems.push({ line: lastDirective ?? 2, message: '--exclusive needs -N/--nodes' });
    }
  }
  if (firstCommand === undefined)
    problems.push({ line: lines.length, message: 'there is no command after the directives' });

  if (problems.length === 0) return { ok: true, script: text, directives };
  problems.sort((a, b) => a.line - b.line);
  return {
    ok: false,
    problems,
    explanation:
      `The batch script was refused: ${listWithin(
        problems.map((p) => `line ${p.line}: ${p.message}`),
        900,
      )}. ` +
      'Write #!/bin/bash first, then #FLUX: directives with flux batch options only (-N/--nodes, -n/--nslots, ' +
      '-c/--cores-per-slot, -g/--gpus-per-slot, -t/--time-limit, --job-name, --output, --error, -q/--queue, ' +
      '--exclusive), then the commands, launching parallel programs with flux run.',
  };
}

/** The batch script in a model answer (a ```bash or ```sh block, or the bare script), checked. */
export function readFluxBatchAnswer(answer: string): FluxBatchCheck {
  const extracted = extractCodeBlock(answer, 'bash', (text) => text.startsWith('#!'));
  if (!extracted.ok)
    return { ok: false, problems: [{ line: 1, message: extracted.error }], explanation: extracted.error };
  return checkFluxBatchScript(extracted.text);
}
