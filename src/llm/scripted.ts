// A model that answers from a YAML script: for tests, the demo and reproducible experiments.
//
//   responses:              # the first unused entry whose matchers all match answers, and is used up
//     - agent: build        # optional; one of MODEL_AGENTS
//       match: "LAMMPS"     # optional regular expression, searched for in the prompt
//       text: |
//         ```dockerfile
//         FROM ubuntu:24.04
//         ```
//
// With `reuse: true` at the top level, entries are never used up: each call is answered by the first
// entry whose agent and `match` fit, so one script serves any number of plans (put the entries with
// the most specific `match` first). The demo's script does this.
//
// An entry may give `choices` instead of `text` (exactly one of the two), for answers that vary the
// way a real model's do while staying reproducible:
//
//     - agent: build
//       choices:
//         - text: "...forgets a package..."
//           weight: 3           # optional, > 0, default 1
//         - text: "...gets it right..."
//
// The pick is weighted and keyed by the request's `seed` (the operator passes the plan's name, or the
// step's for a step on its own) and the entry's index: sha256(`${seed}\u0000${index}`). So the same
// plan always gets the same answers (a demo run is reproducible, a restarted operator's repeated
// question is answered alike), while plans with other names (an experiment's repetitions) can differ.
// Without a seed the first choice answers.
//
// Usage is an estimate (estimateTokens: about 4 characters per token), since no model counted anything.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AGENT_NAMES } from '../api/index.ts';
import { type ModelDeps, resolveDeps } from './retry.ts';
import {
  estimateTokens,
  type GenerateRequest,
  type Generation,
  type LanguageModel,
  ModelError,
} from './types.ts';

/** Who calls a model: the step agents plus the debug helper, the plan manager and the report's change labels. */
export const MODEL_AGENTS = [...AGENT_NAMES, 'debug', 'manager', 'change-label'] as const;
export type ModelAgent = (typeof MODEL_AGENTS)[number];

const choiceSchema = z
  .object({
    text: z.string().min(1, 'must not be empty'),
    weight: z.number().gt(0, 'must be greater than 0').optional(),
  })
  .strict();

const scriptEntrySchema = z
  .object({
    agent: z.enum(MODEL_AGENTS).optional(),
    match: z
      .string()
      .min(1)
      .refine(
        (source) => {
          try {
            new RegExp(source);
            return true;
          } catch {
            return false;
          }
        },
        { message: 'not a valid regular expression' },
      )
      .optional(),
    text: z.string().min(1, 'must not be empty').optional(),
    choices: z.array(choiceSchema).min(1, 'must list at least one choice').optional(),
  })
  .strict()
  .superRefine((entry, context) => {
    if (entry.text !== undefined && entry.choices !== undefined)
      context.addIssue({
        code: 'custom',
        path: ['choices'],
        message: 'give either text or choices, not both',
      });
    else if (entry.text === undefined && entry.choices === undefined)
      context.addIssue({ code: 'custom', path: ['text'], message: 'required (or give choices)' });
  })
  // `text` is then always the answer given without a seed, so readers of a script need not care.
  .transform((entry) => ({ ...entry, text: entry.text ?? entry.choices?.[0]?.text ?? '' }));

export const scriptSchema = z
  .object({
    reuse: z.boolean().optional(),
    responses: z.array(scriptEntrySchema),
  })
  .strict();

export type Script = z.infer<typeof scriptSchema>;
export type ScriptEntry = z.infer<typeof scriptEntrySchema>;
export type ScriptChoice = z.infer<typeof choiceSchema>;

/** Which entries are used up; persisted by the operator so a restart does not replay answers. */
export interface ScriptState {
  /** sha256 (hex, first 16) of the script's text, so state is never applied to another script. */
  digest: string;
  /** Indexes into `responses`, in the order they were used. */
  consumed: number[];
}

const scriptStateSchema = z.object({
  digest: z.string(),
  consumed: z.array(z.number().int().nonnegative()),
});

export class ScriptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScriptError';
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path
        .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
        .join('');
      return `${path || '(top level)'}: ${issue.message}`;
    })
    .join('; ');
}

