// The figure-of-merit parsers on real logs: test/fixtures/figures holds verbatim excerpts of LAMMPS,
// AMG2023, HPL and OSU micro-benchmark output (cases.json gives each one's figure and its public
// source; an "error" instead of a value is a log the parser must refuse, with that wording). Then the
// decisions (the last run wins, HPL's residual check, OSU's sizes), regex specs, the schema's errors,
// bounded time on 5 MB logs, and that parseFigure never throws.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DIRECTION,
  FIGURE_PARSERS,
  type FigureParserName,
  type FigureResult,
  type FigureSpec,
  figureSpecSchema,
  MAX_LINE,
  MAX_REGEX_LINE,
  parseFigure,
  parseLogNumber,
  regexProblem,
} from './figure.ts';

const FIXTURES = new URL('../../../test/fixtures/figures/', import.meta.url);

interface Case {
  file: string;
  parser: FigureParserName;
  value?: number;
  unit?: string;
  /** For a log the parser must refuse: a substring of the error. */
  error?: string;
  /** Where the log comes from: a public URL pinned to a commit. */
  source: string;
}

const cases: Case[] = JSON.parse(readFileSync(new URL('cases.json', FIXTURES), 'utf8'));
const read = (file: string) => readFileSync(new URL(file, FIXTURES), 'utf8');

