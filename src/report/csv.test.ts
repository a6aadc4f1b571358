import { describe, expect, it } from 'vitest';
import { optimizationSummary } from '../../test/report/fixture.ts';
import type { AttemptRow, Summary } from '../analysis/types.ts';
import { ATTEMPT_COLUMNS, CSV_COLUMNS, csvField, snakeCase, summaryCsvs, toCsv } from './csv.ts';

const key = {
  plan: 'p-1',
  cell: 'lammps-gcc',
  application: 'lammps',
  variant: 'gcc',
  model: '',
  repetition: 1,
};

const rows: AttemptRow[] = [
  {
    ...key,
    planStatus: 'Succeeded',
    step: 'build',
    stepRun: 'p-1-build',
    agent: 'build',
    attempt: 1,
    outcome: 'Failed',
    reason: 'said "no", then\nquit, twice',
    category: 'missing-package',
    seconds: 12.5,
    tokens: 1000,
    modelCalls: 1,
  },
  {
    ...key,
    planStatus: 'Succeeded',
    step: 'build',
    stepRun: 'p-1-build',
    agent: 'build',
    attempt: 2,
    outcome: 'Succeeded',
    reason: 'Built',
    seconds: 0.1 + 0.2,
    tokens: 0,
    modelCalls: 2,
    changedLines: 3,
  },
];

describe('CSV', () => {
  it('writes a header of snake_case names and RFC 4180 rows, empty for undefined', () => {
    expect(toCsv(rows, ATTEMPT_COLUMNS)).toBe(
      'plan,cell,application,variant,model,repetition,plan_status,step,step_run,agent,attempt,outcome,reason,category,seconds,tokens,model_calls,changed_lines\r\n' +
        'p-1,lammps-gcc,lammps,gcc,,1,Succeeded,build,p-1-build,build,1,Failed,"said ""no"", then\nquit, twice",missing-package,12.5,1000,1,\r\n' +
        'p-1,lammps-gcc,lammps,gcc,,1,Succeeded,build,p-1-build,build,2,Succeeded,Built,,0.30000000000000004,0,2,3\r\n',
    );
  });

  it('quotes only fields that need it', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('a"b')).toBe('"a""b"');
    expect(csvField('a\r\nb')).toBe('"a\r\nb"');
    expect(csvField(' padded ')).toBe(' padded ');
    expect(csvField(undefined)).toBe('');
    expect(csvField(null)).toBe('');
    expect(csvField(0)).toBe('0');
    expect(csvField(false)).toBe('false');
  });

  it('names columns snake_case', () => {
    expect(snakeCase('stepRun')).toBe('step_run');
    expect(snakeCase('promptTokens')).toBe('prompt_tokens');
    expect(snakeCase('plan')).toBe('plan');
  });

  it('writes the four files of a summary, headers only when there are no rows', () => {
    const empty = {
      attempts: [],
      failures: [],
      calls: [],
      stages: [],
      optimization: [],
      optimizations: [],
    } as unknown as Summary;
    const files = summaryCsvs(empty);
    // No optimize step, no optimization.csv.
    expect(Object.keys(files)).toEqual(['attempts.csv', 'failures.csv', 'calls.csv', 'stages.csv']);
    for (const [name, text] of Object.entries(files))
      expect(text).toBe(CSV_COLUMNS[name]!.join(',') + '\r\n');
    expect(files['stages.csv']).toBe(
      'plan,cell,application,variant,model,repetition,plan_status,step,step_run,agent,attempt,stage,seconds\r\n',
    );
    expect(files['calls.csv']).toBe(
      'plan,cell,application,variant,model,repetition,plan_status,step,step_run,agent,attempt,prompt_tokens,output_tokens,total_tokens,seconds\r\n',
    );
    expect(files['failures.csv']).toBe(
      'plan,cell,application,variant,model,repetition,plan_status,step,step_run,agent,attempt,reason,category,label,evidence,message\r\n',
    );
  });

  it('writes optimization.csv when a run has an optimize step: a row per trial, its figures space-separated', () => {
    const summary = optimizationSummary();
    const files = summaryCsvs(summary);
    expect(Object.keys(files)).toEqual([
      'attempts.csv',
      'failures.csv',
      'calls.csv',
      'stages.csv',
      'optimization.csv',
    ]);
    const text = files['optimization.csv']!;
    const header =
      'plan,cell,application,variant,model,repetition,plan_status,step,step_run,figure,direction,trial,attempt,from,outcome,repetitions,figures,median,spread,min,max,best_so_far,change,reason,message,diff';
    expect(CSV_COLUMNS['optimization.csv']!.join(',')).toBe(header);
    expect(text.startsWith(`${header}\r\n`)).toBe(true);
    const lammps = text.split('\r\n').filter((line) => line.startsWith('tuning-lammps-r1,'));
    expect(lammps[0]).toBe(
      'tuning-lammps-r1,lammps,lammps,,,1,Succeeded,optimize,tuning-lammps-r1-optimize,timesteps/s,higher,0,1,,baseline,3,98 100 103,100,5,98,103,100,,,baseline 100 timesteps/s (spread 5),',
    );
    expect(lammps[2]).toBe(
      'tuning-lammps-r1,lammps,lammps,,,1,Succeeded,optimize,tuning-lammps-r1-optimize,timesteps/s,higher,2,3,2,reverted,3,302 311 318,311,16,302,318,305,' +
        'Add OMP_NUM_THREADS=2 and the OPENMP suffix (-sf omp),Two threads per rank may use the hyperthreads the ranks leave idle.,' +
        'reverted: 311 against the best 305 (a gain of 6 is within the noise 16),' +
        `"${summary.optimization.find((p) => p.plan === 'tuning-lammps-r1' && p.trial === 2)!.diff!.replaceAll('"', '""')}"`,
    );
    // The failed trial: no figures, the best so far kept; its diff quoted, over lines (cut here by the split).
    expect(lammps[3]!.split('\n').slice(0, 2).join('\n')).toBe(
      'tuning-lammps-r1,lammps,lammps,,,1,Succeeded,optimize,tuning-lammps-r1-optimize,timesteps/s,higher,3,4,2,failed,0,,,,,,305,' +
        'Use the KOKKOS package with 2 threads per rank (-k on t 2 -sf kk),KOKKOS has a faster ReaxFF pair style than the default one.,' +
        'RunFailed: The Job failed: exit code 1,"+++ attempt-4\n@@ -16,3 +16,3 @@',
    );
    // One line per trial and the header; the diffs' line breaks are inside quotes.
    const rows = text.split(/\r\n(?=tuning-)/);
    expect(rows).toHaveLength(summary.optimization.length + 1);
  });
});
