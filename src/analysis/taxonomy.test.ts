// The failure taxonomy on real logs: the 24 failure logs of test/fixtures/build-logs (with the line an
// expert names as the root cause), the real-world excerpts of test/fixtures/failure-excerpts (captured
// here or quoted from public issues, each with its source), the reason rules, the tie-break, and
// properties (deterministic, never throws, linear on a 1 MB log).
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failureCases, readCaseLog, SYNTHETIC_CASCADES } from '../../test/fixtures/build-logs/cases.ts';
import {
  CATEGORY_LABELS,
  type Classification,
  classifyFailure,
  FAILURE_CATEGORIES,
  type FailureCategory,
  repeatedMistakes,
} from './taxonomy.ts';

const EXCERPTS = new URL('../../test/fixtures/failure-excerpts/', import.meta.url);

interface Excerpt {
  file: string;
  category: FailureCategory;
  /** A substring of the line the classifier must give as evidence. */
  evidence: string;
  /** Where the wording comes from: a public URL, or "captured here: <command>". */
  source: string;
}

const excerpts: Excerpt[] = JSON.parse(readFileSync(new URL('cases.json', EXCERPTS), 'utf8'));
const readExcerpt = (file: string) => readFileSync(new URL(file, EXCERPTS), 'utf8');

const expectWellFormed = (c: Classification) => {
  expect(FAILURE_CATEGORIES).toContain(c.category);
  expect(c.evidence.length).toBeGreaterThan(0);
  expect(c.evidence.length).toBeLessThanOrEqual(300);
  expect(c.evidence).toBe(c.evidence.trim());
};

describe('categories', () => {
  it('have a label each', () => {
    expect(Object.keys(CATEGORY_LABELS).sort()).toEqual([...FAILURE_CATEGORIES].sort());
    expect(CATEGORY_LABELS['missing-file']).toBe('Wrong path or missing file');
    expect(CATEGORY_LABELS.tls).toBe('TLS / CA certificates');
  });
});

describe('the build-log fixtures', () => {
  it('all have an expected category', () => {
    const cases = failureCases();
    expect(cases).toHaveLength(24);
    for (const c of cases) expect(FAILURE_CATEGORIES).toContain(c.category);
  });

  // Every one of the 24 is decided by the expert's root-cause line, so that line is the evidence.
  it.each(failureCases())('$file is $category, decided by its root-cause line', (c) => {
    const result = classifyFailure({ diagnostics: readCaseLog(c.file) });
    expect(result.category).toBe(c.category);
    expect(result.evidence).toContain(c.rootCause);
    expectWellFormed(result);
    // The same text as the log tail instead of the diagnostics decides the same way.
    expect(classifyFailure({ log: readCaseLog(c.file) })).toEqual(result);
  });

  // Hundreds of consequence lines after the root cause do not change the category or the evidence.
  it.each(SYNTHETIC_CASCADES)('$name keeps the root cause', (cascade) => {
    const base = failureCases().find((c) => c.file === cascade.base)!;
    const result = classifyFailure({ diagnostics: cascade.log() });
    expect(result.category).toBe(base.category);
    expect(result.evidence).toContain(cascade.rootCause);
  });
});

describe('the real-world excerpts', () => {
  it('are listed in cases.json, one entry per log, each with a source', () => {
    const logs = readdirSync(EXCERPTS)
      .filter((f) => f.endsWith('.log'))
      .sort();
    expect(excerpts.map((e) => e.file).sort()).toEqual(logs);
    expect(excerpts.length).toBeGreaterThanOrEqual(20);
    for (const e of excerpts) {
      expect(e.source).toMatch(/^(https:\/\/\S+|captured here: .+)$/);
      const text = readExcerpt(e.file);
      expect(text).toContain(e.evidence);
      const lines = text.trimEnd().split('\n').length;
      expect(lines).toBeGreaterThanOrEqual(3);
      expect(lines).toBeLessThanOrEqual(40);
    }
  });

  it.each(excerpts)('$file is $category', (e) => {
    const result = classifyFailure({ log: readExcerpt(e.file) });
    expect(result.category).toBe(e.category);
    expect(result.evidence).toContain(e.evidence);
    expectWellFormed(result);
  });

  it('as operator diagnostics with a generic reason, decide the same way', () => {
    for (const e of excerpts) {
      const result = classifyFailure({ reason: 'RunFailed', diagnostics: readExcerpt(e.file) });
      expect([e.file, result.category]).toEqual([e.file, e.category]);
    }
  });
});

