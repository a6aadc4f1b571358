import { describe, expect, it } from 'vitest';
import { conversationConfigMapName, truncateTurns } from './history.ts';
import type { ChatTurn } from './types.ts';

// 40 characters: 10 estimated tokens each.
const turn = (role: ChatTurn['role'], tag: string): ChatTurn => ({ role, text: tag.padEnd(40, '.') });

describe('truncateTurns', () => {
  const turns = [
    turn('user', 'u1'),
    turn('model', 'm1'),
    turn('user', 'u2'),
    turn('model', 'm2'),
    turn('user', 'u3'),
  ];

  it.each([
    { name: 'keeps everything within the budget', budget: 50, kept: ['u1', 'm1', 'u2', 'm2', 'u3'] },
    { name: 'drops the oldest turns first', budget: 30, kept: ['u2', 'm2', 'u3'] },
    { name: 'never starts with a model turn', budget: 40, kept: ['u2', 'm2', 'u3'] },
    { name: 'keeps only the newest when little fits', budget: 10, kept: ['u3'] },
  ])('$name', ({ budget, kept }) => {
    const result = truncateTurns(turns, budget);
    expect(result.turns.map((t) => t.text.replace(/\.+$/, ''))).toEqual(kept);
    expect(result.dropped).toBe(turns.length - kept.length);
  });

  it('keeps the end of a newest turn that alone is over budget', () => {
    const long: ChatTurn = { role: 'user', text: `start ${'x'.repeat(500)} the error at the end` };
    const [kept] = truncateTurns([long], 20).turns;
    expect(kept!.text.startsWith('[earlier text truncated]')).toBe(true);
    expect(kept!.text.endsWith('the error at the end')).toBe(true);
    expect(kept!.text.length).toBeLessThanOrEqual(80);
  });
});

describe('conversationConfigMapName', () => {
  it('is <step>-conversation, hashed to fit 253 characters', () => {
    expect(conversationConfigMapName('lammps-build')).toBe('lammps-build-conversation');
    const long = conversationConfigMapName('a'.repeat(300));
    expect(long.length).toBeLessThanOrEqual(253);
    expect(long).toMatch(/^a+-[0-9a-f]{8}$/);
    expect(conversationConfigMapName('a'.repeat(300))).toBe(long);
    expect(conversationConfigMapName(`${'a'.repeat(299)}b`)).not.toBe(long);
  });
});
