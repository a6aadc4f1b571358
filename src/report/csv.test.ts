import { describe, expect, it } from 'vitest';
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
    const empty = { attempts: [], failures: [], calls: [], stages: [] } as unknown as Summary;
    const files = summaryCsvs(empty);
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
});
