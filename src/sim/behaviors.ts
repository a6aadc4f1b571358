/**
 * The behaviours file decides what the simulated cluster's workloads do: which images can be pulled,
 * how a Kaniko build ends for a given Dockerfile, and how a container's process ends for a given
 * image and command. Restarts, back-offs and phases are not described here: the simulated kubelet
 * derives them from the pod's restartPolicy, as a real kubelet does. A pod rule may carry a
 * performance model: the run's seconds and the figures its log prints then follow the container's
 * command line, environment and CPUs (performanceRun), with noise drawn from the pod's name.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';

const pattern = z.string().refine(
  (source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid regular expression' },
);

export const podOutcomes = ['Succeeded', 'Failed', 'CrashLoopBackOff', 'OOMKilled', 'Hang'] as const;
export type PodOutcome = (typeof podOutcomes)[number];

const buildRuleSchema = z.strictObject({
  /** match: regex searched in the Dockerfile text; a rule without it matches every Dockerfile. */
  match: pattern.optional(),
  outcome: z.enum(['Succeeded', 'Failed']),
  /** log: printed by the RUN step that runs (on failure: the step that fails). */
  log: z.string().default(''),
  /** step: regex on RUN instructions; the first matching one is the failing step (default: the last RUN). */
  step: pattern.optional(),
  /** runSeconds: how long an uncached build takes in simulated seconds (cached RUN layers take 2 % of their share). */
  runSeconds: z.number().nonnegative().default(3),
});

// ---------------------------------------------------------------------------------------------------
// Performance models: how long a run takes and the figures its log prints, from the container's
// command line, environment and CPUs. Expressions are a tiny arithmetic language, never eval.

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_EXPRESSION = 500;

/** The values every performance model has; a model's variables and figures take other names. */
export const performanceNames = ['cores', 'ranks', 'threads', 'procs', 'work', 'seconds'] as const;

type ExpressionNode =
  | { kind: 'number'; value: number }
  | { kind: 'name'; name: string }
  | { kind: 'negate'; operand: ExpressionNode }
  | { kind: 'call'; name: 'min' | 'max'; args: ExpressionNode[] }
  | { kind: 'binary'; operator: string; left: ExpressionNode; right: ExpressionNode };

/**
 * An arithmetic expression: numbers, names, + - * / ( ), min(a, b, ...) and max(a, b, ...), and
 * at most one comparison (== != < <= > >=: 1 when it holds, else 0).
 */
export interface Expression {
  readonly source: string;
  /** The names it reads, in order of first use. */
  readonly names: readonly string[];
  evaluate(values: Readonly<Record<string, number>>): number;
}