const figure = (result: FigureResult) => {
  if (!result.ok) throw new Error(`expected a figure, got: ${result.error}`);
  return result.figure;
};
const error = (result: FigureResult) => {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.figure)}`);
  return result.error;
};

describe('the named parsers on real logs', () => {
  it.each(cases.map((c) => [`${c.parser} ${c.file}`, c] as const))('%s', (_, c) => {
    expect(c.source).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+\/blob\/[0-9a-f]{40}\//);
    const result = parseFigure({ parser: c.parser }, read(c.file));
    if (c.error !== undefined) {
      expect(error(result)).toContain(c.error);
      return;
    }
    const f = figure(result);
    expect(f.value).toBe(c.value);
    expect(f.unit).toBe(c.unit);
    expect(f.direction).toBe(DEFAULT_DIRECTION[c.parser]);
    expect(f.line).toBe(f.line.trim());
    expect(f.line.length).toBeLessThanOrEqual(300);
    expect(read(c.file)).toContain(f.line);
  });

  it('has at least two real logs with a figure for every parser', () => {
    for (const parser of FIGURE_PARSERS) {
      expect(cases.filter((c) => c.parser === parser && c.value !== undefined).length).toBeGreaterThanOrEqual(
        2,
      );
    }
  });

  it('defaults the direction per parser, and a spec may override it', () => {
    expect(DEFAULT_DIRECTION).toEqual({
      'lammps-timesteps': 'higher',
      'lammps-loop-time': 'lower',
      'amg-fom': 'higher',
      'hpl-gflops': 'higher',
      'osu-latency': 'lower',
      'osu-bandwidth': 'higher',
    });
    const log = read('osu-latency-5.8-tcp.log');
    expect(figure(parseFigure({ parser: 'osu-latency', direction: 'higher' }, log)).direction).toBe('higher');
  });

  it('names each figure and gives the line it came from', () => {
    expect(
      figure(parseFigure({ parser: 'lammps-timesteps' }, read('lammps-reaxff-hns-30Nov23.log'))),
    ).toEqual({
      value: 15.075,
      unit: 'timesteps/s',
      name: 'timesteps per second',
      direction: 'higher',
      line: 'Performance: 0.130 ns/day, 184.259 hours/ns, 15.075 timesteps/s, 36.663 katom-step/s',
    });
    expect(figure(parseFigure({ parser: 'amg-fom' }, read('amg2023-problem2-4nodes.log')))).toEqual({
      value: 1.400566e8,
      unit: 'nnz_AP/s',
      name: 'AMG2023 Figure of Merit (FOM)',
      direction: 'higher',
      line: 'Figure of Merit (FOM): nnz_AP / (Setup Phase Time + 3 * Solve Phase Time) 1.400566e+08',
    });
    expect(figure(parseFigure({ parser: 'amg-fom' }, read('amg-fom1-metrics-operator.log'))).name).toBe(
      'AMG2023 Figure of Merit (FOM_1)',
    );
    expect(figure(parseFigure({ parser: 'hpl-gflops' }, read('hpl-2.0-six-tests.log')))).toMatchObject({
      name: 'HPL Gflops',
      line: 'WR10L2L2      100000  1024     2     2             173.30              3.847e+03',
    });
    expect(
      figure(parseFigure({ parser: 'osu-latency' }, read('osu-latency-7.5-validation.log'))),
    ).toMatchObject({
      name: 'OSU latency (1-byte messages)',
      line: '1                       3.00              Pass',
    });
    expect(figure(parseFigure({ parser: 'osu-bandwidth' }, read('osu-bw-5.8-infiniband.log')))).toMatchObject(
      {
        name: 'OSU bandwidth (4194304-byte messages)',
        line: '4194304             24453.38',
      },
    );
  });
});

describe('LAMMPS: the last run wins', () => {
  const melt = read('lammps-melt-lj-8Apr21.log');
  const eam = read('lammps-eam-metal-16Mar18.log');

  it('takes the second of two runs in one log', () => {
    const log = read('lammps-indent-two-runs-27Nov18.log');
    expect(log).toContain('25885.938 timesteps/s');
    expect(figure(parseFigure({ parser: 'lammps-timesteps' }, log)).value).toBe(33202.131);
    expect(figure(parseFigure({ parser: 'lammps-loop-time' }, log)).value).toBe(0.903556);
  });

  it('takes whichever run came last when two logs are concatenated', () => {
    expect(figure(parseFigure({ parser: 'lammps-timesteps' }, melt + eam)).value).toBe(95.697);
    expect(figure(parseFigure({ parser: 'lammps-timesteps' }, eam + melt)).value).toBe(509.34);
    expect(figure(parseFigure({ parser: 'lammps-loop-time' }, eam + melt)).value).toBe(0.490832);
  });

  it('reads the single-line form with the CPU use on it', () => {
    const line =
      'Performance: 2.356 ns/day, 10.187 hours/ns, 27.264 timesteps/s, 2.6% CPU use with 4 MPI tasks x 1 OpenMP threads';
    expect(figure(parseFigure({ parser: 'lammps-timesteps' }, `${line}\n`)).value).toBe(27.264);
    const loop = 'Loop time of 3.6681 on 4 procs for 100 steps with 304 atoms';
    expect(figure(parseFigure({ parser: 'lammps-loop-time' }, loop)).value).toBe(3.6681);
  });

  it('refuses a run cut before its Performance line, and nan or inf timesteps, naming the line', () => {
    const cut = melt.slice(0, melt.indexOf('Loop time of'));
    expect(error(parseFigure({ parser: 'lammps-timesteps' }, cut))).toBe(
      'no "Performance: ... timesteps/s" line in the log (LAMMPS prints it at the end of a run; a minimization, or a run that did not finish, has none)',
    );
    const nan = melt.replace('509.340 timesteps/s', '-nan timesteps/s');
    expect(error(parseFigure({ parser: 'lammps-timesteps' }, nan))).toBe(
      'timesteps per second: "-nan" is not a finite number in the line "Performance: 220034.754 tau/day, -nan timesteps/s"',
    );
    const inf = melt.replace('Loop time of 0.490832', 'Loop time of inf');
    expect(error(parseFigure({ parser: 'lammps-loop-time' }, inf))).toContain('"inf" is not a finite number');
  });
});

describe('AMG2023', () => {
  const log = read('amg2023-problem2-4nodes.log');

  it('says the run did not finish when only the setup phase printed its figure', () => {
    const setupOnly = log.slice(0, log.indexOf('FOM_Solve'));
    expect(setupOnly).toContain('FOM_Setup: nnz_AP / Setup Phase Time: 3.727079e+08');
    expect(error(parseFigure({ parser: 'amg-fom' }, setupOnly))).toBe(
      'no "Figure of Merit (FOM): ..." line in the log, though it has "FOM_Setup": AMG2023 prints the figure of merit last, after the solve phase, so the run did not finish',
    );
    expect(error(parseFigure({ parser: 'amg-fom' }, 'Running with these driver parameters:\n'))).toBe(
      'no "Figure of Merit (FOM): ..." line in the log (AMG2023 prints it last, after the solve phase)',
    );
  });

  it('reads the short form of the line that 2023 versions print', () => {
    expect(
      figure(parseFigure({ parser: 'amg-fom' }, '\n\nFigure of Merit (FOM): 1.148604e+09\n\n')).value,
    ).toBe(1.148604e9);
  });

  it('leaves the phase figures to a regex', () => {
    const solve: FigureSpec = {
      regex: '^FOM_Solve:.*: ([0-9.e+-]+)$',
      direction: 'higher',
      name: 'FOM_Solve',
    };
    expect(figure(parseFigure(solve, log)).value).toBe(6.731127e8);
    expect(figure(parseFigure(solve, read('amg2023-problem2-two-runs.log'))).value).toBe(5.534702e8);
  });
});

describe('HPL', () => {
  it('takes the last result line, not the best', () => {
    const log = read('hpl-2.3-interrupted.log');
    expect(log).toContain('4.6178e-06');
    expect(figure(parseFigure({ parser: 'hpl-gflops' }, log)).value).toBe(3.9376e-6);
  });

  it('refuses the result when its residual check FAILED, quoting both lines', () => {
    expect(error(parseFigure({ parser: 'hpl-gflops' }, read('hpl-intel-failed-residual.log')))).toBe(
      `HPL's residual check FAILED for the last result "WR00L2L4      102144   384     1     2             349.99            2.03000e+03": "||Ax-b||_oo/(eps*(||A||_oo*||x||_oo+||b||_oo)*N)=   870806.8870057 ...... FAILED"; the solution is wrong, so its Gflops do not count (check the BLAS, the MPI and the memory; rerun)`,
    );
  });

  it("judges the last result by its own residual check, not an earlier test's", () => {
    const passed = read('hpl-intel-passed.log');
    const failed = read('hpl-intel-failed-residual.log');
    expect(figure(parseFigure({ parser: 'hpl-gflops' }, failed + passed)).value).toBe(1970.31);
    expect(parseFigure({ parser: 'hpl-gflops' }, passed + failed).ok).toBe(false);
  });

  it('ignores the header, the progress lines and the HPL.dat echo', () => {
    const log = [
      'T/V                N    NB     P     Q               Time                 Gflops',
      'Column=000000192 Fraction= 0.7% Gflops=1.234e+02',
      'N      :   29184',
    ].join('\n');
    expect(error(parseFigure({ parser: 'hpl-gflops' }, log))).toContain('no HPL result line');
  });
});

