import { describe, expect, it } from 'vitest';
import {
  codeBlocks,
  extractCodeBlock,
  firstMeaningfulLine,
  MAX_ANSWER_BYTES,
  parseDebugAdvice,
  parseJson,
} from './parse.ts';

const startsWithFrom = (text: string) => /^FROM\s/im.test(text);

describe('extractCodeBlock', () => {
  it.each([
    {
      name: 'a dockerfile block',
      given: 'Here:\n```dockerfile\nFROM ubuntu:24.04\nRUN true\n```\nDone.',
      language: 'dockerfile',
      want: 'FROM ubuntu:24.04\nRUN true',
    },
    {
      name: 'a Dockerfile tag in capitals',
      given: '```Dockerfile\nFROM rockylinux:9\n```',
      language: 'dockerfile',
      want: 'FROM rockylinux:9',
    },
    {
      name: 'the docker alias',
      given: '```docker\nFROM debian:12\n```',
      language: 'dockerfile',
      want: 'FROM debian:12',
    },
    {
      name: 'a fence with no language',
      given: '```\nkind: Job\n```',
      language: 'yaml',
      want: 'kind: Job',
    },
    {
      name: 'the block in the asked language among several',
      given: '```bash\ndocker build .\n```\n\n```yaml\nkind: Job\n```\n```json\n{}\n```',
      language: 'yaml',
      want: 'kind: Job',
    },
    {
      name: 'an untagged block before a block in another language',
      given: '```json\n{"a":1}\n```\n```\nkind: Job\n```',
      language: 'yaml',
      want: 'kind: Job',
    },
    {
      name: 'the first block when none matches',
      given: '```text\nfirst\n```\n```text\nsecond\n```',
      language: 'yaml',
      want: 'first',
    },
    {
      name: 'a longer fence holding a shorter one',
      given: '````yaml\ncommand: |\n  ```\n  echo\n  ```\n````',
      language: 'yaml',
      want: 'command: |\n  ```\n  echo\n  ```',
    },
    {
      name: 'a fence indented by a list',
      given: '1. The file:\n   ```yaml\n   kind: Job\n   ```',
      language: 'yaml',
      want: 'kind: Job',
    },
    {
      name: 'windows line endings',
      given: '```yaml\r\nkind: Job\r\n```\r\n',
      language: 'yaml',
      want: 'kind: Job',
    },
  ])('finds $name', ({ given, language, want }) => {
    expect(extractCodeBlock(given, language)).toEqual({ ok: true, text: want });
  });

  it('keeps an unterminated block and says so', () => {
    expect(extractCodeBlock('```dockerfile\nFROM alpine\nRUN apk add', 'dockerfile')).toEqual({
      ok: true,
      text: 'FROM alpine\nRUN apk add',
      note: 'the code block was not closed',
    });
  });

  it('takes the whole answer when it is the artifact', () => {
    expect(extractCodeBlock('FROM alpine\nRUN apk add gcc\n', 'dockerfile', startsWithFrom)).toEqual({
      ok: true,
      text: 'FROM alpine\nRUN apk add gcc',
    });
  });

  it.each([
    { name: 'prose only', given: 'I cannot help with that.', want: /no ```dockerfile code block/ },
    { name: 'an empty answer', given: '  \n', want: /empty/ },
    { name: 'an empty block', given: '```dockerfile\n```', want: /no ```dockerfile code block/ },
  ])('refuses $name', ({ given, want }) => {
    const result = extractCodeBlock(given, 'dockerfile', startsWithFrom);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(want);
  });

  it('lists every block in order', () => {
    expect(codeBlocks('```a\n1\n```\ntext\n~~~b\n2\n~~~').map((b) => [b.language, b.body])).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });
});

describe('parseJson', () => {
  it.each([
    { name: 'a json block', given: '```json\n{"agent_name": "build"}\n```', want: { agent_name: 'build' } },
    { name: 'bare JSON', given: '[1, 2]', want: [1, 2] },
    { name: 'JSON inside prose', given: 'Sure! {"a": {"b": 2}} Hope it helps.', want: { a: { b: 2 } } },
    { name: 'an untagged block', given: '```\n{"x": true}\n```', want: { x: true } },
  ])('reads $name', ({ given, want }) => {
    expect(parseJson(given)).toEqual({ ok: true, value: want });
  });

  it.each([
    { name: 'a trailing comma', given: '```json\n{"a": 1,}\n```', want: /not valid JSON \(.+\)/ },
    { name: 'prose only', given: 'no idea', want: /not valid JSON/ },
    { name: 'nothing', given: '', want: /empty/ },
  ])('explains $name', ({ given, want }) => {
    const result = parseJson(given);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(want);
  });
});

