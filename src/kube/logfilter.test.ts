import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { estimateTokens, filterLog, isErrorLine, isNoise } from './logfilter.ts';

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
  // Compiler, linker and make diagnostics, named independently of the filter's own patterns.
  const diagnostic = /: (fatal )?error:|undefined reference|\*\*\* |^exit code:|^\s+\d+ \| |\^~+/;

  it('keeps every error line of a real apt + cmake build log', () => {
    const filtered = filterLog(fixture).split('\n');
    const errors = fixture.split('\n').filter((line) => diagnostic.test(line));
    expect(errors.length).toBeGreaterThanOrEqual(8);
    for (const line of errors) expect(filtered).toContain(line.trimEnd());
  });

  it('shrinks the real log to at most a tenth of its tokens', () => {
    expect(estimateTokens(filterLog(fixture))).toBeLessThanOrEqual(estimateTokens(fixture) / 10);
  });

  it('drops the package noise of the real log', () => {
    const filtered = filterLog(fixture);
    expect(filtered).not.toMatch(/^(Get|Setting up|Unpacking|Preparing to unpack)/m);
  });

  it('marks what it leaves out', () => {
    const log = ['Get:1 http://x y [1 kB]', 'Get:2 http://x y [1 kB]', 'first', 'second'].join('\n');
    expect(filterLog(log)).toBe('… 2 lines omitted …\nfirst\nsecond');
  });

  it('keeps two lines of context around an error, then the tail', () => {
    const log = ['a', 'b', 'c', 'd', 'fatal: broken', 'e', 'f', 'g', 'h'].join('\n');
    expect(filterLog(log, { budgetTokens: 6 })).toBe(
      '… 2 lines omitted …\nc\nd\nfatal: broken\ne\nf\n… 1 line omitted …\nh',
    );
  });

  it('fills the budget from the tail', () => {
    const log = Array.from({ length: 1000 }, (_, i) => `step ${i}`).join('\n');
    const filtered = filterLog(log, { budgetTokens: 10 });
    expect(filtered.startsWith('… ')).toBe(true);
    expect(filtered.endsWith('step 999')).toBe(true);
    expect(filtered.length).toBeLessThanOrEqual(40 + 30);
  });

  it('keeps the first and the last errors when errors alone exceed the budget', () => {
    const log = Array.from({ length: 400 }, (_, i) => `error: problem ${i}`).join('\n\n\n\n\n\n');
    const filtered = filterLog(log, { budgetTokens: 50, context: 0 });
    expect(filtered).toContain('error: problem 0\n');
    expect(filtered).toContain('error: problem 399');
    expect(filtered).not.toContain('error: problem 200\n');
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
