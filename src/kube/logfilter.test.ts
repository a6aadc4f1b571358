import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { failureCases, readCaseLog, SYNTHETIC_CASCADES } from '../../test/fixtures/build-logs/cases.ts';
import {
  DEFAULT_LOG_BUDGET_TOKENS,
  estimateTokens,
  filterLog,
  isErrorLine,
  isNoise,
  rootCause,
  rootKind,
} from './logfilter.ts';

const fixture = readFileSync(
  new URL('../../test/fixtures/build-logs/apt-cmake-failure.log', import.meta.url),
  'utf8',
);

describe('noise', () => {
  it.each([
    'Get:12 http://deb.debian.org/debian bookworm/main amd64 libgpg-error-dev amd64 1.46-1 [139 kB]',
    'Hit:1 http://archive.ubuntu.com/ubuntu jammy InRelease',
    'Unpacking libgpg-error-dev (1.46-1) over (1.46-1) ...',
    'Setting up libgpg-error-dev (1.46-1) ...',
    'Selecting previously unselected package libfftw3-dev:amd64.',
    'Preparing to unpack .../libfftw3-dev_3.3.10-1_amd64.deb ...',
    'Processing triggers for libc-bin (2.36-9+deb12u10) ...',
    '(Reading database ... 185413 files and directories currently installed.)',
    'invoke-rc.d: could not determine current runlevel',
    '  libfftw3-bin libfftw3-dev libfftw3-double3',
    ' 45 12.1M   45 5632k    0     0  27.1M      0 --:--:-- --:--:-- --:--:-- 27.2M',
    ' 42% [3 libopenmpi3 2,432 kB/2,655 kB 92%]',
    '   ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 12.1/12.1 MB 30.2 MB/s eta 0:00:00 100%',
    'INFO[0000] Retrieving image manifest ubuntu:22.04',
    'INFO[0003] Taking snapshot of full filesystem...',
    'INFO[0001] Unpacking rootfs as cmd RUN apt-get update requires it.',
    'INFO[0002] Checking for cached layer registry:5000/lammps-cache:4b1f...',
    '[ 42%] Building CXX object src/CMakeFiles/lammps.dir/atom.cpp.o',
    '[100%] Linking CXX executable lmp',
    '[ 57%] Built target fields',
    "make[2]: Entering directory '/opt/lammps/build'",
    '-- Detecting CXX compiler ABI info - done',
    'checking for gcc... gcc',
    'Collecting numpy>=1.21',
    '',
  ])('drops %j', (line) => {
    expect(isNoise(line)).toBe(true);
  });

  it.each([
    'INFO[0005] RUN apt-get install -y cmake',
    'error: failed to push to destination registry:5000/lammps:1',
    '-- Found MPI_CXX: /usr/lib/x86_64-linux-gnu/openmpi/lib/libmpi_cxx.so',
    'Building PostgreSQL dictionaries from installed myspell/hunspell packages...',
  ])('keeps %j', (line) => {
    expect(isNoise(line)).toBe(false);
  });
});

describe('error lines', () => {
  it.each([
    "main.cpp:(.text+0x3f): undefined reference to `field_momentum(unsigned long)'",
    'collect2: error: ld returned 1 exit status',
    'make[2]: *** [CMakeFiles/spectra.dir/build.make:99: spectra] Error 1',
    'E: Unable to locate package libfftw-dev',
    '/bin/sh: 1: lmp: not found',
    'fatal error: mpi.h: No such file or directory',
    'Killed',
    'Segmentation fault (core dumped)',
    'error building image: error building stage: failed to execute command: waiting for process to exit: exit status 100',
    'bash: /opt/run.sh: Permission denied',
    'Traceback (most recent call last):',
  ])('recognises %j', (line) => {
    expect(isErrorLine(line)).toBe(true);
  });

  it.each(['Step 3/9 : RUN make', 'Installing collected packages: numpy', 'Loop time of 1.2 on 4 procs'])(
    'passes over %j',
    (line) => {
      expect(isErrorLine(line)).toBe(false);
    },
  );
});