describe('parseDebugAdvice', () => {
  const both = { allowReturnToManager: true, allowReturnToHuman: true };
  const none = { allowReturnToManager: false, allowReturnToHuman: false };

  it.each([
    {
      name: 'plain advice',
      given: 'Install libfftw3-dev before building.',
      options: both,
      want: { advice: 'Install libfftw3-dev before building.', returnToManager: false, returnToHuman: false },
    },
    {
      name: 'a return to the manager on its own line',
      given: 'The image lacks MPI, which the build step must add.\nRETURN TO MANAGER',
      options: both,
      want: {
        advice: 'The image lacks MPI, which the build step must add.',
        returnToManager: true,
        returnToHuman: false,
      },
    },
    {
      name: 'a return to the manager inside a sentence',
      given: 'This needs a rebuild: RETURN TO MANAGER.',
      options: both,
      want: { advice: 'This needs a rebuild: .', returnToManager: true, returnToHuman: false },
    },
    {
      name: 'a return to the manager that is not allowed',
      given: 'Rebuild the image.\nRETURN TO MANAGER',
      options: none,
      want: { advice: 'Rebuild the image.', returnToManager: false, returnToHuman: false },
    },
    {
      name: 'a question to a human on the same line',
      given: 'The input deck is missing.\nRETURN TO HUMAN: Which input file should the run use?',
      options: both,
      want: {
        advice: 'The input deck is missing.',
        returnToManager: false,
        returnToHuman: true,
        question: 'Which input file should the run use?',
      },
    },
    {
      name: 'a question to a human on the next lines',
      given:
        'Unclear data.\n\n**RETURN TO HUMAN**\nWhere is the dataset\nmounted?\n\nMeanwhile keep the manifest.',
      options: both,
      want: {
        advice: 'Unclear data.\n\n\nMeanwhile keep the manifest.',
        returnToManager: false,
        returnToHuman: true,
        question: 'Where is the dataset mounted?',
      },
    },
    {
      name: 'both directives: the human wins',
      given: 'RETURN TO MANAGER\nRETURN TO HUMAN Should we use GPUs?',
      options: both,
      want: { advice: '', returnToManager: false, returnToHuman: true, question: 'Should we use GPUs?' },
    },
    {
      name: 'a question to a human that is not allowed stays advice',
      given: 'Pick a smaller input.\nRETURN TO HUMAN: Is 2x2x2 enough?',
      options: { allowReturnToManager: true, allowReturnToHuman: false },
      want: {
        advice: 'Pick a smaller input.\nIs 2x2x2 enough?',
        returnToManager: false,
        returnToHuman: false,
      },
    },
  ])('reads $name', ({ given, options, want }) => {
    expect(parseDebugAdvice(given, options)).toEqual(want);
  });

  it('falls back to the last question of the advice', () => {
    const result = parseDebugAdvice('Is the data on a volume? Which one?\nRETURN TO HUMAN', both);
    expect(result.question).toBe('Which one?');
  });
});

describe('answers too large to read', () => {
  // Found while probing hostile answers for test/fuzz: nothing bounded the answer, so a 5 MB answer reached
  // every parser (and was stored whole in the attempt's ConfigMap, which the API server caps at 1 MiB).
  const huge = `\`\`\`yaml\n${'a: b\n'.repeat(1_000_000)}\`\`\``;

  it('are refused before any block is extracted, saying the size and the limit', () => {
    const result = extractCodeBlock(huge, 'yaml');
    expect(result).toMatchObject({ ok: false, tooLarge: true });
    if (!result.ok) expect(result.error).toMatch(/^The answer is 4883 KiB, larger than the 256 KiB/);
  });

  it('are refused as JSON too', () => {
    const result = parseJson(`[${'1,'.repeat(MAX_ANSWER_BYTES)}1]`);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/larger than the 256 KiB an answer may be/);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const text = '\u00e9'.repeat(MAX_ANSWER_BYTES / 2 + 1);
    expect(extractCodeBlock(text, 'yaml', () => true)).toMatchObject({ ok: false, tooLarge: true });
    expect(extractCodeBlock('\u00e9'.repeat(MAX_ANSWER_BYTES / 2), 'yaml', () => true).ok).toBe(true);
  });
});

describe('firstMeaningfulLine', () => {
  it.each([
    { text: '# a comment\n\n  kind: Job', want: true },
    { text: '---\nkind: Job', want: true },
    { text: 'Here it is:\nkind: Job', want: false },
    { text: '# only comments\n#', want: false },
    { text: '', want: false },
  ])('$text: $want', ({ text, want }) => {
    expect(firstMeaningfulLine(text, /^(apiVersion|kind):/, (l) => l === '---')).toBe(want);
  });

  it('reads a long run of comment lines in one pass (a multi-line regex took minutes, or overflowed the stack)', () => {
    expect(firstMeaningfulLine('#\n'.repeat(200_000), /^kind:/)).toBe(false);
    expect(firstMeaningfulLine(`${'#\n'.repeat(200_000)}kind: Job`, /^kind:/)).toBe(true);
  });
});
