// The scripted provider: answers from a YAML file, in order, filtered by agent and prompt.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createModel,
  isModelError,
  ModelConfigError,
  parseScript,
  ScriptError,
  ScriptedModel,
} from '../../src/llm/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'fractale-scripted-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scriptFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const LAMMPS_SCRIPT = `
responses:
  - agent: build
    text: |
      \`\`\`dockerfile
      FROM ubuntu:24.04
      \`\`\`
  - agent: debug
    match: "cmake: not found"
    text: Install cmake with apt-get before building.
  - agent: build
    match: "Install cmake"
    text: |
      \`\`\`dockerfile
      FROM ubuntu:24.04
      RUN apt-get update && apt-get install -y cmake
      \`\`\`
  - agent: kubernetes-job
    text: "kind: Job"
  - text: answer for anyone
`;

describe('scripted provider', () => {
  it('answers in order, choosing by agent and by the prompt', async () => {
    const model = ScriptedModel.fromYaml(LAMMPS_SCRIPT);
    const first = await model.generate({ agent: 'build', prompt: 'Write a Dockerfile for LAMMPS' });
    expect(first.text).toContain('FROM ubuntu:24.04');
    expect(first.text).not.toContain('cmake');
    expect(first.attempts).toBe(1);

    // The debug entry is skipped by the build agent, and only matches prompts naming the error.
    const debug = await model.generate({
      agent: 'debug',
      prompt: 'The build failed: /bin/sh: cmake: not found',
    });
    expect(debug.text).toBe('Install cmake with apt-get before building.');

    const second = await model.generate({
      agent: 'build',
      prompt: 'Advice: Install cmake with apt-get first',
    });
    expect(second.text).toContain('apt-get install -y cmake');

    expect((await model.generate({ agent: 'kubernetes-job', prompt: 'Write a Job' })).text).toBe('kind: Job');
    // An entry without agent answers any agent.
    expect((await model.generate({ agent: 'manager', prompt: 'What next?' })).text).toBe('answer for anyone');
    expect(model.remaining()).toBe(0);
  });

  it('lets a later entry answer first when an earlier one does not match, without using the earlier one', async () => {
    const model = ScriptedModel.fromYaml(LAMMPS_SCRIPT);
    const job = await model.generate({ agent: 'kubernetes-job', prompt: 'Write a Job' });
    expect(job.text).toBe('kind: Job');
    expect(model.exportState().consumed).toEqual([3]);
    const build = await model.generate({ agent: 'build', prompt: 'Write a Dockerfile' });
    expect(build.text).not.toContain('cmake');
    expect(model.exportState().consumed).toEqual([3, 0]);
  });

  it('fails with no-script-match naming the agent and the start of the prompt', async () => {
    const model = ScriptedModel.fromYaml('responses:\n  - agent: build\n    text: FROM alpine\n');
    await model.generate({ agent: 'build', prompt: 'one' });
    const error = await model
      .generate({
        agent: 'build',
        prompt: `Write a Dockerfile for LAMMPS ${'with many details '.repeat(20)}`,
      })
      .catch((e: unknown) => e);
    expect(isModelError(error)).toBe(true);
    if (!isModelError(error)) return;
    expect(error.kind).toBe('no-script-match');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('agent build');
    expect(error.message).toContain('"Write a Dockerfile for LAMMPS with many details');
    expect(error.message.length).toBeLessThan(250);

    const wrongAgent = await ScriptedModel.fromYaml('responses:\n  - agent: build\n    text: FROM alpine\n')
      .generate({ agent: 'cost', prompt: 'Estimate' })
      .catch((e: unknown) => e);
    expect(isModelError(wrongAgent) && wrongAgent.kind).toBe('no-script-match');
  });

  it('estimates usage at about 4 characters a token', async () => {
    const model = ScriptedModel.fromYaml(`responses:\n  - text: "${'a'.repeat(40)}"\n`);
    const generation = await model.generate({
      prompt: 'p'.repeat(60),
      system: 's'.repeat(12),
      history: [{ role: 'user', text: 'h'.repeat(8) }],
    });
    expect(generation.usage).toEqual({ promptTokens: 20, outputTokens: 10, totalTokens: 30 });
    expect(generation.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it.each([
    { name: 'a missing text', yaml: 'responses:\n  - agent: build\n', field: 'responses[0].text' },
    { name: 'an empty text', yaml: 'responses:\n  - text: ""\n', field: 'responses[0].text' },
    {
      name: 'an unknown agent',
      yaml: 'responses:\n  - agent: builder\n    text: x\n',
      field: 'responses[0].agent',
    },
    {
      name: 'a bad regular expression',
      yaml: 'responses:\n  - text: x\n  - match: "(unclosed"\n    text: y\n',
      field: 'responses[1].match',
    },
    { name: 'an unknown field', yaml: 'responses:\n  - text: x\n    answer: y\n', field: 'responses[0]' },
    { name: 'no responses list', yaml: 'answers: []\n', field: 'responses' },
    {
      name: 'both text and choices',
      yaml: 'responses:\n  - text: x\n    choices:\n      - text: y\n',
      field: 'responses[0].choices: give either text or choices, not both',
    },
    {
      name: 'neither text nor choices',
      yaml: 'responses:\n  - agent: build\n    match: x\n',
      field: 'responses[0].text: required (or give choices)',
    },
    {
      name: 'an empty choices list',
      yaml: 'responses:\n  - choices: []\n',
      field: 'responses[0].choices: must list at least one choice',
    },
    {
      name: 'a weight of 0',
      yaml: 'responses:\n  - choices:\n      - text: a\n      - text: b\n        weight: 0\n',
      field: 'responses[0].choices[1].weight: must be greater than 0',
    },
    {
      name: 'an empty choice',
      yaml: 'responses:\n  - choices:\n      - text: ""\n',
      field: 'responses[0].choices[0].text',
    },
  ])('rejects a script with $name, naming $field', ({ yaml, field }) => {
    const path = scriptFile('bad.yaml', yaml);
    expect(() => ScriptedModel.fromFile(path)).toThrow(ScriptError);
    expect(() => ScriptedModel.fromFile(path)).toThrow(`${path}: ${field}`);
  });

  it('rejects a file that is not YAML or does not exist', () => {
    expect(() => ScriptedModel.fromFile(scriptFile('broken.yaml', 'responses: [\n'))).toThrow(
      /not valid YAML/,
    );
    expect(() => ScriptedModel.fromFile(join(dir, 'missing.yaml'))).toThrow(
      /cannot read the model script .*ENOENT/,
    );
  });

  it('resumes from exported state without replaying used answers', async () => {
    const path = scriptFile('resume.yaml', LAMMPS_SCRIPT);
    const before = ScriptedModel.fromFile(path);
    await before.generate({ agent: 'build', prompt: 'Write a Dockerfile' });
    await before.generate({ agent: 'debug', prompt: 'cmake: not found' });
    // The operator persists this (e.g. in a ConfigMap) and restarts.
    const saved = JSON.parse(JSON.stringify(before.exportState()));

    const after = ScriptedModel.fromFile(path);
    after.importState(saved);
    expect(after.remaining()).toBe(3);
    const next = await after.generate({ agent: 'build', prompt: 'Install cmake then build' });
    expect(next.text).toContain('apt-get install -y cmake');
    const fresh = ScriptedModel.fromFile(path);
    expect((await fresh.generate({ agent: 'build', prompt: 'Install cmake then build' })).text).not.toContain(
      'apt-get',
    );
  });

  it('refuses state from another script or naming entries it does not have', () => {
    const model = ScriptedModel.fromYaml(LAMMPS_SCRIPT);
    const other = ScriptedModel.fromYaml('responses:\n  - text: x\n');
    expect(() => model.importState(other.exportState())).toThrow(/another script/);
    const digest = model.exportState().digest;
    expect(() => model.importState({ digest, consumed: [9] })).toThrow(/names response 9/);
    expect(() => model.importState({ digest, consumed: [1, 1] })).toThrow(/twice/);
    expect(() => model.importState({ digest, consumed: [-1] })).toThrow(/consumed\[0\]/);
  });

  it('is built by createModel from a script path, and needs one', async () => {
    const path = scriptFile('factory.yaml', 'responses:\n  - agent: cost\n    text: "[]"\n');
    const model = createModel({ provider: 'scripted', script: path });
    expect(model.provider).toBe('scripted');
    expect(model.model).toBe('factory.yaml');
    expect((await model.generate({ agent: 'cost', prompt: 'estimate' })).text).toBe('[]');
    expect(() => createModel({ provider: 'scripted' })).toThrow(ModelConfigError);
    expect(() => createModel({ provider: 'scripted' })).toThrow(/--script/);
  });

  it('answers a question asked again with the same answer, without using another entry', async () => {
    const model = ScriptedModel.fromYaml(
      'responses:\n  - agent: build\n    text: first\n  - agent: build\n    text: second\n',
    );
    expect((await model.generate({ agent: 'build', prompt: 'write it' })).text).toBe('first');
    expect((await model.generate({ agent: 'build', prompt: 'write it' })).text).toBe('first');
    expect(model.remaining()).toBe(1);
    expect((await model.generate({ agent: 'build', prompt: 'write it again, better' })).text).toBe('second');
  });

  it('with reuse: true, never uses an entry up: the first entry that fits answers every time', async () => {
    const model = ScriptedModel.fromYaml(`reuse: true
responses:
  - agent: build
    match: "Install cmake"
    text: fixed
  - agent: build
    text: first try
`);
    for (let plan = 0; plan < 3; plan++) {
      expect((await model.generate({ agent: 'build', prompt: `plan ${plan}: write it` })).text).toBe(
        'first try',
      );
      expect((await model.generate({ agent: 'build', prompt: `plan ${plan}: Install cmake` })).text).toBe(
        'fixed',
      );
    }
    expect(model.remaining()).toBe(2);
    const error = await model.generate({ agent: 'cost', prompt: 'Estimate' }).catch((e: unknown) => e);
    expect(isModelError(error) && error.kind).toBe('no-script-match');
    expect((error as Error).message).toContain('no scripted response for agent cost matches the prompt');
  });

  it('says how to get more answers when entries used once run out', async () => {
    const model = ScriptedModel.fromYaml('responses:\n  - agent: build\n    text: FROM alpine\n');
    await model.generate({ agent: 'build', prompt: 'one' });
    const error = await model.generate({ agent: 'build', prompt: 'two' }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('each entry answers once; add entries, or set reuse: true');
  });
});

const CHOICES_SCRIPT = `
reuse: true
responses:
  - agent: kubernetes-job
    text: "kind: Job"
  - agent: build
    choices:
      - text: forgot
        weight: 3
      - text: right
`;

describe('scripted choices', () => {
  it('picks the same choice for the same seed, in any instance of the model', async () => {
    const picks = async (model: ScriptedModel) =>
      Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const answer = await model.generate({ agent: 'build', prompt: 'write it', seed: `plan-r${i}` });
          return answer.text;
        }),
      );
    const model = ScriptedModel.fromYaml(CHOICES_SCRIPT);
    const first = await picks(model);
    // Asked again (a restarted operator asks its question again), and by another instance.
    expect(await picks(model)).toEqual(first);
    expect(await picks(ScriptedModel.fromYaml(CHOICES_SCRIPT))).toEqual(first);
    // Different seeds do differ: 20 seeds at 3:1 all giving one answer would be a broken pick.
    expect(new Set(first).size).toBe(2);
  });

  it('follows the weights over many seeds', async () => {
    const model = ScriptedModel.fromYaml(CHOICES_SCRIPT);
    let forgot = 0;
    for (let i = 0; i < 300; i++) {
      const answer = await model.generate({
        agent: 'build',
        prompt: 'write it',
        seed: `experiment-cell-r${i}`,
      });
      if (answer.text === 'forgot') forgot++;
      else expect(answer.text).toBe('right');
    }
    expect(forgot / 300).toBeGreaterThan(0.65);
    expect(forgot / 300).toBeLessThan(0.85);
  });

  it('picks independently per entry, and the first choice without a seed', async () => {
    const model = ScriptedModel.fromYaml(`reuse: true
responses:
  - agent: build
    match: second
    choices: [{ text: s-a }, { text: s-b }]
  - agent: build
    choices: [{ text: f-a }, { text: f-b }]
`);
    expect((await model.generate({ agent: 'build', prompt: 'first' })).text).toBe('f-a');
    expect((await model.generate({ agent: 'build', prompt: 'second' })).text).toBe('s-a');
    // One seed's picks for the two entries are not tied together (each hashes its own index).
    const pairs = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const seed = `s${i}`;
      const first = (await model.generate({ agent: 'build', prompt: 'first', seed })).text;
      const second = (await model.generate({ agent: 'build', prompt: 'second', seed })).text;
      pairs.add(`${first} ${second}`);
    }
    expect(pairs.size).toBe(4);
  });

  it('keeps entries used once, and exported state, as with text', async () => {
    const text = `responses:
  - agent: build
    choices: [{ text: a }, { text: b }, { text: c }]
  - agent: build
    text: next
`;
    const before = ScriptedModel.fromYaml(text);
    const answer = (await before.generate({ agent: 'build', prompt: 'write it', seed: 'p' })).text;
    expect(['a', 'b', 'c']).toContain(answer);
    // The same question is answered alike, without using the next entry.
    expect((await before.generate({ agent: 'build', prompt: 'write it', seed: 'p' })).text).toBe(answer);
    const saved = JSON.parse(JSON.stringify(before.exportState()));
    expect(saved.consumed).toEqual([0]);

    const after = ScriptedModel.fromYaml(text);
    after.importState(saved);
    expect(after.remaining()).toBe(1);
    expect((await after.generate({ agent: 'build', prompt: 'try again', seed: 'p' })).text).toBe('next');
  });

  it('reads a choices entry as text: its first choice, for readers of a script', () => {
    const script = parseScript('responses:\n  - choices: [{ text: one, weight: 2 }, { text: two }]\n');
    expect(script.responses[0]?.text).toBe('one');
    expect(script.responses[0]?.choices?.map((c) => c.weight)).toEqual([2, undefined]);
  });
});