describe('filterLog', () => {
  it('keeps both root causes of a real apt + cmake build log, and its last line', () => {
    const filtered = filterLog(fixture).split('\n');
    const line = (part: string) =>
      fixture
        .split('\n')
        .find((l) => l.includes(part))!
        .trimEnd();
    expect(filtered).toContain(line('undefined reference to `field_momentum'));
    expect(filtered).toContain(line('was not declared in this scope'));
    expect(filtered).toContain(line('collect2: error: ld returned 1 exit status'));
    expect(filtered.at(-1)).toBe('exit code: 2');
  });

  it('shrinks the real log to at most a twentieth of its tokens', () => {
    expect(estimateTokens(filterLog(fixture))).toBeLessThanOrEqual(estimateTokens(fixture) / 20);
  });

  it('drops the package noise of the real log', () => {
    const filtered = filterLog(fixture);
    expect(filtered).not.toMatch(/^(Get|Setting up|Unpacking|Preparing to unpack)/m);
  });

  it('marks what it leaves out', () => {
    const log = ['Get:1 http://x y [1 kB]', 'Get:2 http://x y [1 kB]', 'first', 'second'].join('\n');
    expect(filterLog(log)).toBe('… 2 lines omitted …\nfirst\nsecond');
  });

  it('keeps the command and three lines before a root cause, two after, and the last failure', () => {
    const log = [
      'a',
      'b',
      'c',
      'd',
      'gcc -O2 -c main.c -o main.o',
      'main.c:3:1: error: expected ; before }',
      'e',
      'f',
      'g',
      'make: *** [Makefile:3: main.o] Error 1',
    ].join('\n');
    expect(filterLog(log)).toBe(
      [
        '… 1 line omitted …',
        'b',
        'c',
        'd',
        'gcc -O2 -c main.c -o main.o',
        'main.c:3:1: error: expected ; before }',
        'e',
        'f',
        'g',
        'make: *** [Makefile:3: main.o] Error 1',
      ].join('\n'),
    );
  });

  it('gives a log with no error its tail, within the budget', () => {
    const log = Array.from({ length: 1000 }, (_, i) => `step ${i}`).join('\n');
    const filtered = filterLog(log, { budgetTokens: 20 });
    expect(filtered.startsWith('… ')).toBe(true);
    expect(filtered.endsWith('step 999')).toBe(true);
    expect(filtered.length).toBeLessThanOrEqual(80);
  });

  it.each([200, 500, 1500, 4000])(
    'never exceeds a budget of %i tokens, omission marks included',
    (budgetTokens) => {
      const log = Array.from({ length: 3000 }, (_, i) =>
        i % 7 === 0
          ? `src/f${i}.c:${i}:1: error: problem ${i} ${'x'.repeat(i % 300)}`
          : `make[${i % 5}]: *** [t${i}] Error 2`,
      ).join('\n');
      const filtered = filterLog(log, { budgetTokens });
      expect(estimateTokens(filtered)).toBeLessThanOrEqual(budgetTokens);
      expect(filtered).toContain('src/f0.c:0:1: error: problem 0');
    },
  );

  it('cuts the root cause itself when not even it fits', () => {
    const log = `x\nerror: ${'y'.repeat(5000)}\nz`;
    const filtered = filterLog(log, { budgetTokens: 30 });
    expect(filtered.length).toBeLessThanOrEqual(120);
    expect(filtered).toContain('error: yyy');
  });

  it('collapses repeated lines and strips terminal escapes', () => {
    const log = ['\u001b[31mwaiting\u001b[0m', 'waiting', 'waiting', 'done'].join('\n');
    expect(filterLog(log)).toBe('waiting (×3)\ndone');
  });

  it('shows what a terminal shows of carriage-return progress', () => {
    expect(filterLog('writing 10%\rwriting 55%\rwrote output.dat')).toBe('wrote output.dat');
  });

  it('cuts very long lines in the middle', () => {
    const line = `error: ${'x'.repeat(5000)} END`;
    const filtered = filterLog(line, { maxLineLength: 200 });
    expect(filtered.length).toBeLessThanOrEqual(200);
    expect(filtered.startsWith('error: x')).toBe(true);
    expect(filtered.endsWith('END')).toBe(true);
  });
});

