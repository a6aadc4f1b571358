import { describe, expect, it } from 'vitest';
import { checkFluxBatchScript, readFluxBatchAnswer, splitDirective } from './validate.ts';

const GOOD = `#!/bin/bash
#FLUX: -N 2
#FLUX: -n 8
#FLUX: --time-limit=1h
#FLUX: --job-name=lammps-reaxff
#FLUX: --output=lammps-{{id}}.out

cd /opt/lammps/examples/reaxff/HNS
flux run -N 2 -n 8 lmp -in in.reaxff.hns
`;

describe('checkFluxBatchScript', () => {
  it('accepts a well-formed script and reads its directives', () => {
    const result = checkFluxBatchScript(GOOD);
    expect(result).toEqual({
      ok: true,
      script: GOOD.trim(),
      directives: [
        { line: 2, option: 'nodes', value: '2' },
        { line: 3, option: 'nslots', value: '8' },
        { line: 4, option: 'time-limit', value: '1h' },
        { line: 5, option: 'job-name', value: 'lammps-reaxff' },
        { line: 6, option: 'output', value: 'lammps-{{id}}.out' },
      ],
    });
  });

  it.each([
    {
      name: 'several options on a line and a comment',
      script: '#!/bin/sh\n# flux: -N4 -n16 --exclusive # whole nodes\nflux run -n16 hostname',
    },
    {
      name: 'comments between directives',
      script: '#!/bin/bash\n#FLUX: -N1\n# a note\n#FLUX: -t 30\nhostname',
    },
    {
      name: 'short options with attached values',
      script: '#!/bin/bash\n#FLUX: -N2\n#FLUX: -c4\n#FLUX: -g1\n#FLUX: -q batch\nflux run hostname',
    },
    { name: 'a fractional duration in days', script: '#!/bin/bash\n#FLUX: -n 1\n#FLUX: -t 0.5d\nhostname' },
    { name: 'quoted values', script: '#!/bin/bash\n#FLUX: -n 1\n#FLUX: --job-name="my run # 1"\nhostname' },
  ])('accepts $name', ({ script }) => {
    const result = checkFluxBatchScript(script);
    if (!result.ok) throw new Error(result.explanation);
  });

  it.each([
    {
      name: 'no shebang',
      script: '#FLUX: -N1\nhostname',
      says: /line 1: the script must start with a shebang/,
    },
    { name: 'no directives', script: '#!/bin/bash\nhostname', says: /no #FLUX: directives/ },
    { name: 'no command', script: '#!/bin/bash\n#FLUX: -N1\n', says: /no command after the directives/ },
    {
      name: 'a directive after a command',
      script: '#!/bin/bash\n#FLUX: -N1\nhostname\n#FLUX: -t 5',
      says: /line 4: directive after the command on line 3/,
    },
    {
      name: 'mixed sentinels',
      script: '#!/bin/bash\n#FLUX: -N1\n# flux: -t 5\nhostname',
      says: /sentinel "#flux:" differs from "#FLUX:"/,
    },
    {
      name: 'an unknown option',
      script: '#!/bin/bash\n#FLUX: -N1\n#FLUX: --partition=debug\nhostname',
      says: /--partition is not a flux batch option/,
    },
    {
      name: 'an unknown short option',
      script: '#!/bin/bash\n#FLUX: -N1 -p debug\nhostname',
      says: /-p is not a flux batch option/,
    },
    {
      name: 'flux run task options',
      script: '#!/bin/bash\n#FLUX: -N1\n#FLUX: --ntasks=4\nhostname',
      says: /--ntasks is a flux run option; flux batch uses -n\/--nslots/,
    },
    {
      name: 'cores per task',
      script: '#!/bin/bash\n#FLUX: -N1 --cores-per-task=2\nhostname',
      says: /--cores-per-task is a flux run option/,
    },
    {
      name: 'a zero node count',
      script: '#!/bin/bash\n#FLUX: -N 0\nhostname',
      says: /-N must be a positive whole number, not "0"/,
    },
    {
      name: 'a negative slot count',
      script: '#!/bin/bash\n#FLUX: --nslots=-2\nhostname',
      says: /--nslots must be a positive whole number/,
    },
    {
      name: 'a fractional core count',
      script: '#!/bin/bash\n#FLUX: -n 2 -c 1.5\nhostname',
      says: /-c must be a positive whole number/,
    },
    {
      name: 'a bad time limit',
      script: '#!/bin/bash\n#FLUX: -N1 -t 01:00:00\nhostname',
      says: /-t must be minutes or a duration/,
    },
    {
      name: 'a missing value',
      script: '#!/bin/bash\n#FLUX: -N1 --job-name\nhostname',
      says: /--job-name needs a value/,
    },
    {
      name: 'a value on a flag',
      script: '#!/bin/bash\n#FLUX: -N1 --exclusive=yes\nhostname',
      says: /--exclusive takes no value/,
    },
    {
      name: 'neither nodes nor slots',
      script: '#!/bin/bash\n#FLUX: -t 10\nhostname',
      says: /neither -N\/--nodes nor -n\/--nslots/,
    },
    {
      name: 'exclusive without nodes',
      script: '#!/bin/bash\n#FLUX: -n 4 --exclusive\nhostname',
      says: /--exclusive needs -N\/--nodes/,
    },
    {
      name: 'Slurm directives',
      script: '#!/bin/bash\n#SBATCH -N 2\n#FLUX: -N 2\nsrun hostname',
      says: /"#SBATCH" is another scheduler's directive/,
    },
    {
      name: 'a stray word',
      script: '#!/bin/bash\n#FLUX: nodes=2\nhostname',
      says: /"nodes=2" is not an option/,
    },
  ])('refuses $name', ({ script, says }) => {
    const result = checkFluxBatchScript(script);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.explanation).toMatch(says);
    expect(result.explanation).toMatch(/^The batch script was refused: /);
    expect(result.explanation).not.toContain('\n');
  });

  it.each([
    { given: '-N 2 -n 8', want: ['-N', '2', '-n', '8'] },
    { given: '--job-name="a b" # note', want: ['--job-name=a b'] },
    { given: "--env='X=#1' -t5", want: ['--env=X=#1', '-t5'] },
    { given: 'a\\ b c#d', want: ['a b', 'c#d'] },
  ])('splits $given like a shell', ({ given, want }) => {
    expect(splitDirective(given)).toEqual(want);
  });
});

