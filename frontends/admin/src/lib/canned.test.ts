import { describe, expect, it } from 'vitest';
import type { CannedResponse } from '@parley/contracts';
import { fillCanned, matchCanned } from './canned.ts';

describe('fillCanned', () => {
  it('fills known variables, falls back when empty, keeps unknown ones', () => {
    const values = { 'visitor.name': 'Vera', 'visitor.email': null, 'operator.name': 'Anna' };
    expect(fillCanned('Hi {{visitor.name}}, I am {{ operator.name }}.', values)).toBe(
      'Hi Vera, I am Anna.',
    );
    expect(fillCanned('Mail: {{visitor.email|not given}}', values)).toBe('Mail: not given');
    expect(fillCanned('Mail: {{visitor.email}}!', values)).toBe('Mail: !');
    expect(fillCanned('{{visitor.nmae}}', values)).toBe('{{visitor.nmae}}');
  });
});

describe('matchCanned', () => {
  const reply = (shortcut: string, title: string) =>
    ({ shortcut, title }) as unknown as CannedResponse;
  const all = [
    reply('refund', 'Refund policy'),
    reply('hello', 'Greeting'),
    reply('ship', 'Refund shipping'),
  ];
  it('puts shortcut prefixes first, then shortcut or title matches', () => {
    expect(matchCanned(all, 'ref').map((r) => r.shortcut)).toEqual(['refund', 'ship']);
    expect(matchCanned(all, '').map((r) => r.shortcut)).toEqual(['refund', 'hello', 'ship']);
  });
});