describe('OSU micro-benchmarks', () => {
  it('takes the smallest size of at least 1 byte for latency and the largest for bandwidth', () => {
    const latency = read('osu-latency-5.8-tcp.log');
    expect(latency).toContain('0                       1.82');
    expect(figure(parseFigure({ parser: 'osu-latency' }, latency)).value).toBe(1.77);
    expect(figure(parseFigure({ parser: 'osu-bandwidth' }, read('osu-bw-5.8-infiniband.log'))).value).toBe(
      24453.38,
    );
  });

  it('takes the last table of several', () => {
    const log = read('osu-latency-5.8-infiniband.log') + read('osu-latency-5.8-tcp.log');
    expect(figure(parseFigure({ parser: 'osu-latency' }, log)).value).toBe(1.77);
  });

  it('refuses a table whose validation failed', () => {
    const log = read('osu-latency-7.5-validation.log').replace(/(8192 +7\.92 +)Pass/, '$1Fail');
    expect(error(parseFigure({ parser: 'osu-latency' }, log))).toBe(
      `OSU's validation failed at 8192 bytes ("8192                    7.92              Fail"): the messages arrived wrong, so the latency does not count`,
    );
  });

  it('says when the table has no rows to read', () => {
    expect(
      error(
        parseFigure(
          { parser: 'osu-bandwidth' },
          '# OSU MPI Bandwidth Test v7.5\n# Size      Bandwidth (MB/s)\n',
        ),
      ),
    ).toBe('the last OSU bandwidth table has no rows (the benchmark may have died before printing them)');
    expect(
      error(
        parseFigure(
          { parser: 'osu-latency' },
          '# Size          Latency (us)\n0                       1.61\n',
        ),
      ),
    ).toContain('no row for a message of 1 byte or more');
  });

  it('reads Windows line ends and stops at the end of the table', () => {
    const crlf = read('osu-bw-5.8-tcp.log').replace(/\n/g, '\r\n');
    expect(figure(parseFigure({ parser: 'osu-bandwidth' }, crlf)).value).toBe(12453.77);
    const latency = read('osu-latency-5.8-infiniband.log');
    expect(latency).toMatch(/4194304 +179\.11\n\nreal/);
    expect(figure(parseFigure({ parser: 'osu-latency' }, `${latency}16 99.99\n`)).value).toBe(1.61);
  });
});

