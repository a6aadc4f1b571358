/**
 * The behaviours file decides what the simulated cluster's workloads do: which images can be pulled,
 * how a Kaniko build ends for a given Dockerfile, and how a container's process ends for a given
 * image and command. Restarts, back-offs and phases are not described here: the simulated kubelet
 * derives them from the pod's restartPolicy, as a real kubelet does.
 */
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

const podRuleSchema = z.strictObject({
  /** image: regex searched in the container image. */
  image: pattern.optional(),
  /** command: regex searched in the container's command and args joined by spaces. */
  command: pattern.optional(),
  outcome: z.enum(podOutcomes),
  /** exitCode: defaults to 0 for Succeeded, 137 for OOMKilled and 1 otherwise. */
  exitCode: z.number().int().min(0).max(255).optional(),
  log: z.string().default(''),
  /** runSeconds: simulated seconds between start and exit (Hang ignores it). */
  runSeconds: z.number().nonnegative().optional(),
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
}

/** What a container does when no rule matches: it prints nothing and exits 0 at once. */
export const defaultProcessRun: ProcessRun = { outcome: 'Succeeded', exitCode: 0, log: '', runSeconds: 1 };

export function processRun(rule: PodRule | undefined): ProcessRun {
  if (!rule) return defaultProcessRun;
  const exitCode =
    rule.exitCode ?? (rule.outcome === 'Succeeded' ? 0 : rule.outcome === 'OOMKilled' ? 137 : 1);
  const runSeconds =
    rule.runSeconds ?? (rule.outcome === 'CrashLoopBackOff' ? 0 : rule.outcome === 'OOMKilled' ? 1 : 2);
  return { outcome: rule.outcome, exitCode, log: rule.log, runSeconds };
}
