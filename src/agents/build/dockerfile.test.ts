import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkDockerfile,
  dockerfileDigest,
  imageName,
  imageReference,
  instructions,
  readDockerfileAnswer,
} from './dockerfile.ts';

const LAMMPS = `# LAMMPS for CPU
FROM ubuntu:24.04
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update && \\
    apt-get install -y --no-install-recommends ca-certificates git cmake g++ libopenmpi-dev && \\
    rm -rf /var/lib/apt/lists/*
RUN git clone --depth 1 https://github.com/lammps/lammps /opt/lammps
WORKDIR /opt/lammps/build
RUN cmake ../cmake && make -j4 && cp lmp /usr/local/bin/lmp
`;

describe('checkDockerfile', () => {
  it.each([
    { name: 'a plain single-stage Dockerfile', given: LAMMPS },
    { name: 'an ARG before FROM', given: 'ARG BASE=ubuntu:24.04\nFROM $BASE\nRUN true' },
    { name: 'ADD of a remote URL', given: 'FROM alpine\nADD https://example.org/src.tar.gz /tmp/' },
    { name: 'COPY inside a heredoc is text', given: 'FROM alpine\nRUN cat <<EOF > /a\nCOPY x y\nEOF\n' },
    { name: 'a lower-case from', given: 'from alpine\nrun true' },
  ])('accepts $name', ({ given }) => {
    expect(checkDockerfile(given)).toEqual({ ok: true, dockerfile: given.trim() });
  });

  it.each([
    {
      name: 'no FROM first',
      given: 'RUN apt-get update\nFROM ubuntu',
      want: /must start with FROM, not RUN/,
    },
    { name: 'an empty answer', given: '# nothing\n', want: /no instructions/ },
    {
      name: 'a multi-stage build',
      given: 'FROM gcc AS build\nRUN make\nFROM ubuntu\nRUN true',
      want: /2 FROM instructions; multi-stage/,
    },
    {
      name: 'COPY of local files',
      given: 'FROM ubuntu\nCOPY . /src',
      want: /COPY on line 2 needs local files/,
    },
    { name: 'ADD of local files', given: 'FROM ubuntu\nADD app.tar /opt', want: /ADD on line 2/ },
    {
      name: 'COPY after a continuation',
      given: 'FROM ubuntu\nRUN a && \\\n  b\nCOPY x /x',
      want: /COPY on line 4/,
    },
  ])('refuses $name', ({ given, want }) => {
    const result = checkDockerfile(given);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.explanation).toMatch(want);
    expect(result.explanation).toMatch(/single-stage Dockerfile that starts with FROM/);
    expect(result.explanation.split('\n')).toHaveLength(1);
  });

  it('lists every problem in one paragraph', () => {
    const result = checkDockerfile('COPY a b\nFROM x\nFROM y');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.line)).toEqual([1, 3, 1]);
  });

  it('joins continuation lines and skips comments inside them', () => {
    expect(instructions('FROM a\nRUN one \\\n  # note\n  two').map((i) => [i.keyword, i.args])).toEqual([
      ['FROM', 'a'],
      ['RUN', 'one two'],
    ]);
  });
});

describe('image names', () => {
  it.each([
    { given: 'LAMMPS', want: 'lammps' },
    { given: 'OpenFOAM v2312 (CPU)', want: 'openfoam-v2312-cpu' },
    { given: '_x', want: 'xc' },
    { given: 'a'.repeat(80), want: 'a'.repeat(63) },
  ])('imageName($given) is $want', ({ given, want }) => {
    expect(imageName(given)).toBe(want);
  });

  it('tags with the first 12 hex digits of the SHA-256 of the Dockerfile', () => {
    const sha = createHash('sha256').update(LAMMPS).digest('hex');
    expect(dockerfileDigest(LAMMPS)).toBe(sha.slice(0, 12));
    expect(imageReference('registry.fractale:5000', 'lammps', LAMMPS)).toBe(
      `registry.fractale:5000/lammps:${sha.slice(0, 12)}`,
    );
  });

  it.each([
    {
      name: 'a trailing slash on the registry',
      registry: 'ghcr.io/me/',
      image: 'lammps',
      want: 'ghcr.io/me/lammps',
    },
    { name: 'a tag in the name', registry: 'ghcr.io/me', image: 'lammps:latest', want: 'ghcr.io/me/lammps' },
    {
      name: 'a name that has the registry',
      registry: 'ghcr.io/me',
      image: 'ghcr.io/me/lammps',
      want: 'ghcr.io/me/lammps',
    },
    { name: 'a port and no tag', registry: 'localhost:5000', image: 'app', want: 'localhost:5000/app' },
  ])('builds the reference with $name', ({ registry, image, want }) => {
    expect(imageReference(registry, image, 'FROM x')).toBe(`${want}:${dockerfileDigest('FROM x')}`);
  });

  it('gives a changed Dockerfile a new tag', () => {
    expect(dockerfileDigest(LAMMPS)).not.toBe(dockerfileDigest(`${LAMMPS}RUN true\n`));
  });
});

describe('readDockerfileAnswer', () => {
  it.each([
    { name: 'a dockerfile block', answer: `Sure:\n\`\`\`dockerfile\n${LAMMPS}\`\`\`` },
    { name: 'a bare Dockerfile with a leading comment', answer: LAMMPS },
  ])('reads $name', ({ answer }) => {
    expect(readDockerfileAnswer(answer)).toEqual({ ok: true, dockerfile: LAMMPS.trim() });
  });

  it('reads a bare Dockerfile that starts with ARG lines', () => {
    const answer = `ARG VERSION=1\nARG BASE=ubuntu\n${LAMMPS}`;
    expect(readDockerfileAnswer(answer)).toEqual({ ok: true, dockerfile: answer.trim() });
  });

  it.each([
    { name: 'prose', answer: 'You should use ubuntu.', says: /no ```dockerfile code block/ },
    { name: 'a multi-stage block', answer: '```dockerfile\nFROM a AS b\nFROM c\n```', says: /multi-stage/ },
    // Found while probing hostile answers: the bare-Dockerfile regex overflowed the stack on a long run of comment lines.
    { name: '2.5 million comment lines', answer: '#\n'.repeat(2_500_000), says: /larger than the 256 KiB/ },
    { name: 'comment lines, then prose', answer: `${'#\n'.repeat(100_000)}hello`, says: /no ```dockerfile/ },
  ])('refuses $name', ({ answer, says }) => {
    const result = readDockerfileAnswer(answer);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.explanation).toMatch(says);
  });
});

describe('a refusal of a long answer', () => {
  // Found by test/fuzz: a first line that is not an instruction was quoted whole (220 KB of JSON).
  it('quotes the first line cut short, and lists what fits', () => {
    const result = checkDockerfile(`${'{"a": 1}, '.repeat(20_000)}\n${'COPY x /x\n'.repeat(500)}`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.explanation.length).toBeLessThanOrEqual(1800);
    expect(result.explanation).toMatch(/must start with FROM, not "\{\\"A\\": 1\}.{10,80}…"/);
    expect(result.explanation).toMatch(/and \d+ more\. Write a single-stage Dockerfile/);
  });
});
