import { describe, expect, it } from 'vitest';
import type { ChatId, OperatorId, UserId } from '@parley/contracts/models';
import { Channels, type Member } from './channels.ts';

const chat = 'c1' as ChatId;
const opA = 'op-a' as OperatorId;

function member(id: string, principal: Member['principal'], ip = '10.0.0.1'): Member {
  return { id, principal, ip };
}
const operator = (id: OperatorId) =>
  ({
    kind: 'operator',
    operator_id: id,
    role: 'agent',
    name: id,
    email: '',
    jti: id,
    exp: 0,
  }) as const;
const visitor = (id: string) =>
  ({
    kind: 'visitor',
    user_id: id as UserId,
    identified: false,
    name: null,
    email: null,
    jti: id,
    exp: 0,
  }) as const;

describe('Channels', () => {
  it('answers who hears a chat: its subscribers, and the assignee’s channel once', () => {
    const channels = new Channels<Member>();
    const v = member('v', visitor('v_1'));
    const onChannel = member('a1', operator(opA));
    const onBoth = member('a2', operator(opA));
    for (const c of [v, onChannel, onBoth]) channels.add(c);
    channels.joinChat(v, chat);
    channels.joinOperatorChannel(onChannel, opA);
    channels.joinOperatorChannel(onBoth, opA);
    channels.joinChat(onBoth, chat);
    expect(channels.audience(chat)).toEqual({ subscribers: [v, onBoth], assignee: [] });

    channels.assign(chat, opA);
    expect(channels.audience(chat)).toEqual({ subscribers: [v, onBoth], assignee: [onChannel] });
    channels.unassign(chat, 'op-b' as OperatorId);
    expect(channels.audience(chat).assignee).toEqual([onChannel]);
    channels.unassign(chat);
    expect(channels.audience(chat).assignee).toEqual([]);
  });

  it('forgets a closed connection everywhere and counts connections per address', () => {
    const channels = new Channels<Member>();
    const a = member('a', operator(opA));
    const b = member('b', visitor('v_2'));
    channels.add(a);
    channels.add(b);
    channels.joinAdmin(a);
    channels.joinOperatorChannel(a, opA);
    channels.joinChat(b, chat);
    expect(channels.connectionsFrom('10.0.0.1')).toBe(2);
    expect(channels.remove(a, [])).toBe(true);
    expect(channels.remove(a, [])).toBe(false);
    expect(channels.remove(b, [chat])).toBe(true);
    expect(channels.connectionsFrom('10.0.0.1')).toBe(0);
    expect([...channels.adminConnections()]).toEqual([]);
    expect([...channels.operatorChannel(opA)]).toEqual([]);
    expect([...channels.operator(opA)]).toEqual([]);
    expect(channels.audience(chat).subscribers).toEqual([]);
  });
});