describe('root causes', () => {
  it.each([
    ['configure: NOTE: Could not find .git directory', undefined],
    ['mpicc -O2 -I. -c error.c -o error.o', undefined],
    ['ar -rcu libHYPRE.a error.o', undefined],
    ['foo.c:3:5: warning: unused variable ‘x’ [-Wunused-variable]', undefined],
    ['make[2]: *** [Makefile:40: all] Error 2', undefined],
    ['collect2: error: ld returned 1 exit status', undefined],
    ["amg.c:41:3: error: unknown type name 'HYPRE_Int'", 'compiler'],
    [
      '../utilities/_hypre_utilities.h:15:10: fatal error: HYPRE_config.h: No such file or directory',
      'compiler',
    ],
    ['CMake Error at CMakeLists.txt:4 (find_package):', 'cmake'],
    ['/usr/bin/ld: cannot find -lhypre: No such file or directory', 'linker'],
    ["main.cpp:(.text+0x3f): undefined reference to `field_momentum(unsigned long)'", 'linker'],
    ['E: Unable to locate package libdoesnotexist-dev', 'apt'],
    ['ERROR: Could not find a version that satisfies the requirement numpy==0.0.1', 'pip'],
    ["KeyError: 'steps'", 'python'],
    ["fatal: unable to access 'https://github.com/x/y.git/': Could not resolve host: github.com", 'git'],
    ['There are not enough slots available in the system to satisfy the 64', 'mpi'],
    ['/bin/sh: 1: lmp: not found', 'shell'],
  ])('%j is a root cause of kind %j', (line, kind) => {
    expect(rootKind(line)).toBe(kind);
  });

  it('takes the exception of a Python traceback, not its frames', () => {
    const log = [
      'loading data',
      'Traceback (most recent call last):',
      '  File "/app/run.py", line 9, in <module>',
      '    main()',
      '  File "/app/run.py", line 5, in main',
      "    steps = config['steps']",
      "KeyError: 'steps'",
    ].join('\n');
    expect(rootCause(log)).toBe("KeyError: 'steps'");
  });

  it('prefers the first real error to a configure NOTE, compiler commands and the cascade', () => {
    const log = [
      'configure: NOTE: Could not find .git directory',
      'mpicc -O2 -c error.c -o error.o',
      "amg.c:41:3: error: unknown type name 'HYPRE_Int'",
      'make: *** [Makefile:3: amg.o] Error 1',
    ].join('\n');
    expect(rootCause(log)).toBe("amg.c:41:3: error: unknown type name 'HYPRE_Int'");
  });

  it('falls back to the first error-like line, and to nothing', () => {
    expect(rootCause('ok\nthe server refused the request\nbye')).toBe('the server refused the request');
    expect(rootCause('all good\ndone')).toBeUndefined();
  });
});

describe('real failure logs (test/fixtures/build-logs)', () => {
  const summaryOf = (log: string) => rootCause(log) ?? '';

  it.each(failureCases())(
    '$file: the root cause survives, is the summary, and fits',
    ({ file, rootCause: cause }) => {
      const log = readCaseLog(file);
      const filtered = filterLog(log);
      expect(filtered).toContain(cause);
      expect(summaryOf(log)).toContain(cause);
      expect(estimateTokens(filtered)).toBeLessThanOrEqual(DEFAULT_LOG_BUDGET_TOKENS);
    },
  );

  it.each(SYNTHETIC_CASCADES)('$name: the root cause survives the cascade and is the summary', (c) => {
    const log = c.log();
    const filtered = filterLog(log);
    expect(filtered).toContain(c.rootCause);
    expect(summaryOf(log)).toContain(c.rootCause);
    expect(estimateTokens(filtered)).toBeLessThanOrEqual(1500);
  });

  it('keeps the real AMG2023/hypre missing-header context under 1,500 tokens, at any budget', () => {
    const log = readCaseLog('hypre-amg2023-missing-header.log');
    for (const budgetTokens of [200, 400, 1500, 4000]) {
      const filtered = filterLog(log, { budgetTokens });
      expect(estimateTokens(filtered)).toBeLessThanOrEqual(Math.min(budgetTokens, 1500));
      expect(filtered).toContain('amg.c:33:10: fatal error: HYPRE_config.h: No such file or directory');
    }
  });
});