describe('reason rules', () => {
  it.each([
    ['ImagePullBackOff', 'image-pull', 'reason-image-pull'],
    ['ErrImagePull', 'image-pull', 'reason-image-pull'],
    ['ErrImageNeverPull', 'image-pull', 'reason-image-pull'],
    // The operator's own name for a pull that failed (src/step/conditions.ts).
    ['ImagePullFailed', 'image-pull', 'reason-image-pull'],
    ['InvalidImageName', 'image-pull', 'reason-image-pull'],
    ['OOMKilled', 'oom', 'reason-oom'],
    ['DeadlineExceeded', 'deadline', 'reason-deadline'],
    ['Timeout', 'deadline', 'reason-deadline'],
    ['PolicyRefused', 'policy', 'reason-policy'],
    ['PodSecurityRefused', 'policy', 'reason-policy'],
    ['InvalidArtifact', 'unparsable-artifact', 'reason-unparsable-artifact'],
    ['UnparsableAnswer', 'unparsable-artifact', 'reason-unparsable-artifact'],
  ] as const)('%s alone is %s', (reason, category, rule) => {
    expect(classifyFailure({ reason })).toEqual({ category, evidence: reason, rule });
  });

  it('give the message as evidence with the reason', () => {
    expect(
      classifyFailure({
        reason: 'OOMKilled',
        message: 'container main was killed for running out of memory (exit code 137)\nmore',
      }),
    ).toEqual({
      category: 'oom',
      evidence: 'OOMKilled: container main was killed for running out of memory (exit code 137)',
      rule: 'reason-oom',
    });
  });

  it('decide before any line', () => {
    const result = classifyFailure({
      reason: 'PolicyRefused',
      log: 'E: Unable to locate package libfoo-dev',
    });
    expect(result.category).toBe('policy');
    expect(result.rule).toBe('reason-policy');
  });

  it('match the whole reason, ignoring case and surrounding blanks', () => {
    expect(classifyFailure({ reason: ' oomkilled ' }).category).toBe('oom');
    expect(classifyFailure({ reason: 'NotOOMKilledReally' }).rule).toBe('fallback');
  });

  it('leave other reasons to the lines', () => {
    expect(
      classifyFailure({ reason: 'CrashLoopBackOff', log: 'bash: line 1: lmp: command not found' }),
    ).toEqual({
      category: 'wrong-command',
      evidence: 'bash: line 1: lmp: command not found',
      rule: 'command-not-found',
    });
  });
});

describe('no deciding line', () => {
  it('an empty input is other, and says nothing was recorded', () => {
    expect(classifyFailure({})).toEqual({
      category: 'other',
      evidence: 'no reason, message or log was recorded',
      rule: 'fallback',
    });
    expect(classifyFailure({ reason: '', message: '  ', diagnostics: '\n\n', log: '' })).toEqual(
      classifyFailure({}),
    );
  });

  it('a reason no rule knows is the evidence', () => {
    expect(classifyFailure({ reason: 'BuildFailed' })).toEqual({
      category: 'other',
      evidence: 'BuildFailed',
      rule: 'fallback',
    });
  });

  it('the reason and the first line of the message are the evidence', () => {
    expect(classifyFailure({ reason: 'RunFailed', message: '\nthe job ran for 3 s\nthen stopped' })).toEqual({
      category: 'other',
      evidence: 'RunFailed: the job ran for 3 s',
      rule: 'fallback',
    });
  });

  it('without reason or message, the last line of the text is the evidence', () => {
    expect(classifyFailure({ log: 'step 1 done\nstep 2 done\n\n' })).toEqual({
      category: 'other',
      evidence: 'step 2 done',
      rule: 'fallback',
    });
  });
});

