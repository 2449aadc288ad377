import { describe, expect, it } from 'vitest';
import { RoutingSession } from '@parley/contracts';
import { parseChanges } from './redis-replies.ts';

describe('parseChanges', () => {
  it('reads empty Lua tables (encoded as {}) as empty lists and sessions as contract shapes', () => {
    const encoded = JSON.stringify({
      result: true,
      assigned: {},
      unassigned: {},
      closed: {},
      operators: {},
      visitors: [],
      visitors_online: 0,
      sessions: [
        {
          id: '8a0f9a52-0d5e-4a4b-b1a3-2a8f0f6f4c11',
          chat_id: '6f1c1b1e-8d3a-4a59-9d55-0d7c0a3c2f11',
          user_id: 'v_abc',
          status: 'waiting',
          operator_id: '',
          operator_name: '',
          created_at: '1763788800000',
          assigned_at: '',
          closed_at: '',
          queue_position: 3,
        },
      ],
      queue: {},
    });
    const changes = parseChanges<true>(encoded);
    expect(changes.assigned).toEqual([]);
    expect(changes.queue).toEqual([]);
    const session = changes.sessions[0];
    expect(RoutingSession.parse(session)).toEqual(session);
    expect(session).toMatchObject({
      status: 'waiting',
      operator: null,
      queue_position: 3,
      created_at: '2025-11-22T05:20:00.000Z',
      assigned_at: null,
    });
  });
});
