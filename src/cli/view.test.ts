import { describe, expect, it } from 'vitest';
import { clip, createView, formatDuration, type StepRow } from './view.ts';

const row = (phase: string, attempt: number, message?: string): StepRow => ({
  name: 'lammps-build',
  agent: 'build',
  phase,
  attempt,
  maxAttempts: 10,
  startTime: '2026-01-01T00:00:00Z',
  tokens: 120,
  ...(message ? { message } : {}),
});
const now = () => new Date('2026-01-01T00:01:05Z');

function stream(tty: boolean) {
  const written: string[] = [];
  return { written, write: (text: string) => written.push(text), isTTY: tty, columns: 100 };
}

describe('the live view', () => {
  it('prints one line per change when not on a terminal, and nothing when only time passed', () => {
    const out = stream(false);
    const view = createView(out, now);
    view.update([row('Generating', 1)]);
    view.update([row('Generating', 1)]);
    view.update([row('Building', 1, 'Trying attempt 1')]);
    view.close();
    expect(out.written).toEqual([
      'lammps-build          build           Generating     attempt 1/10    1m05s     120 tokens\n',
      'lammps-build          build           Building       attempt 1/10    1m05s     120 tokens  Trying attempt 1\n',
    ]);
  });

  it('keeps its columns in line when a step with a longer name appears later', () => {
    const out = stream(false);
    const view = createView(out, now);
    view.update([row('Generating', 1)]);
    const long = { ...row('Generating', 1), name: 'rl2-build-r10-with-a-much-longer-name' };
    view.update([row('Failed', 3), long]);
    view.update([row('Failed', 3), { ...long, phase: 'Building' }]);
    // Short names never push the columns out of line; a longer one widens them from then on.
    const columns = out.written.slice(1).map((line) => line.search(/ build /));
    expect(new Set(columns).size).toBe(1);
    const firstShort = row('Generating', 1);
    for (const name of ['rl2-build-r10', 'run-lammps-build', firstShort.name]) {
      const lines: string[] = [];
      const v = createView({ write: (t: string) => lines.push(t), isTTY: false }, now);
      v.update([firstShort]);
      v.update([firstShort, { ...firstShort, name, phase: 'Pending' }]);
      expect(lines[0]!.search(/ build /), name).toBe(lines[1]!.search(/ build /));
    }
  });

  it('cuts a long message at a word boundary, not mid-word', () => {
    const message =
      "Attempt 1 failed: the build failed: fatal: unable to access 'https://github.com/lammps/lammps.git/': server certificate verification failed. CAfile: none CRLfile: none";
    const cut = clip(message, 160);
    expect(cut.length).toBeLessThanOrEqual(160);
    expect(cut).toMatch(/CAfile: none…$/);
    expect(clip('short', 160)).toBe('short');
    // One long word has no boundary to cut at: cut at the limit.
    expect(clip('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(clip('first line\nsecond line', 160)).toBe('first line');
  });

  it('redraws the rows in place on a terminal', () => {
    const out = stream(true);
    const view = createView(out, now);
    view.update([
      row('Generating', 1),
      { ...row('Waiting', 0), name: 'lammps-run', agent: 'kubernetes-job' },
    ]);
    view.update([row('Building', 1)]);
    view.close();
    // The second draw moves up over the two lines of the first and clears them.
    expect(out.written.join('')).toContain('\x1b[2A\x1b[0J');
    expect(out.written.at(-1)).toContain('Building');
    expect(out.written.every((w) => !w.includes('\n') || w.length <= 101)).toBe(true);
  });

  it.each([
    [0, '0s'],
    [59.4, '59s'],
    [65, '1m05s'],
    [3725, '1h02m'],
  ])('formats %s seconds as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