describe('tie-break', () => {
  it('the highest rule wins wherever its line is', () => {
    // The DNS failure comes last, in the log; the missing package it caused comes first.
    const result = classifyFailure({
      diagnostics: 'E: Unable to locate package libhdf5-dev',
      message: 'the build failed',
      log: "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'",
    });
    expect(result.category).toBe('network');
    expect(result.evidence).toContain("Temporary failure resolving 'deb.debian.org'");
  });

  it('among lines of the same rule, diagnostics come before the message and the log', () => {
    const header = (name: string) => `${name}.c:1:10: fatal error: ${name}.h: No such file or directory`;
    expect(
      classifyFailure({ diagnostics: header('b'), message: header('a'), log: header('c') }).evidence,
    ).toBe(header('b'));
    expect(classifyFailure({ message: header('a'), log: header('c') }).evidence).toBe(header('a'));
    expect(classifyFailure({ log: `${header('c')}\n${header('d')}` }).evidence).toBe(header('c'));
  });

  it('TLS decides over the git failure it causes, and over the missing package after it', () => {
    const result = classifyFailure({
      log: [
        "Cloning into 'solver'...",
        "fatal: unable to access 'https://github.com/example/solver.git/': server certificate verification failed. CAfile: none CRLfile: none",
        'E: Unable to locate package solver',
      ].join('\n'),
    });
    expect(result.rule).toBe('tls');
  });

  it('a missing header decides over the compile errors it causes', () => {
    const result = classifyFailure({
      log: [
        "solver.c:12:3: error: unknown type name 'hid_t'",
        'io.c:2:10: fatal error: hdf5.h: No such file or directory',
      ].join('\n'),
    });
    expect(result).toEqual({
      category: 'missing-header-or-library',
      evidence: 'io.c:2:10: fatal error: hdf5.h: No such file or directory',
      rule: 'missing-header-or-library',
    });
  });

  it('a compile error decides over the binary that is then not found', () => {
    const result = classifyFailure({
      log: ["main.c:3:5: error: expected ';' before 'return'", './run.sh: 4: ./solver: not found'].join('\n'),
    });
    expect(result.category).toBe('compile-error');
  });

  it("a rank's own error decides over MPI's report of its death", () => {
    const abort = 'MPI_ABORT was invoked on rank 1 in communicator MPI_COMM_WORLD';
    expect(classifyFailure({ log: `${abort}\nKeyError: 'timestep'` })).toEqual({
      category: 'other',
      evidence: "KeyError: 'timestep'",
      rule: 'other-error-line',
    });
    expect(classifyFailure({ log: `${abort}\nwith errorcode 2.` })).toEqual({
      category: 'mpi',
      evidence: abort,
      rule: 'mpi-consequence',
    });
  });

  it('a launch failure decides over the time limit it ran into', () => {
    const result = classifyFailure({
      log: [
        '0.778s: flux-shell[1]: FATAL: task 0: start failed: stress: No such file or directory',
        '5.488s: job.exception type=timeout severity=0 resource allocation expired',
      ].join('\n'),
    });
    expect(result.category).toBe('wrong-command');
    expect(classifyFailure({ log: '5.488s: job.exception type=timeout severity=0' }).category).toBe(
      'deadline',
    );
  });
});

describe('lines as a terminal shows them', () => {
  it('without colours, after the last carriage return, trimmed', () => {
    const result = classifyFailure({
      log: 'progress 10%\rprogress 90%\r\u001b[31m==> Error: Package \u001b[1mfoo\u001b[0m not found.\u001b[0m  \r\n',
    });
    expect(result).toEqual({
      category: 'missing-package',
      evidence: '==> Error: Package foo not found.',
      rule: 'missing-package',
    });
  });

  it('a long line is cut to 300 characters around its match', () => {
    const line = `${'x'.repeat(500)} E: Unable to locate package nope ${'y'.repeat(500)}`;
    const result = classifyFailure({ log: `  ${line}` });
    expect(result.category).toBe('other');
    const pip = `WARNING: ${'retrying '.repeat(40)}Failed to establish a new connection: [Errno -3] Temporary failure in name resolution ${'z'.repeat(400)}`;
    const network = classifyFailure({ log: pip });
    expect(network.category).toBe('network');
    expect(network.evidence.length).toBe(300);
    expect(network.evidence).toContain('Temporary failure in name resolution');
    expect(network.evidence.startsWith('…')).toBe(true);
    expect(network.evidence.endsWith('…')).toBe(true);
    const start = `E: Unable to locate package ${'p'.repeat(400)}`;
    expect(classifyFailure({ log: start }).evidence).toBe(`${start.slice(0, 299)}…`);
  });
});