describe('regex specs', () => {
  const spec = (regex: string, more: Partial<FigureSpec> = {}): FigureSpec =>
    ({ regex, direction: 'lower', ...more }) as FigureSpec;

  it('takes the first group of the last match, with the name and unit of the spec', () => {
    const log = 'step 1 time 3.5 s\nstep 2 time 2.25 s\nnothing here\n';
    expect(figure(parseFigure(spec('time ([0-9.]+) s', { name: 'step time', unit: 's' }), log))).toEqual({
      value: 2.25,
      unit: 's',
      name: 'step time',
      direction: 'lower',
      line: 'step 2 time 2.25 s',
    });
    expect(figure(parseFigure(spec('t=(\\d+)'), 't=1 t=2 t=3'))).toMatchObject({
      value: 3,
      name: 'figure',
      unit: '',
    });
  });

  it('anchors ^ and $ at each line', () => {
    const log = 'a Total: 1\nTotal: 2\nTotal: 3 (partial)\n';
    expect(figure(parseFigure(spec('^Total: (\\d+)$'), log)).value).toBe(2);
  });

  it('reads exponents, signs and thousands separators', () => {
    expect(figure(parseFigure(spec('rate ([-+0-9.,eE]+)'), 'rate 1.2e+03\n')).value).toBe(1200);
    expect(figure(parseFigure(spec('rate ([-+0-9.,eE]+)'), 'rate 1,234.5\n')).value).toBe(1234.5);
    expect(figure(parseFigure(spec('rate (\\S+)'), 'rate -3\n')).value).toBe(-3);
    expect(parseLogNumber(' 12,345,678 ')).toEqual({ ok: true, value: 12345678 });
    expect(parseLogNumber('1e999')).toEqual({ ok: false, why: '"1e999" is not a finite number' });
    expect(parseLogNumber('NaN')).toEqual({ ok: false, why: '"NaN" is not a finite number' });
    expect(parseLogNumber('12abc')).toEqual({ ok: false, why: '"12abc" is not a number' });
  });

  it('refuses a capture that is not a finite number, naming the line', () => {
    expect(error(parseFigure(spec('rate (\\S+)', { name: 'rate' }), 'rate 2\nrate inf\n'))).toBe(
      'rate: "inf" is not a finite number in the line "rate inf"',
    );
    expect(error(parseFigure(spec('rate (\\S+)'), 'rate fast\n'))).toBe(
      'figure: "fast" is not a number in the line "rate fast"',
    );
  });

  it('says when nothing matches, and refuses a bad regex without throwing', () => {
    expect(error(parseFigure(spec('Time: ([0-9.]+)'), 'no figures\n'))).toBe(
      'no line of the log matches the regex "Time: ([0-9.]+)"',
    );
    expect(error(parseFigure(spec('Time: [0-9.]+'), 'Time: 1\n'))).toContain(
      'regex must have exactly one capture group, around the number; it has 0',
    );
    expect(error(parseFigure(spec('(Time): ([0-9.]+)'), 'Time: 1\n'))).toContain('it has 2');
    expect(error(parseFigure(spec('Time: ([0-9.]+'), 'Time: 1\n'))).toContain(
      'regex is not a valid regular expression',
    );
    expect(error(parseFigure(spec('(\\d+)\\'), 'Time: 1\n'))).toContain(
      'regex is not a valid regular expression',
    );
    expect(error(parseFigure({ regex: 'x(\\d)' } as FigureSpec, 'x1'))).toBe(
      'a regex figure needs a direction: "higher" or "lower"',
    );
  });

  it('refuses the shapes that backtrack exponentially, and only those it must', () => {
    for (const unsafe of [
      '(?:(a+)+)',
      '(?:a|ab)*(\\d)',
      '(?:(\\d+)\\s?)+',
      '(?:(\\d+)?)+',
      '(\\w+\\s*){2,}',
      '(x*)*',
    ]) {
      expect(regexProblem(unsafe), unsafe).toContain('exponential time');
    }
    for (const safe of [
      '([0-9.]+)',
      '(\\d+(?:\\.\\d+)?)',
      '^Total\\s+time\\s*=\\s*([\\d.eE+-]+)',
      '(?:ns|tau)/day, ([0-9.]+) timesteps/s',
      '([(+)]+) x{2}',
    ]) {
      expect(regexProblem(safe), safe).toBeUndefined();
    }
    // a character class of quantifier characters is not a quantifier; (\d+)+? still repeats a repetition
    expect(regexProblem('(\\d+)+?')).toContain('exponential time');
  });
});

