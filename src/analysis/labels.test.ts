import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadRuns } from '../../test/fixtures/experiment/load.ts';
import { ScriptedModel } from '../llm/scripted.ts';
import type { GenerateRequest, Generation, LanguageModel } from '../llm/types.ts';
import { changeLabelPrompt } from '../prompts/change-label.ts';
import { changeRecords, changeTexts } from './change.ts';
import { cleanLabel, FileLabelCache, labelChanges, MemoryLabelCache } from './labels.ts';

const runs = loadRuns();
const changes = changeRecords(runs);
const texts = changeTexts(runs);

/** A model that answers each prompt with `answer(prompt)` and remembers what it was asked. */
class FakeModel implements LanguageModel {
  readonly provider = 'fake';
  readonly model: string;
  readonly prompts: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  readonly answer: (prompt: string) => string;
  constructor(answer: (prompt: string) => string, model = 'fake-1') {
    this.answer = answer;
    this.model = model;
  }
  async generate(request: GenerateRequest): Promise<Generation> {
    this.prompts.push(request.prompt);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.inFlight -= 1;
    const text = this.answer(request.prompt);
    if (text === 'THROW') throw new Error('the model is down');
    return { text, usage: { promptTokens: 1, outputTokens: 1, totalTokens: 2 }, latencyMs: 5, attempts: 1 };
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fractale-labels-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cleanLabel', () => {
  it('keeps the first line with words, without markdown, quotes or a prefix, in lower case', () => {
    expect(cleanLabel('added ca-certificates')).toBe('added ca-certificates');
    expect(cleanLabel('**Added CA-Certificates.**\nThe build failed because git could not verify...')).toBe(
      'added ca-certificates',
    );
    expect(cleanLabel('```\n"changed the branch"\n```')).toBe('changed the branch');
    expect(cleanLabel('Label: `set OMP_NUM_THREADS`')).toBe('set omp_num_threads');
    expect(cleanLabel('- “switched to lmp_mpi”')).toBe('switched to lmp_mpi');
    expect(cleanLabel('\u001b[31madded\u001b[0m\tlibfftw3-dev\u200b')).toBe('added libfftw3-dev');
    expect(cleanLabel('x'.repeat(200))).toHaveLength(60);
  });

  it('rejects answers with no words', () => {
    expect(cleanLabel('')).toBeUndefined();
    expect(cleanLabel('   \n\n```\n```')).toBeUndefined();
    expect(cleanLabel('"" ... **')).toBeUndefined();
  });
});

describe('the change-label prompt', () => {
  it('gives the diff and asks for a short lower-case label', () => {
    const prompt = changeLabelPrompt({
      artifactKind: 'Dockerfile',
      diff: '-    git cmake\n+    ca-certificates git cmake',
      failure: 'BuildFailed: server certificate verification failed',
    });
    expect(prompt).toContain('```diff\n-    git cmake\n+    ca-certificates git cmake\n```');
    expect(prompt).toContain('at most 8 words, in lower case');
    expect(prompt).toContain('BuildFailed: server certificate verification failed');
  });
});

describe('labelChanges', () => {
  it('asks once per change, then never again with the file cache', async () => {
    const path = join(dir, 'nested', 'change-labels.json');
    const model = new FakeModel((prompt) =>
      prompt.includes('+    ca-certificates') ? 'Added ca-certificates' : 'changed the job',
    );
    const first = await labelChanges(changes, { model, cache: await FileLabelCache.open(path), texts });
    // 9 changes, 8 distinct: vague r1 and r3 made the same one.
    expect(first.asked).toBe(8);
    expect(model.prompts).toHaveLength(8);
    expect(model.maxInFlight).toBeLessThanOrEqual(4);
    expect(model.maxInFlight).toBeGreaterThan(1);
    expect(first.failures).toEqual([]);
    const caKey = changes.find((c) => c.stepRun === 'agents-lammps-vague-r1-build')!.key;
    expect(first.labels[caKey]).toBe('added ca-certificates');
    expect(Object.keys(first.labels)).toHaveLength(8);
    expect(model.prompts.find((p) => p.includes('+    ca-certificates'))).toContain('Dockerfile');

    const stored = JSON.parse(await readFile(path, 'utf8'));
    expect(stored.version).toBe(1);
    expect(stored.labels[`fake-1:${caKey}`]).toBe('added ca-certificates');
    // Written by rename: no temporary file is left.
    expect(await readdir(join(dir, 'nested'))).toEqual(['change-labels.json']);

    const again = new FakeModel(() => 'should not be asked');
    const second = await labelChanges(changes, {
      model: again,
      cache: await FileLabelCache.open(path),
      texts,
    });
    expect(second.asked).toBe(0);
    expect(again.prompts).toHaveLength(0);
    expect(second.labels).toEqual(first.labels);

    // Another model's labels are its own.
    const other = new FakeModel(() => 'x', 'fake-2');
    expect(
      (await labelChanges(changes, { model: other, cache: await FileLabelCache.open(path), texts })).asked,
    ).toBe(8);
  });

  it('works with the scripted model', async () => {
    const model = ScriptedModel.fromYaml(
      `reuse: true
responses:
  - match: "\\\\+\\\\s+ca-certificates"
    text: "Added CA certificates."
  - text: "changed the command"
`,
      { name: 'script' },
    );
    const result = await labelChanges(changes, { model, cache: new MemoryLabelCache(), texts });
    expect(result.asked).toBe(8);
    // Three distinct changes add the ca-certificates line (vague r2 adds it with lammps-data, then
    // keeps it while dropping lammps-data).
    expect(Object.values(result.labels).sort()).toEqual([
      ...Array(3).fill('added ca certificates'),
      ...Array(5).fill('changed the command'),
    ]);
  });

  it('leaves a change unlabelled when the answer is unusable or the call fails, and keeps the rest', async () => {
    let n = 0;
    const model = new FakeModel(() => {
      n += 1;
      return n === 1 ? '```\n```' : n === 2 ? 'THROW' : 'changed something';
    });
    const cache = new MemoryLabelCache();
    const result = await labelChanges(changes, { model, cache, texts, concurrency: 1 });
    expect(result.asked).toBe(8);
    expect(Object.keys(result.labels)).toHaveLength(6);
    expect(result.failures.map((f) => f.message).sort()).toEqual([
      'the answer had no label',
      'the model is down',
    ]);
    expect(cache.labels.size).toBe(6);
  });

  it('starts empty from a cache file that is not one', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{"version": 2, "labels": []}');
    const cache = await FileLabelCache.open(path);
    expect(cache.get('fake-1', 'abc')).toBeUndefined();
    cache.set('fake-1', 'abc', 'added a library');
    await cache.save();
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      version: 1,
      labels: { 'fake-1:abc': 'added a library' },
    });
  });
});
