import { describe, expect, it } from 'vitest';
import type { OperatorId } from '@parley/contracts';
import { mentionedOperators, type Mentionable } from './mentions.ts';

const op = (id: string, name: string, email: string, active = true): Mentionable => ({
  id: id as OperatorId,
  name,
  email,
  active,
});
const team = [
  op('o1', 'Anna Berg', 'anna@example.com'),
  op('o2', 'Борис', 'boris@example.com'),
  op('o3', 'Gone Away', 'gone@example.com', false),
];

describe('mentionedOperators', () => {
  it('matches first name, full name and email local part, case-insensitively', () => {
    expect(mentionedOperators('ping @anna', team, null)).toEqual(['o1']);
    expect(mentionedOperators('ping @Anna.Berg and @борис.', team, null)).toEqual(['o1', 'o2']);
    expect(mentionedOperators('@boris please', team, null)).toEqual(['o2']);
  });

  it('ignores emails, unknown handles, inactive operators and the author', () => {
    expect(mentionedOperators('mail anna@example.com', team, null)).toEqual([]);
    expect(mentionedOperators('@nobody @gone', team, null)).toEqual([]);
    expect(mentionedOperators('@anna @anna', team, 'o1')).toEqual([]);
  });
});