describe('repeatedMistakes', () => {
  it('lists the categories a group falls into at attempt 1 in at least 2 repetitions', () => {
    const firstAttempts = [
      { group: 'gpt/lammps', repetition: 1, category: 'tls' as const },
      { group: 'gpt/lammps', repetition: 2, category: 'tls' as const },
      { group: 'gpt/lammps', repetition: 3, category: 'missing-package' as const },
      { group: 'gpt/lammps', repetition: 4, category: 'tls' as const },
      { group: 'gpt/lammps', repetition: 5, category: 'missing-package' as const },
      { group: 'gpt/amg', repetition: 1, category: 'compile-error' as const },
      { group: 'gpt/amg', repetition: 2, category: 'missing-header-or-library' as const },
      { group: 'gpt/amg', repetition: 3, category: 'compile-error' as const },
      { group: 'gemini/amg', repetition: 1, category: 'compile-error' as const },
      { group: 'gemini/amg', repetition: 2, category: 'compile-error' as const },
      // the same repetition twice counts once
      { group: 'gemini/amg', repetition: 2, category: 'compile-error' as const },
      { group: 'gemini/lammps', repetition: 1, category: 'oom' as const },
    ];
    const expected = [
      { group: 'gpt/lammps', category: 'tls', repetitions: 3, of: 5 },
      { group: 'gemini/amg', category: 'compile-error', repetitions: 2, of: 2 },
      { group: 'gpt/amg', category: 'compile-error', repetitions: 2, of: 3 },
      { group: 'gpt/lammps', category: 'missing-package', repetitions: 2, of: 5 },
    ];
    expect(repeatedMistakes(firstAttempts)).toEqual(expected);
    expect(repeatedMistakes([...firstAttempts].reverse())).toEqual(expected);
    expect(repeatedMistakes([])).toEqual([]);
  });
});

describe('properties', () => {
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 400 }),
    // error-like fragments, so that the rules fire and compete
    fc
      .array(
        fc.constantFrom(
          'error: ',
          'fatal error: x.h: No such file or directory',
          'a.c:1:2: ',
          ':1',
          '(3): error: ',
          'E: Unable to locate package ',
          'Could NOT find ',
          'undefined reference to ',
          'MPI_ABORT was invoked',
          'server certificate verification failed',
          'Could not resolve host',
          '\u001b[31m',
          '\r',
          '\n',
          ' ',
          'file',
          ' does not exist',
          'Traceback',
          'KeyError: ',
        ),
        { maxLength: 60 },
      )
      .map((parts) => parts.join('')),
  );
  const evidence = fc.record(
    {
      reason: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('OOMKilled', 'BuildFailed', 'Timeout')),
      message: text,
      diagnostics: text,
      log: text,
    },
    { requiredKeys: [] },
  );

  it('is deterministic, never throws and always gives a category and evidence', () => {
    fc.assert(
      fc.property(evidence, (input) => {
        const first = classifyFailure(input);
        expect(classifyFailure(structuredClone(input))).toEqual(first);
        expectWellFormed(first);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('runs in bounded time on 1 MB logs', () => {
    const MB = 1 << 20;
    const fill = (unit: string) => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);
    const logs = [
      // one line without blanks, and one of blanks
      fill('x'),
      `${fill(' ')}x`,
      // 2,000-character lines (the most matched of a line) of colon-separated numbers (the compiler
      // rule's worst case), and of words that start patterns and never complete them
      fill(`${'a:1:'.repeat(499)}\n`),
      fill(`${'file '.repeat(399)}\n`),
      fill(`${'cannot open '.repeat(160)}\n`),
      fill(`${'fatal error: '.repeat(150)}\n`),
      fill(`make: ${'a:'.repeat(990)}\n`),
      // a megabyte of ordinary build noise, then the root cause
      `${fill('[ 42%] Building CXX object src/CMakeFiles/app.dir/solver.cpp.o\n')}\nio.c:2:10: fatal error: hdf5.h: No such file or directory\n`,
    ];
    const started = performance.now();
    const results = logs.map((log) => classifyFailure({ log }));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(results.at(-1)).toEqual({
      category: 'missing-header-or-library',
      evidence: 'io.c:2:10: fatal error: hdf5.h: No such file or directory',
      rule: 'missing-header-or-library',
    });
    for (const r of results) expectWellFormed(r);
  });
});
