// Model-written labels of changes (`fractale report --analyze`): each change between two attempts
// named in a few words ("added ca-certificates"). Answers are cached by model and change key in a
// file, so a report asks about a change once, and an unchanged experiment's report asks nothing.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { z } from 'zod';
import type { LanguageModel } from '../llm/types.ts';
import { changeLabelPrompt } from '../prompts/change-label.ts';
import type { ChangeText } from './change.ts';
import type { ChangeLabels, ChangeRecord } from './types.ts';

export interface LabelCache {
  get(model: string, key: string): string | undefined;
  set(model: string, key: string, label: string): void;
  /** Makes what was set durable; a cache in memory has nothing to do. */
  save(): Promise<void>;
}

/** A cache that lives as long as the process: for tests, and for reports that should keep nothing. */
export class MemoryLabelCache implements LabelCache {
  readonly labels = new Map<string, string>();
  get(model: string, key: string) {
    return this.labels.get(`${model}:${key}`);
  }
  set(model: string, key: string, label: string) {
    this.labels.set(`${model}:${key}`, label);
  }
  async save() {}
}

export const DEFAULT_LABEL_CACHE = join(homedir(), '.cache', 'fractale', 'change-labels.json');

const cacheFile = z.object({ version: z.literal(1), labels: z.record(z.string(), z.string()) });

/**
 * The cache as a JSON file, `{version: 1, labels: {"<model>:<key>": label}}`. A missing or unreadable
 * file starts empty (it is only a cache); saving writes a temporary file and renames it over the old
 * one, so a report killed mid-write leaves the previous cache whole.
 */
export class FileLabelCache implements LabelCache {
  readonly path: string;
  readonly #labels: Map<string, string>;
  #dirty = false;

  private constructor(path: string, labels: Map<string, string>) {
    this.path = path;
    this.#labels = labels;
  }

  static async open(path: string = DEFAULT_LABEL_CACHE): Promise<FileLabelCache> {
    let labels = new Map<string, string>();
    try {
      const parsed = cacheFile.safeParse(JSON.parse(await readFile(path, 'utf8')));
      if (parsed.success) labels = new Map(Object.entries(parsed.data.labels));
    } catch {
      // Missing or not JSON: start empty.
    }
    return new FileLabelCache(path, labels);
  }

  get(model: string, key: string) {
    return this.#labels.get(`${model}:${key}`);
  }

  set(model: string, key: string, label: string) {
    if (this.#labels.get(`${model}:${key}`) === label) return;
    this.#labels.set(`${model}:${key}`, label);
    this.#dirty = true;
  }

  async save(): Promise<void> {
    if (!this.#dirty) return;
    await mkdir(dirname(this.path), { recursive: true });
    // Sorted keys: the file diffs cleanly and does not depend on the order answers came in.
    const labels = Object.fromEntries([...this.#labels.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ version: 1, labels }, null, 2)}\n`);
    await rename(temporary, this.path);
    this.#dirty = false;
  }
}

const MAX_LABEL = 60;
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;
const MAX_DIFF = 4000;

/**
 * A model's answer as a label, or undefined when nothing usable is left. The answer is untrusted
 * text: its first line with words, without markdown, quotes, a `label:` prefix or control
 * characters, in lower case, at most 60 characters.
 */
export function cleanLabel(answer: string): string | undefined {
  for (const raw of answer.split(/\r?\n/)) {
    const label = raw
      .replace(ANSI, '')
      .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
      // Zero-width and direction marks: invisible, and able to make a label read other than it is.
      .replace(/[\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g, '')
      // Markdown emphasis and code; underscores stay (OMP_NUM_THREADS is a name, not emphasis).
      .replace(/`+|\*+|~~/g, '')
      .replace(/^\s*(?:[#>]+|[-+•]|\d+[.)])\s*/, '')
      .replace(/^\s*label\s*:\s*/i, '')
      .replace(/["“”‘’«»]/g, '')
      .replace(/^'+|'+$/g, '')
      .replace(/\s+/g, ' ')
      .trim()
      .replace(/[.!]+$/, '')
      .toLowerCase();
    if (!/[\p{L}\p{N}]/u.test(label)) continue;
    return label.length <= MAX_LABEL ? label : label.slice(0, MAX_LABEL).trimEnd();
  }
  return undefined;
}

const ARTIFACT_KINDS: Record<string, string> = {
  build: 'Dockerfile',
  'kubernetes-job': 'Kubernetes Job',
  minicluster: 'MiniCluster',
  'flux-batch': 'Flux batch script',
  cost: 'cost estimate',
};

/** A unified diff of two attempts' artifacts, cut to a few KB (the start of a change names it). */
export function changeDiff(text: ChangeText, from: number, to: number): string {
  const patch = createTwoFilesPatch(
    `attempt-${from}`,
    `attempt-${to}`,
    text.before,
    text.after,
    undefined,
    undefined,
    { context: 2 },
  );
  return patch.length <= MAX_DIFF ? patch : `${patch.slice(0, MAX_DIFF)}\n… (diff cut)`;
}

export interface LabelOptions {
  model: LanguageModel;
  cache: LabelCache;
  /** The artifacts of a change by its key (changeTexts(runs)). */
  texts: ReadonlyMap<string, ChangeText>;
  /** Calls at once; default 4. */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface LabelResult {
  /** Every change's label that is known, by key: cached and new. */
  labels: ChangeLabels;
  /** Model calls made. */
  asked: number;
  /** Changes the model could not label (the call failed, or its answer had no words). */
  failures: { key: string; message: string }[];
}

/** Labels every change not in the cache, at most `concurrency` calls at once, then saves the cache. */
export async function labelChanges(
  changes: readonly ChangeRecord[],
  options: LabelOptions,
): Promise<LabelResult> {
  const { model, cache, texts } = options;
  const labels: ChangeLabels = {};
  const todo: ChangeRecord[] = [];
  const queued = new Set<string>();
  for (const change of changes) {
    const cached = cache.get(model.model, change.key);
    if (cached !== undefined) labels[change.key] = cached;
    else if (!queued.has(change.key) && texts.has(change.key)) {
      // Runs that made the same change (a script's answers repeat) ask once.
      queued.add(change.key);
      todo.push(change);
    }
  }
  const failures: LabelResult['failures'] = [];
  let asked = 0;
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const change = todo[next++]!;
      const text = texts.get(change.key)!;
      options.signal?.throwIfAborted();
      asked += 1;
      try {
        const generation = await model.generate({
          prompt: changeLabelPrompt({
            artifactKind: ARTIFACT_KINDS[text.agent] ?? 'artifact',
            diff: changeDiff(text, change.fromAttempt, change.toAttempt),
            ...(text.failure ? { failure: text.failure.slice(0, 500) } : {}),
          }),
          agent: 'change-label',
          seed: change.key,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        const label = cleanLabel(generation.text);
        if (label === undefined) {
          failures.push({ key: change.key, message: 'the answer had no label' });
          continue;
        }
        labels[change.key] = label;
        cache.set(model.model, change.key, label);
      } catch (error) {
        if (options.signal?.aborted) throw error;
        failures.push({ key: change.key, message: (error as Error).message });
      }
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 4, todo.length));
  try {
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    // What was learnt before a failure or an abort is kept.
    await cache.save();
  }
  failures.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { labels, asked, failures };
}
