import { describe, expect, it } from 'vitest';
import type { ChatId, OperatorId } from '@parley/contracts';
import type { Changes } from './ports.ts';
import { systemMessagesFor } from './system-messages.ts';

const chat = '6f1c1b1e-8d3a-4a59-9d55-0d7c0a3c2f11' as ChatId;
const anna = { id: '0b5d9f1a-4b7e-4a39-8f3e-7c1d2e3f4a5b' as OperatorId, name: 'Anna' };
const boris = { id: '1c6e0a2b-5c8f-4b4a-9a4f-8d2e3f4a5b6c' as OperatorId, name: 'Boris' };

function changes(part: Partial<Changes<true>>): Changes<true> {
  return {
    result: true,
    assigned: [],
    unassigned: [],
    closed: [],
    sessions: [],
    sessionUsers: new Map(),
    operators: [],
    queue: null,
    visitors: [],
    visitorsOnline: 0,
    ...part,
  };
}

describe('history lines', () => {
  it('records a transfer once, as "Transferred from … to …"', () => {
    const lines = systemMessagesFor(
      changes({
        unassigned: [
          {
            chatId: chat,
            operatorId: anna.id,
            operatorName: 'Anna',
            reason: 'transferred',
            toQueue: false,
          },
        ],
        assigned: [
          {
            chatId: chat,
            operatorId: boris.id,
            operatorName: 'Boris',
            reason: 'transfer',
            from: anna,
          },
        ],
      }),
    );
    expect(lines).toEqual([
      {
        chatId: chat,
        text: 'Transferred from Anna to Boris',
        event: { kind: 'transferred', from_name: 'Anna', to_name: 'Boris' },
      },
    ]);
  });

  it('records an operator leaving and the next one joining', () => {
    const lines = systemMessagesFor(
      changes({
        unassigned: [
          {
            chatId: chat,
            operatorId: anna.id,
            operatorName: 'Anna',
            reason: 'offline',
            toQueue: true,
          },
        ],
        assigned: [
          {
            chatId: chat,
            operatorId: boris.id,
            operatorName: 'Boris',
            reason: 'requeue',
            from: null,
          },
        ],
      }),
    );
    expect(lines.map((l) => l.text)).toEqual(['Anna left the chat', 'Boris joined the chat']);
    expect(lines.map((l) => l.event)).toEqual([
      { kind: 'left', operator_name: 'Anna' },
      { kind: 'joined', operator_name: 'Boris' },
    ]);
  });

  it('writes no join line for an invitation (the operator wrote first) and names who closed', () => {
    const lines = systemMessagesFor(
      changes({
        assigned: [
          {
            chatId: chat,
            operatorId: anna.id,
            operatorName: 'Anna',
            reason: 'invitation',
            from: null,
          },
        ],
        closed: [{ chatId: chat, byKind: 'visitor', byName: '' }],
      }),
    );
    expect(lines.map((l) => l.text)).toEqual(['Chat closed by the visitor']);
    expect(lines[0]?.event).toEqual({ kind: 'closed', by: 'visitor', operator_name: null });
  });

  it('records the operator who closed a chat and one returning it to the queue', () => {
    const lines = systemMessagesFor(
      changes({
        unassigned: [
          {
            chatId: chat,
            operatorId: anna.id,
            operatorName: 'Anna',
            reason: 'transferred',
            toQueue: true,
          },
        ],
        closed: [{ chatId: chat, byKind: 'operator', byName: 'Boris' }],
      }),
    );
    expect(lines).toEqual([
      {
        chatId: chat,
        text: 'Anna returned the chat to the queue',
        event: { kind: 'returned_to_queue', operator_name: 'Anna' },
      },
      {
        chatId: chat,
        text: 'Chat closed by Boris',
        event: { kind: 'closed', by: 'operator', operator_name: 'Boris' },
      },
    ]);
  });
});