/** Parses and validates a script; errors name the source and the offending field. */
export function parseScript(text: string, source = 'script'): Script {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new ScriptError(`${source}: not valid YAML: ${(error as Error).message}`);
  }
  const parsed = scriptSchema.safeParse(data);
  if (!parsed.success) throw new ScriptError(`${source}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The start of a prompt on one line, cut at a word boundary. */
function preview(text: string, length = 80): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= length) return line;
  const space = line.lastIndexOf(' ', length);
  return `${line.slice(0, space >= length / 2 ? space : length)}…`;
}

const PROVIDER = 'scripted';

export class ScriptedModel implements LanguageModel {
  readonly provider = PROVIDER;
  readonly model: string;
  readonly #entries: ScriptEntry[];
  readonly #patterns: (RegExp | undefined)[];
  readonly #digest: string;
  readonly #reuse: boolean;
  #consumed: number[] = [];
  /** The entry that answered each exact (agent, prompt): asked again, the script answers the same. */
  readonly #answered = new Map<string, number>();
  readonly #deps: Required<ModelDeps>;

  constructor(script: Script, options: { name?: string; digest: string }, deps: ModelDeps = {}) {
    this.#entries = script.responses;
    this.#patterns = script.responses.map((entry) => (entry.match ? new RegExp(entry.match) : undefined));
    this.#digest = options.digest;
    this.#reuse = script.reuse ?? false;
    this.model = options.name ?? 'script';
    this.#deps = resolveDeps(deps);
  }

  static fromYaml(
    text: string,
    options: { source?: string; name?: string } = {},
    deps: ModelDeps = {},
  ): ScriptedModel {
    const script = parseScript(text, options.source);
    return new ScriptedModel(script, { name: options.name, digest: digestOf(text) }, deps);
  }

  static fromFile(path: string, options: { name?: string } = {}, deps: ModelDeps = {}): ScriptedModel {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ScriptError(
        `cannot read the model script ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    return ScriptedModel.fromYaml(text, { source: path, name: options.name ?? basename(path) }, deps);
  }

  /** Entries not used yet (all of them when the script reuses its entries). */
  remaining(): number {
    return this.#reuse ? this.#entries.length : this.#entries.length - this.#consumed.length;
  }

  exportState(): ScriptState {
    return { digest: this.#digest, consumed: [...this.#consumed] };
  }

  /** Restores what an earlier process used; refuses state taken from a different script. */
  importState(state: ScriptState): void {
    const parsed = scriptStateSchema.safeParse(state);
    if (!parsed.success) throw new ScriptError(`scripted model state: ${describeIssues(parsed.error)}`);
    if (parsed.data.digest !== this.#digest) {
      throw new ScriptError(
        `scripted model state was saved for another script (digest ${parsed.data.digest}, this one is ${this.#digest})`,
      );
    }
    const consumed = parsed.data.consumed;
    const outOfRange = consumed.find((index) => index >= this.#entries.length);
    if (outOfRange !== undefined) {
      throw new ScriptError(
        `scripted model state names response ${outOfRange}, but the script has ${this.#entries.length}`,
      );
    }
    if (new Set(consumed).size !== consumed.length)
      throw new ScriptError('scripted model state uses a response twice');
    this.#consumed = [...consumed];
  }

  async generate(request: GenerateRequest): Promise<Generation> {
    request.signal?.throwIfAborted();
    const started = this.#deps.now();
    // The same question gets the same answer (an operator that restarts mid-call asks again), so a
    // replayed call does not consume the entry meant for the next one.
    const question = `${request.agent ?? ''}\u0000${request.system ?? ''}\u0000${request.prompt}`;
    const answered = this.#answered.get(question);
    // Chosen and marked synchronously, so concurrent calls never share an entry.
    const used = new Set(this.#reuse ? [] : this.#consumed);
    const index =
      answered ??
      this.#entries.findIndex(
        (entry, i) =>
          !used.has(i) &&
          (entry.agent === undefined || entry.agent === request.agent) &&
          (this.#patterns[i]?.test(request.prompt) ?? true),
      );
    const entry = this.#entries[index];
    if (index < 0 || !entry) {
      if (this.#reuse)
        throw new ModelError(
          `no scripted response for agent ${request.agent ?? '(none)'} matches the prompt "${preview(request.prompt)}" (add an entry for it to the script)`,
          { kind: 'no-script-match', retryable: false, provider: PROVIDER, attempts: 1 },
        );
      throw new ModelError(
        `no scripted response left for agent ${request.agent ?? '(none)'} (${this.remaining()} of ${this.#entries.length} unused) matching the prompt "${preview(request.prompt)}" (each entry answers once; add entries, or set reuse: true in the script)`,
        { kind: 'no-script-match', retryable: false, provider: PROVIDER, attempts: 1 },
      );
    }
    if (answered === undefined && !this.#reuse) {
      this.#consumed.push(index);
      this.#answered.set(question, index);
    }
    const text = answerOf(entry, index, request.seed);
    const promptText = [
      request.system ?? '',
      ...(request.history ?? []).map((turn) => turn.text),
      request.prompt,
    ].join('');
    const promptTokens = estimateTokens(promptText);
    const outputTokens = estimateTokens(text);
    return {
      text,
      usage: { promptTokens, outputTokens, totalTokens: promptTokens + outputTokens },
      latencyMs: Math.max(0, Math.round(this.#deps.now() - started)),
      attempts: 1,
    };
  }
}

/**
 * The entry's text, or one of its choices: weighted, from sha256 of the seed and the entry's index
 * (so one plan's answers are fixed and independent between entries); `text` (the first choice)
 * without a seed.
 */
export function answerOf(entry: ScriptEntry, index: number, seed: string | undefined): string {
  const choices = entry.choices;
  if (!choices || seed === undefined) return entry.text;
  const total = choices.reduce((sum, choice) => sum + (choice.weight ?? 1), 0);
  // 48 bits of the hash, as a fraction in [0, 1): plenty of resolution for any weights.
  const hash = createHash('sha256').update(`${seed}\u0000${index}`).digest();
  const point = (hash.readUIntBE(0, 6) / 2 ** 48) * total;
  let upTo = 0;
  for (const choice of choices) {
    upTo += choice.weight ?? 1;
    if (point < upTo) return choice.text;
  }
  // Rounding can leave the point at the very top.
  return choices.at(-1)?.text ?? entry.text;
}

function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