describe('figureSpecSchema', () => {
  const issues = (input: unknown) => {
    const result = figureSpecSchema.safeParse(input);
    if (result.success) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
    return result.error.issues.map((i) => `${i.path.join('.') || '(spec)'}: ${i.message}`);
  };

  it('accepts both shapes as they are', () => {
    for (const input of [
      { parser: 'lammps-timesteps' },
      { parser: 'osu-latency', direction: 'higher' },
      { regex: 'Time: ([0-9.]+) s', direction: 'lower' },
      { regex: 'Rate: ([0-9.]+)', direction: 'higher', name: 'rate', unit: 'items/s' },
    ]) {
      expect(figureSpecSchema.parse(input)).toEqual(input);
    }
  });

  it('names the field and the fix', () => {
    expect(issues({ parser: 'lammps' })).toEqual([
      'parser: parser must be one of lammps-timesteps, lammps-loop-time, amg-fom, hpl-gflops, osu-latency, osu-bandwidth',
    ]);
    expect(issues({ regex: 'Time: ([0-9.]+)' })).toEqual([
      'direction: direction is required with regex: "higher" (bigger is better) or "lower" (smaller is better)',
    ]);
    expect(issues({ regex: 'Time: ([0-9.]+', direction: 'lower' })[0]).toMatch(
      /^regex: regex is not a valid regular expression \(.+\); e\.g\. "Time: \(\[0-9\.\]\+\) s"$/,
    );
    expect(issues({ regex: 'Time: [0-9.]+', direction: 'lower' })).toEqual([
      'regex: regex must have exactly one capture group, around the number; it has 0 (write (?:...) for a group that only groups), e.g. "Time: ([0-9.]+) s"',
    ]);
    expect(issues({ regex: '(Time): ([0-9.]+)', direction: 'lower' })[0]).toContain('it has 2');
    expect(issues({ regex: '(?:(\\d+)+)', direction: 'lower' })[0]).toMatch(/^regex: regex repeats a group/);
    expect(issues({ regex: '', direction: 'lower' })[0]).toMatch(/^regex: regex must not be empty/);
    expect(issues({ regex: `(${'a'.repeat(600)})`, direction: 'lower' })[0]).toMatch(
      /^regex: regex is 602 characters/,
    );
    expect(issues({ parser: 'amg-fom', direction: 'up' })).toEqual([
      'direction: direction must be "higher" (bigger is better, e.g. timesteps/s) or "lower" (smaller is better, e.g. seconds)',
    ]);
    expect(issues({ parser: 'amg-fom', unit: 's' })).toEqual([
      'unit: unit is only for a regex figure: the parser amg-fom names its own',
    ]);
    expect(issues({ parser: 'amg-fom', regex: '(x)', direction: 'lower' })).toEqual([
      'regex: give parser or regex, not both',
    ]);
    expect(issues({})).toEqual([
      '(spec): give parser or regex: a figure is {parser: "lammps-timesteps"} (or another parser) or {regex: "Time: ([0-9.]+) s", direction: "lower"}',
    ]);
    expect(issues({ parser: 'amg-fom', regexp: '(x)' })).toEqual([
      '(spec): unknown field regexp: a figure is {parser: "lammps-timesteps"} (or another parser) or {regex: "Time: ([0-9.]+) s", direction: "lower"} (with optional name and unit for a regex)',
    ]);
    expect(issues('lammps-timesteps')[0]).toMatch(/^\(spec\): must be an object: a figure is/);
    expect(issues({ regex: '(x)', direction: 'lower', name: '' })).toEqual([
      'name: name must not be empty, e.g. "solve time"',
    ]);
  });

  it('refuses what parseFigure refuses, and parseFigure reads what it accepts', () => {
    for (const regex of ['x', '(x', '(?:(x+)+)']) {
      expect(figureSpecSchema.safeParse({ regex, direction: 'lower' }).success).toBe(false);
      expect(parseFigure({ regex, direction: 'lower' }, 'x').ok).toBe(false);
    }
    expect(parseFigure({ parser: 'lammps' } as unknown as FigureSpec, '').ok).toBe(false);
    expect(error(parseFigure({ parser: 'lammps' } as unknown as FigureSpec, ''))).toBe(
      'parser must be one of lammps-timesteps, lammps-loop-time, amg-fom, hpl-gflops, osu-latency, osu-bandwidth, or give a regex',
    );
  });
});