const tokenPattern =
  /\s*(?:((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|[-+*/()<>,]))/y;

/** Parses an expression; throws an Error saying what is wrong and where. */
export function compileExpression(input: string | number): Expression {
  const source = String(input);
  if (source.length > MAX_EXPRESSION) throw new Error(`longer than ${MAX_EXPRESSION} characters`);
  const tokens: { text: string; type: 'number' | 'name' | 'operator'; at: number }[] = [];
  tokenPattern.lastIndex = 0;
  while (tokenPattern.lastIndex < source.length) {
    const at = tokenPattern.lastIndex;
    if (/^\s*$/.test(source.slice(at))) break;
    const match = tokenPattern.exec(source);
    if (!match) {
      const offset = at + (source.slice(at).length - source.slice(at).trimStart().length);
      throw new Error(`unexpected "${source[offset]}" at character ${offset + 1} of "${source}"`);
    }
    const type = match[1] !== undefined ? 'number' : match[2] !== undefined ? 'name' : 'operator';
    tokens.push({ text: (match[1] ?? match[2] ?? match[3]) as string, type, at });
  }
  let position = 0;
  const names: string[] = [];
  const fail = (what: string): never => {
    const token = tokens[position];
    throw new Error(`${what} ${token ? `at "${token.text}"` : 'at the end'} of "${source}"`);
  };
  const primary = (): ExpressionNode => {
    const token = tokens[position];
    if (!token) return fail('a number, name or "(" expected');
    if (token.type === 'number') {
      position++;
      return { kind: 'number', value: Number(token.text) };
    }
    if (token.type === 'name' && tokens[position + 1]?.text === '(') {
      if (token.text !== 'min' && token.text !== 'max') fail('no function but min and max');
      position += 2;
      const args = [comparison()];
      while (tokens[position]?.text === ',') {
        position++;
        args.push(comparison());
      }
      if (tokens[position]?.text !== ')') fail('")" expected');
      position++;
      return { kind: 'call', name: token.text as 'min' | 'max', args };
    }
    if (token.type === 'name') {
      position++;
      if (!names.includes(token.text)) names.push(token.text);
      return { kind: 'name', name: token.text };
    }
    if (token.text === '(') {
      position++;
      const inner = comparison();
      if (tokens[position]?.text !== ')') fail('")" expected');
      position++;
      return inner;
    }
    if (token.text === '-') {
      position++;
      return { kind: 'negate', operand: primary() };
    }
    return fail('a number, name or "(" expected');
  };
  const chain = (operand: () => ExpressionNode, operators: readonly string[]) => (): ExpressionNode => {
    let left = operand();
    for (;;) {
      const token = tokens[position];
      if (token?.type !== 'operator' || !operators.includes(token.text)) return left;
      position++;
      left = { kind: 'binary', operator: token.text, left, right: operand() };
    }
  };
  const product = chain(primary, ['*', '/']);
  const sum = chain(product, ['+', '-']);
  const comparison = (): ExpressionNode => {
    const left = sum();
    const token = tokens[position];
    if (!token || !['==', '!=', '<', '<=', '>', '>='].includes(token.text)) return left;
    position++;
    return { kind: 'binary', operator: token.text, left, right: sum() };
  };
  if (tokens.length === 0) throw new Error('an empty expression');
  const root = comparison();
  if (position < tokens.length) fail('an operator expected');
  const evaluate = (node: ExpressionNode, values: Readonly<Record<string, number>>): number => {
    switch (node.kind) {
      case 'number':
        return node.value;
      case 'name': {
        const value = values[node.name];
        if (value === undefined) throw new Error(`"${node.name}" has no value here`);
        return value;
      }
      case 'negate':
        return -evaluate(node.operand, values);
      case 'call': {
        const args = node.args.map((arg) => evaluate(arg, values));
        return node.name === 'min' ? Math.min(...args) : Math.max(...args);
      }
      case 'binary': {
        const left = evaluate(node.left, values);
        const right = evaluate(node.right, values);
        switch (node.operator) {
          case '+':
            return left + right;
          case '-':
            return left - right;
          case '*':
            return left * right;
          case '/':
            return left / right;
          case '==':
            return Number(Math.abs(left - right) <= 1e-9 * Math.max(1, Math.abs(left), Math.abs(right)));
          case '!=':
            return Number(Math.abs(left - right) > 1e-9 * Math.max(1, Math.abs(left), Math.abs(right)));
          case '<':
            return Number(left < right);
          case '<=':
            return Number(left <= right);
          case '>':
            return Number(left > right);
          default:
            return Number(left >= right);
        }
      }
    }
  };
  return { source, names, evaluate: (values) => evaluate(root, values) };
}

const expression = z.union([z.number(), z.string()]).superRefine((value, ctx) => {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    ctx.addIssue({ code: 'custom', message: 'not a finite number' });
    return;
  }
  try {
    compileExpression(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not an expression: ${(error as Error).message}` });
  }
});

/** The capturing groups of a regular expression. */
function captureGroups(source: string): number {
  try {
    return (new RegExp(`${source}|`).exec('')?.length ?? 1) - 1;
  } catch {
    return 0; // not a regular expression: `pattern` says so
  }
}

/** Where a number comes from: the command line, else an environment variable, else a default. */
const sourceSchema = z.strictObject({
  /**
   * match: regex searched in the command line; its one capturing group is the number (write (?:...)
   * for other groups); without a group, 1 when found.
   */
  match: pattern
    .refine((source) => captureGroups(source) <= 1, {
      message: 'more than one capturing group: keep one for the number, write (?:...) for the others',
    })
    .optional(),
  /** env: an environment variable of the container, read as a number. */
  env: z.string().regex(envName, 'not an environment variable name').optional(),
  /** default: a number or expression used when neither gives a number. */
  default: expression.optional(),
});

const templateFormat = /^(?:\.\d{1,2}[feg]|d|hms)$/;
type TemplatePiece = string | { name: string; format: string };

/**
 * A log template: `{name}` prints a value with 6 significant digits (C's %g), `{name:.3f}` fixed,
 * `{name:.6e}` with an exponent (C's %e), `{name:.4g}` with 4 significant digits, `{name:d}` rounded
 * to an integer, `{name:hms}` seconds as H:MM:SS. `{{` prints `{`; other braces print as they are.
 */
export function parseTemplate(text: string): TemplatePiece[] {
  const pieces: TemplatePiece[] = [];
  const placeholder = /\{\{|\{([A-Za-z_][A-Za-z0-9_]*)(?::([^{}\n]*))?\}/g;
  let last = 0;
  for (const match of text.matchAll(placeholder)) {
    pieces.push(text.slice(last, match.index));
    last = match.index + match[0].length;
    if (match[0] === '{{') {
      pieces.push('{');
      continue;
    }
    const format = match[2] ?? '';
    if (format !== '' && !templateFormat.test(format))
      throw new Error(`{${match[1]}:${format}}: the format is not one of .Nf, .Ne, .Ng, d, hms`);
    pieces.push({ name: match[1] as string, format });
  }
  pieces.push(text.slice(last));
  return pieces.filter((piece) => piece !== '');
}

function templateNames(text: string): string[] {
  return parseTemplate(text).flatMap((piece) => (typeof piece === 'string' ? [] : [piece.name]));
}

/** C's %e: at least two exponent digits. */
function formatExponent(value: number, digits: number): string {
  return value.toExponential(digits).replace(/e([+-])(\d)$/, 'e$10$2');
}

/** C's %g with `precision` significant digits: trailing zeros dropped, an exponent for very large or small values. */
function formatSignificant(value: number, precision: number): string {
  if (value === 0) return '0';
  const digits = Math.max(1, precision);
  const exponent = Number(value.toExponential(digits - 1).split('e')[1]);
  if (exponent < -4 || exponent >= digits) {
    return formatExponent(value, digits - 1).replace(/\.?0+e/, 'e');
  }
  const fixed = value.toFixed(Math.max(0, digits - 1 - exponent));
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** A value as a template prints it (see parseTemplate). */
export function formatValue(value: number, format = ''): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (format === 'd') return String(Math.round(value));
  if (format === 'hms') {
    const total = Math.max(0, Math.floor(value));
    const pad = (part: number) => String(part).padStart(2, '0');
    return `${Math.floor(total / 3600)}:${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}`;
  }
  const precision = /^\.(\d+)([feg])$/.exec(format);
  if (!precision) return formatSignificant(value, 6);
  const digits = Number(precision[1]);
  if (precision[2] === 'f') return value.toFixed(digits);
  if (precision[2] === 'e') return formatExponent(value, digits);
  return formatSignificant(value, digits);
}

/** A template with its placeholders replaced. */
export function renderTemplate(text: string, values: Readonly<Record<string, number>>): string {
  return parseTemplate(text)
    .map((piece) => {
      if (typeof piece === 'string') return piece;
      const value = values[piece.name];
      return value === undefined ? `{${piece.name}}` : formatValue(value, piece.format);
    })
    .join('');
}

/**
 * A performance model. Its values, in the order they are computed (each expression may use the
 * values before it): cores (what the container may use: its CPU limit, else its request, else its
 * node's CPUs; under Flux, per broker times brokers), ranks, threads, procs (ranks × threads), the
 * variables in order, work, seconds, the figures in order. The rule's log prints any of them
 * (parseTemplate); the formula is performanceRun's.
 */
const performanceSchema = z
  .strictObject({
    /**
     * work: the run's seconds on one core with one rank, one thread and no bonus; a number or an
     * expression of cores, ranks, threads, procs and the variables (a weak-scaling program's work
     * grows with its ranks).
     */
    work: expression,
    /**
     * ranks: MPI ranks, e.g. {match: "mpirun\\b.*?\\s-np\\s+(\\d+)"}; when none is found, the
     * launcher's: 1 in a pod, the MiniCluster's tasks under Flux. Its default may use cores.
     */
    ranks: sourceSchema.optional(),
    /**
     * threads: threads per rank, e.g. {match: "-pk\\s+omp\\s+(\\d+)", env: OMP_NUM_THREADS}; 1 when
     * none is found. Its default may use cores and ranks.
     */
    threads: sourceSchema.optional(),
    /**
     * threadEfficiency: what each thread beyond a rank's first is worth next to a rank (default 1);
     * 0: the threads do nothing (no threaded code) and take no core.
     */
    threadEfficiency: z.number().min(0).max(1).default(1),
    /** serialFraction: Amdahl's serial part s: speedup(n) = 1 / (s + (1 - s) / n). */
    serialFraction: z.number().min(0).max(1).optional(),
    /**
     * parallelEfficiency: the efficiency ε kept per doubling: speedup(n) = n × ε^log2(n). With
     * neither this nor serialFraction, speedup(n) = n.
     */
    parallelEfficiency: z.number().gt(0).max(1).optional(),
    /**
     * oversubscribePenalty: p busy processes on c < p cores share the c cores and, on top, run
     * (1 + penalty × (p / c - 1)) times slower (default 1; 0: sharing costs nothing more).
     */
    oversubscribePenalty: z.number().nonnegative().default(1),
    /**
     * bonuses: each `match` (a regex) found in the command line or in one environment entry
     * NAME=VALUE makes the run `factor` times faster (below 1: slower); the factors multiply.
     */
    bonuses: z.array(z.strictObject({ match: pattern, factor: z.number().positive() })).default([]),
    /**
     * noise: the relative standard deviation of the run's seconds (at most 0.3): seconds × (1 +
     * noise × z), z a standard normal drawn from sha256 of the pod's namespace, name and container
     * (noiseSample), kept within ±3: each pod of a Job differs, the same pod is the same every time.
     */
    noise: z.number().min(0).max(0.3).default(0),
    /**
     * variables: more numbers by name, read like ranks (the command line, else the environment,
     * else `default`, else 0), in order: each default may use cores, ranks, threads, procs and the
     * variables before it.
     */
    variables: z.record(z.string(), sourceSchema).default({}),
    /**
     * aborts: checks made before the run, in order: the first whose `when` expression is not 0
     * ends the run as Failed with its exitCode (default 1) and log (a template of the values up to
     * the variables) after runSeconds (default 1).
     */
    aborts: z
      .array(
        z.strictObject({
          when: expression,
          exitCode: z.number().int().min(1).max(255).default(1),
          log: z.string().default(''),
          runSeconds: z.number().nonnegative().default(1),
        }),
      )
      .default([]),
    /**
     * figures: named expressions of every value above plus work, seconds and the figures before
     * them, e.g. {timesteps_s: "100 / seconds"}, for the log to print.
     */
    figures: z.record(z.string(), expression).default({}),
  })
  .superRefine((model, ctx) => {
    if (model.serialFraction !== undefined && model.parallelEfficiency !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['parallelEfficiency'],
        message: 'give serialFraction or parallelEfficiency, not both',
      });
    }
    const taken = new Set<string>(performanceNames);
    const declare = (name: string, path: PropertyKey[]) => {
      if (!identifier.test(name)) {
        ctx.addIssue({ code: 'custom', path, message: `"${name}" is not a name (letters, digits, _)` });
      } else if (taken.has(name)) {
        ctx.addIssue({ code: 'custom', path, message: `"${name}" is already a name here` });
      }
      taken.add(name);
    };
    const known = (names: readonly string[], value: string | number | undefined, path: PropertyKey[]) => {
      if (value === undefined) return;
      let compiled: Expression;
      try {
        compiled = compileExpression(value);
      } catch {
        return; // the field's own check reports it
      }
      for (const name of compiled.names) {
        if (!names.includes(name))
          ctx.addIssue({
            code: 'custom',
            path,
            message: `unknown name "${name}": the names here are ${names.join(', ') || '(none)'}`,
          });
      }
    };
    known(['cores'], model.ranks?.default, ['ranks', 'default']);
    known(['cores', 'ranks'], model.threads?.default, ['threads', 'default']);
    const base = ['cores', 'ranks', 'threads', 'procs'];
    for (const [name, source] of Object.entries(model.variables)) {
      known(base, source.default, ['variables', name, 'default']);
      declare(name, ['variables', name]);
      base.push(name);
    }
    model.aborts.forEach((abort, index) => {
      known(base, abort.when, ['aborts', index, 'when']);
      checkTemplate(ctx, abort.log, base, ['aborts', index, 'log']);
    });
    known(base, model.work, ['work']);
    const all = [...base, 'work', 'seconds'];
    for (const [name, figure] of Object.entries(model.figures)) {
      known(all, figure, ['figures', name]);
      declare(name, ['figures', name]);
      all.push(name);
    }
  });

function checkTemplate(
  ctx: z.RefinementCtx,
  text: string,
  names: readonly string[],
  path: PropertyKey[],
): void {
  let used: string[];
  try {
    used = templateNames(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', path, message: (error as Error).message });
    return;
  }
  for (const name of new Set(used)) {
    if (!names.includes(name))
      ctx.addIssue({
        code: 'custom',
        path,
        message: `unknown name {${name}} in the log: the names are ${names.join(', ')} (write {{ for a brace)`,
      });
  }
}

/** The names a performance rule's log may print. */
export function performanceTemplateNames(model: PerformanceModel): string[] {
  return [
    'cores',
    'ranks',
    'threads',
    'procs',
    ...Object.keys(model.variables),
    'work',
    'seconds',
    ...Object.keys(model.figures),
  ];
}

export type PerformanceModel = z.infer<typeof performanceSchema>;

const podRuleSchema = z
  .strictObject({
    /** image: regex searched in the container image. */
    image: pattern.optional(),
    /** command: regex searched in the container's command and args joined by spaces. */
    command: pattern.optional(),
    outcome: z.enum(podOutcomes),
    /** exitCode: defaults to 0 for Succeeded, 137 for OOMKilled and 1 otherwise. */
    exitCode: z.number().int().min(0).max(255).optional(),
    /** log: printed over the run; with a performance model, a template of its values (see parseTemplate). */
    log: z.string().default(''),
    /** runSeconds: simulated seconds between start and exit (Hang ignores it); a performance model computes them instead. */
    runSeconds: z.number().nonnegative().optional(),
    /**
     * performance: how long the run takes and what its log prints, from the container's command
     * line, environment and CPUs (see performanceRun).
     */
    performance: performanceSchema.optional(),
  })
  .superRefine((rule, ctx) => {
    if (!rule.performance) return;
    if (rule.runSeconds !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['runSeconds'],
        message: 'a rule with a performance model takes its seconds from the model: drop runSeconds',
      });
    }
    checkTemplate(ctx, rule.log, performanceTemplateNames(rule.performance), ['log']);
  });

export const behaviorsSchema = z.strictObject({
  /** pullable: regexes matched against the whole image reference, as written and normalised. */
  pullable: z.array(pattern).default([]),
  /** kanikoImage: regex on the image repository that marks a Kaniko executor container. */
  kanikoImage: pattern.default('(kaniko|executor)$'),
  /** pullSeconds: simulated seconds an image pull takes. */
  pullSeconds: z.number().nonnegative().default(2),
  builds: z.array(buildRuleSchema).default([]),
  pods: z.array(podRuleSchema).default([]),
});

export type Behaviors = z.infer<typeof behaviorsSchema>;
export type BehaviorsInput = z.input<typeof behaviorsSchema>;
export type BuildRule = z.infer<typeof buildRuleSchema>;
export type PodRule = z.infer<typeof podRuleSchema>;

export interface BehaviorsIssue {
  /** 1-based line in the file, when the issue can be placed. */
  line?: number;
  /** The field's path, such as `pods[1].outcome`. */
  field: string;
  message: string;
}

/** A behaviours file that cannot be used; the message names each bad field and its line. */
export class BehaviorsError extends Error {
  readonly source: string;
  readonly issues: BehaviorsIssue[];
  constructor(source: string, issues: BehaviorsIssue[]) {
    super(
      `Invalid behaviours file ${source}:\n` +
        issues
          .map(
            (issue) => `  ${source}${issue.line ? `:${issue.line}` : ''}: ${issue.field}: ${issue.message}`,
          )
          .join('\n'),
    );
    this.name = 'BehaviorsError';
    this.source = source;
    this.issues = issues;
  }
}

/** A zod issue path as people write it: `pods[1].outcome`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text ? `.${String(key)}` : String(key);
  }
  return text || '(root)';
}

/** Parses and validates behaviours YAML; `source` names the file in errors. */
export function parseBehaviors(text: string, source = 'behaviors.yaml'): Behaviors {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  if (document.errors.length > 0) {
    throw new BehaviorsError(
      source,
      document.errors.map((error) => ({
        line: error.linePos?.[0].line,
        field: '(yaml)',
        message: error.message.split('\n')[0] ?? error.message,
      })),
    );
  }
  const data: unknown = document.toJS() ?? {};
  const result = behaviorsSchema.safeParse(data);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue): BehaviorsIssue => {
    // A missing field has no node: place it at the closest enclosing node that exists.
    let line: number | undefined;
    for (let depth = issue.path.length; depth >= 0 && line === undefined; depth--) {
      const node = depth === 0 ? document.contents : document.getIn(issue.path.slice(0, depth), true);
      if (isNode(node) && node.range) line = lineCounter.linePos(node.range[0]).line;
    }
    return { line, field: fieldPath(issue.path), message: issue.message };
  });
  throw new BehaviorsError(source, issues);
}

/** Reads a behaviours file from disk. */
export function loadBehaviors(path: string): Behaviors {
  return parseBehaviors(readFileSync(path, 'utf8'), path);
}

/** The behaviours file the project ships (`behaviors/default.yaml`). */
export const defaultBehaviorsPath = fileURLToPath(new URL('../../behaviors/default.yaml', import.meta.url));

export function loadDefaultBehaviors(): Behaviors {
  return loadBehaviors(defaultBehaviorsPath);
}

/** Validates behaviours given as data (for tests and embedders). */
export function behaviors(input: BehaviorsInput): Behaviors {
  const result = behaviorsSchema.safeParse(input);
  if (!result.success) {
    throw new BehaviorsError(
      '(inline)',
      result.error.issues.map((issue) => ({ field: fieldPath(issue.path), message: issue.message })),
    );
  }
  return result.data;
}

/** The first build rule whose `match` is found in the Dockerfile. */
export function matchBuildRule(rules: Behaviors, dockerfile: string): BuildRule | undefined {
  return rules.builds.find((rule) => rule.match === undefined || new RegExp(rule.match).test(dockerfile));
}

export interface ContainerProcess {
  image: string;
  command?: readonly string[];
  args?: readonly string[];
}

/** The first pod rule whose given matchers all match the container. */
export function matchPodRule(rules: Behaviors, container: ContainerProcess): PodRule | undefined {
  const commandLine = [...(container.command ?? []), ...(container.args ?? [])].join(' ');
  return rules.pods.find(
    (rule) =>
      (rule.image === undefined || new RegExp(rule.image).test(container.image)) &&
      (rule.command === undefined || new RegExp(rule.command).test(commandLine)),
  );
}

/** What one run of a container's process does. */
export interface ProcessRun {
  outcome: PodOutcome;
  exitCode: number;
  log: string;
  runSeconds: number;
  /** With a performance model: every value it computed (cores, ranks, ..., seconds, the figures). */
  values?: Readonly<Record<string, number>>;
}

/** What a container does when no rule matches: it prints nothing and exits 0 at once. */
export const defaultProcessRun: ProcessRun = { outcome: 'Succeeded', exitCode: 0, log: '', runSeconds: 1 };

/** What a performance model reads of the container that runs. */
export interface Workload {
  /** The container's command and args joined by spaces, as pod rules match them. */
  commandLine: string;
  /** The container's environment variables that have a value. */
  env: Readonly<Record<string, string>>;
  /** The CPUs the run may use: its CPU limit, else its request, else its node's CPUs (under Flux: per broker times brokers). */
  cores: number;
  /** The ranks the launcher starts when the model's `ranks` finds none: 1 in a pod, the MiniCluster's tasks under Flux. */
  tasks: number;
  /** Seeds the noise: the pod's name and the container's, so each repetition of a Job (a new pod) differs. */
  seed: string;
}

const noWorkload: Workload = { commandLine: '', env: {}, cores: 1, tasks: 1, seed: '' };

/** A standard normal sample drawn from sha256(seed) (Box–Muller), kept within ±3. */
export function noiseSample(seed: string): number {
  const digest = createHash('sha256').update(seed).digest();
  const u1 = (digest.readUInt32BE(0) + 1) / 4294967297;
  const u2 = digest.readUInt32BE(4) / 4294967296;
  const sample = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.max(-3, Math.min(3, sample));
}

type Source = z.infer<typeof sourceSchema>;

function readSource(
  source: Source | undefined,
  workload: Workload,
  values: Readonly<Record<string, number>>,
  fallback: number,
): number {
  if (source?.match !== undefined) {
    const found = new RegExp(source.match).exec(workload.commandLine);
    if (found && found.length === 1) return 1;
    const text = found?.[1]?.trim();
    if (text && Number.isFinite(Number(text))) return Number(text);
  }
  if (source?.env !== undefined) {
    const text = workload.env[source.env]?.trim();
    if (text && Number.isFinite(Number(text))) return Number(text);
  }
  if (source?.default !== undefined) return compileExpression(source.default).evaluate(values);
  return fallback;
}

function speedup(model: PerformanceModel, workers: number): number {
  if (workers <= 1) return workers;
  if (model.serialFraction !== undefined)
    return 1 / (model.serialFraction + (1 - model.serialFraction) / workers);
  if (model.parallelEfficiency !== undefined) return workers * model.parallelEfficiency ** Math.log2(workers);
  return workers;
}

/** What a performance model makes of one run. */
export interface PerformanceRun {
  /** The run's simulated seconds. */
  seconds: number;
  values: Record<string, number>;
  /** The abort that ends the run instead, when one applies. */
  abort?: PerformanceModel['aborts'][number];
}

/**
 * One run under a performance model. With r ranks, t threads per rank, c cores, threadEfficiency
 * e, oversubscribePenalty k, the bonuses' product B and noise σ:
 *   workers  n = r × (1 + e × (t − 1))
 *   occupied p = r × t (r alone when e = 0: idle threads take no core)
 *   share      = min(1, c / p)
 *   contention = 1 + k × max(0, p / max(1, c) − 1)
 *   seconds    = work × contention × (1 + σ × z) / (speedup(n × share) × B)
 * where speedup(x) = x for x ≤ 1, else Amdahl's 1 / (s + (1 − s) / x) with serialFraction s, or
 * x × ε^log2(x) with parallelEfficiency ε, or x; z is noiseSample(workload.seed). The first abort
 * whose `when` holds ends the run before any of this.
 */
export function performanceRun(model: PerformanceModel, workload: Workload = noWorkload): PerformanceRun {
  const cores = workload.cores > 0 && Number.isFinite(workload.cores) ? workload.cores : 1;
  const count = (value: number) => (Number.isFinite(value) ? Math.max(1, Math.round(value)) : 1);
  const values: Record<string, number> = { cores };
  values['ranks'] = count(readSource(model.ranks, workload, values, workload.tasks));
  values['threads'] = count(readSource(model.threads, workload, values, 1));
  const ranks = values['ranks'];
  const threads = values['threads'];
  values['procs'] = ranks * threads;
  for (const [name, source] of Object.entries(model.variables))
    values[name] = readSource(source, workload, values, 0);
  for (const abort of model.aborts) {
    const verdict = compileExpression(abort.when).evaluate(values);
    if (verdict !== 0 && !Number.isNaN(verdict)) return { seconds: abort.runSeconds, values, abort };
  }
  const work = compileExpression(model.work).evaluate(values);
  const workers = ranks * (1 + model.threadEfficiency * (threads - 1));
  const occupied = model.threadEfficiency > 0 ? ranks * threads : ranks;
  const share = Math.min(1, cores / occupied);
  const contention = 1 + model.oversubscribePenalty * Math.max(0, occupied / Math.max(1, cores) - 1);
  const entries = Object.entries(workload.env).map(([name, value]) => `${name}=${value}`);
  let bonus = 1;
  for (const { match, factor } of model.bonuses) {
    const regex = new RegExp(match);
    if (regex.test(workload.commandLine) || entries.some((entry) => regex.test(entry))) bonus *= factor;
  }
  const noise = 1 + model.noise * noiseSample(workload.seed);
  const seconds = (work * contention * noise) / (speedup(model, workers * share) * bonus);
  values['work'] = work;
  values['seconds'] = Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
  for (const [name, figure] of Object.entries(model.figures))
    values[name] = compileExpression(figure).evaluate(values);
  return { seconds: values['seconds'], values };
}

/** What one run of the process under `rule` does; a performance model reads the workload. */
export function processRun(rule: PodRule | undefined, workload: Workload = noWorkload): ProcessRun {
  if (!rule) return defaultProcessRun;
  const exitCode =
    rule.exitCode ?? (rule.outcome === 'Succeeded' ? 0 : rule.outcome === 'OOMKilled' ? 137 : 1);
  if (!rule.performance) {
    const runSeconds =
      rule.runSeconds ?? (rule.outcome === 'CrashLoopBackOff' ? 0 : rule.outcome === 'OOMKilled' ? 1 : 2);
    return { outcome: rule.outcome, exitCode, log: rule.log, runSeconds };
  }
  const run = performanceRun(rule.performance, workload);
  const ending = run.abort
    ? { outcome: 'Failed' as const, exitCode: run.abort.exitCode, log: run.abort.log }
    : { outcome: rule.outcome, exitCode, log: rule.log };
  return {
    ...ending,
    log: renderTemplate(ending.log, run.values),
    runSeconds: run.seconds,
    values: run.values,
  };
}