describe('readFluxBatchAnswer', () => {
  it.each([
    { name: 'a bash block', answer: `\`\`\`bash\n${GOOD}\`\`\`` },
    { name: 'an sh block', answer: `Script:\n\`\`\`sh\n${GOOD}\`\`\`` },
    { name: 'a bare script', answer: GOOD },
  ])('reads $name', ({ answer }) => {
    expect(readFluxBatchAnswer(answer)).toMatchObject({ ok: true, script: GOOD.trim() });
  });

  it('refuses prose', () => {
    expect(readFluxBatchAnswer('Use flux batch -N2.')).toMatchObject({ ok: false });
  });
});

describe('a script with many problems', () => {
  // Found by test/fuzz: every problem was listed, so the fix at the end of a long refusal fell beyond
  // the 2,000 characters the next prompt carries of an attempt's error.
  it('lists what fits, counts the rest, and keeps the fix', () => {
    const script = `#!/bin/bash\n${Array.from({ length: 300 }, (_, i) => `#FLUX: --bogus-${i} ${'v'.repeat(200)}`).join('\n')}\necho`;
    const result = checkFluxBatchScript(script);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.explanation.length).toBeLessThanOrEqual(1800);
    expect(result.explanation).toMatch(/; and \d+ more\. Write #!\/bin\/bash first/);
  });
});