/** A deterministic pseudo-random log of `bytes` characters: words, numbers and the parsers' cue words. */
function randomLog(bytes: number, seed: number): string {
  const words = [
    'Performance:',
    'timesteps/s',
    'Loop',
    'time',
    'of',
    'on',
    'Figure of Merit (FOM',
    'FOM_Setup:',
    'WR11C2R4',
    '||Ax-b||_oo',
    'PASSED',
    'FAILED',
    '# Size',
    'Latency (us)',
    'Bandwidth (MB/s)',
    '#',
    'nan',
    '1.5e+03',
    '42',
    '0.001',
    ',',
    '(',
    ')',
  ];
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    const r = next();
    const part =
      r % 7 === 0
        ? '\n'
        : r % 11 === 0
          ? String.fromCharCode(32 + (next() % 95)).repeat(next() % 50)
          : words[r % words.length]!;
    parts.push(part, r % 3 === 0 ? '' : ' ');
    length += part.length + 1;
  }
  return parts.join('').slice(0, bytes);
}

describe('untrusted logs', () => {
  const specs: FigureSpec[] = [
    ...FIGURE_PARSERS.map((parser) => ({ parser })),
    { regex: 'time ([0-9.]+) s', direction: 'lower' },
    { regex: '^.*Performance:.*?([0-9.]+) timesteps/s', direction: 'higher' },
  ];

  it('reads 5 MB logs in bounded time', () => {
    const MB5 = 5 << 20;
    const fill = (unit: string) => unit.repeat(Math.ceil(MB5 / unit.length)).slice(0, MB5);
    const logs = [
      randomLog(MB5, 7),
      fill('x'), // one line, no break
      fill('\n'),
      fill('\r'),
      fill(`Performance: ${'9'.repeat(MAX_LINE * 2)}\n`),
      // the second regex is quadratic in a line like this: lines are cut to MAX_REGEX_LINE for a regex
      fill(`Performance: ${'9'.repeat(MAX_REGEX_LINE - 14)}\n`),
      fill(`# Size      Bandwidth (MB/s)\n${'1 2\n'.repeat(50)}`),
      fill(`WR11C2R4 ${'1 '.repeat(3000)}\n`),
      fill(`${' '.repeat(3000)}Loop time of\n`),
      // a real log at the end of 5 MB of noise: the figure is still found
      `${randomLog(MB5, 8)}\n${read('lammps-melt-lj-8Apr21.log')}`,
    ];
    const started = performance.now();
    for (const log of logs) {
      for (const spec of specs) {
        const result = parseFigure(spec, log);
        expect(typeof result.ok).toBe('boolean');
      }
    }
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(figure(parseFigure({ parser: 'lammps-timesteps' }, logs.at(-1)!)).value).toBe(509.34);
  });

  it('keeps the evidence line trimmed and at most 300 characters', () => {
    const long = `   Loop time of 1.5 on 4 procs for 10 steps ${'x'.repeat(1000)}   `;
    const f = figure(parseFigure({ parser: 'lammps-loop-time' }, long));
    expect(f.line.length).toBe(300);
    expect(f.line.startsWith('Loop time of 1.5')).toBe(true);
  });

  it('never throws and is deterministic, on any text and any spec', () => {
    const logArb = fc.oneof(
      fc.string({ maxLength: 400 }),
      fc
        .array(
          fc.oneof(
            fc.constantFrom(
              'Performance: 1.0 tau/day, nan timesteps/s',
              'Loop time of x on 4 procs',
              'Figure of Merit (FOM): ',
              '# Size          Latency (us)',
              '# Size      Bandwidth (MB/s)',
              '0 1.5',
              '8 inf Fail',
              'WR11C2R4 1 2 3 4 5',
              '||Ax-b||_oo/(eps)= 1 ...... FAILED',
            ),
            fc.string({ maxLength: 40 }),
          ),
          { maxLength: 20 },
        )
        .map((lines) => lines.join('\n')),
    );
    const specArb = fc.oneof(
      fc.constantFrom<FigureSpec>(...specs),
      fc.record({
        regex: fc.string({ maxLength: 12 }),
        direction: fc.constantFrom('higher', 'lower'),
      }) as fc.Arbitrary<FigureSpec>,
      fc.anything() as fc.Arbitrary<FigureSpec>,
    );
    fc.assert(
      fc.property(specArb, logArb, (spec, log) => {
        const first = parseFigure(spec, log);
        expect(parseFigure(spec, log)).toEqual(first);
        if (first.ok) {
          expect(Number.isFinite(first.figure.value)).toBe(true);
          expect(first.figure.line.length).toBeLessThanOrEqual(300);
        } else {
          expect(first.error.length).toBeGreaterThan(0);
        }
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});
