import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError, type ChatId } from '@parley/contracts';
import { waitFor } from '@parley/runtime/testing';
import { startBed, type Bed } from './harness.ts';

let bed: Bed;

beforeAll(async () => {
  bed = await startBed();
});
afterAll(async () => {
  await bed?.stop();
});
beforeEach(async () => {
  await bed.reset();
});

/** parley_routing_assignments_total summed over reasons and replicas. */
async function assignmentsCounted(): Promise<number> {
  let total = 0;
  for (const replica of bed.replicas) {
    const text = await (await fetch(`${replica.url}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (line.startsWith('parley_routing_assignments_total{'))
        total += Number(line.split(' ').pop());
    }
  }
  return total;
}

const assignedTo = (chatId: ChatId) =>
  bed.log.wait('routing.evt.assigned', (e) => e.session.chat_id === chatId);

describe('assignment and the wait queue', () => {
  it('gives a new chat to the free operator with the fewest chats, queues the rest with live positions', async () => {
    const anna = await bed.operator('Anna', { max_chats: 2 });
    const boris = await bed.operator('Boris', { max_chats: 1 });
    await bed.connect(anna);
    await bed.connect(boris);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    await bed.request('routing.rpc.set_status', { operator_id: boris.id, status: 'online' });

    const c1 = await bed.visitorWrites({ name: 'Vera' });
    const first = await assignedTo(c1.chatId);
    const c2 = await bed.visitorWrites();
    const second = await assignedTo(c2.chatId);
    // Both started empty; the second chat goes to whoever has fewer chats now.
    expect(new Set([first.operator_id, second.operator_id])).toEqual(new Set([anna.id, boris.id]));
    expect(first.user_name).toBe('Vera');

    const c3 = await bed.visitorWrites();
    expect((await assignedTo(c3.chatId)).operator_id).toBe(anna.id); // Boris is at capacity

    const c4 = await bed.visitorWrites();
    await bed.log.wait(
      'routing.evt.session_changed',
      (e) => e.session.chat_id === c4.chatId && e.session.queue_position === 1,
    );
    const c5 = await bed.visitorWrites();
    await bed.log.wait(
      'routing.evt.session_changed',
      (e) => e.session.chat_id === c5.chatId && e.session.queue_position === 2,
    );
    const queue = await bed.request('routing.rpc.queue', {});
    expect(queue.map((q) => [q.chat_id, q.position])).toEqual([
      [c4.chatId, 1],
      [c5.chatId, 2],
    ]);
    expect(await bed.request('routing.rpc.session', { chat_id: c4.chatId })).toMatchObject({
      status: 'waiting',
      queue_position: 1,
    });

    // Anna closes a chat: the head of the queue is hers at once, the next visitor moves up.
    await bed.request('routing.rpc.close', {
      chat_id: c3.chatId,
      actor: { kind: 'operator', operator_id: anna.id, name: 'Anna', role: 'agent' },
    });
    expect((await assignedTo(c4.chatId)).operator_id).toBe(anna.id);
    await bed.log.wait(
      'routing.evt.session_changed',
      (e) => e.session.chat_id === c5.chatId && e.session.queue_position === 1,
    );
    expect(await bed.chat.historyOf(c3.chatId, 2)).toEqual([
      'system: Anna joined the chat',
      'system: Chat closed by Anna',
    ]);
    const annaNow = await bed.request('routing.rpc.me', { operator_id: anna.id });
    expect(annaNow.operator.active_chats).toBe(2);
    expect(annaNow.sessions.map((s) => s.chat_id).sort()).toEqual(
      [first.operator_id === anna.id ? c1.chatId : c2.chatId, c4.chatId].sort(),
    );
  });
});

describe('taking a chat by hand', () => {
  it('lets exactly one of two operators take the same waiting chat', async () => {
    const anna = await bed.operator('Anna');
    const boris = await bed.operator('Boris');
    await bed.connect(anna);
    await bed.connect(boris);
    // Away: nobody is assigned automatically, so the chat waits for a hand.
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'away' });
    await bed.request('routing.rpc.set_status', { operator_id: boris.id, status: 'away' });
    const { chatId } = await bed.visitorWrites();
    await bed.log.wait('routing.evt.queue_changed', (e) =>
      e.queue.some((q) => q.chat_id === chatId),
    );

    const results = await Promise.allSettled([
      bed.request('routing.rpc.take', { chat_id: chatId, operator_id: anna.id }),
      bed.request('routing.rpc.take', { chat_id: chatId, operator_id: boris.id }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(AppError);
    expect((lost[0] as PromiseRejectedResult).reason.code).toBe('conflict');
    const session = await bed.request('routing.rpc.session', { chat_id: chatId });
    expect(session?.status).toBe('active');
    expect(
      bed.log.of('routing.evt.assigned').filter((e) => e.session.chat_id === chatId),
    ).toHaveLength(1);
    expect(bed.log.of('routing.evt.assigned')[0]?.reason).toBe('manual');
  });

  it('refuses a take beyond capacity', async () => {
    const anna = await bed.operator('Anna', { max_chats: 1 });
    await bed.connect(anna);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'away' });
    const a = await bed.visitorWrites();
    const b = await bed.visitorWrites();
    await bed.log.wait('routing.evt.queue_changed', (e) => e.queue.length === 2);
    await bed.request('routing.rpc.take', { chat_id: a.chatId, operator_id: anna.id });
    await expect(
      bed.request('routing.rpc.take', { chat_id: b.chatId, operator_id: anna.id }),
    ).rejects.toMatchObject({
      code: 'conflict',
    });
  });
});

describe('50 visitors at once on two replicas', () => {
  it('assigns each chat once, keeps every operator within capacity and loses none', async () => {
    const ops = await Promise.all(
      ['Anna', 'Boris', 'Clara'].map((n) => bed.operator(n, { max_chats: 10 })),
    );
    for (const op of ops) {
      await bed.connect(op);
      await bed.request('routing.rpc.set_status', { operator_id: op.id, status: 'online' });
    }
    const assignmentsBefore = await assignmentsCounted();
    const chats = await Promise.all(Array.from({ length: 50 }, () => bed.visitorWrites()));
    const chatIds = new Set(chats.map((c) => c.chatId));

    const queueSize = async () => (await bed.request('routing.rpc.queue', {})).length;
    // All 50 arrived: 30 assigned (3 × 10), the other 20 waiting.
    await bed.log.wait('routing.evt.session_changed', (e) => e.session.queue_position === 20);
    expect(await queueSize()).toBe(20);
    const operators = await bed.request('routing.rpc.operators', {});
    for (const op of operators) expect(op.active_chats).toBe(10);

    // More capacity: the queue drains at once, still one assignment per chat.
    const beforeRaise = bed.log.mark();
    for (const op of ops) {
      await bed.request('routing.rpc.operator_updated', { operator: { ...op, max_chats: 20 } });
    }
    await bed.log.wait('routing.evt.queue_changed', (e) => e.queue.length === 0, {
      after: beforeRaise,
    });
    const assigned = bed.log.of('routing.evt.assigned');
    expect(assigned).toHaveLength(50);
    expect(new Set(assigned.map((a) => a.session.chat_id))).toEqual(chatIds);
    const load = new Map<string, number>();
    for (const a of assigned) load.set(a.operator_id, (load.get(a.operator_id) ?? 0) + 1);
    for (const n of load.values()) expect(n).toBeLessThanOrEqual(20);
    const after = await bed.request('routing.rpc.operators', {});
    expect(after.reduce((sum, o) => sum + o.active_chats, 0)).toBe(50);
    // The replicas' /metrics count each assignment once between them.
    expect((await assignmentsCounted()) - assignmentsBefore).toBe(50);
  });
});

describe('operator presence', () => {
  it('takes an operator offline after the grace period and requeues their chats at the front, in order', async () => {
    const anna = await bed.operator('Anna');
    const boris = await bed.operator('Boris');
    const annaConn = await bed.connect(anna);
    await bed.connect(boris);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    await bed.request('routing.rpc.set_status', { operator_id: boris.id, status: 'away' });
    const c1 = await bed.visitorWrites();
    await assignedTo(c1.chatId);
    const c2 = await bed.visitorWrites();
    await assignedTo(c2.chatId);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'away' });
    const c3 = await bed.visitorWrites();
    await bed.log.wait('routing.evt.queue_changed', (e) =>
      e.queue.some((q) => q.chat_id === c3.chatId),
    );

    // A reconnect within the grace period changes nothing.
    const beforeDrop = bed.log.mark();
    bed.disconnect(anna, annaConn);
    await bed.log.wait(
      'routing.evt.operator_changed',
      (e) => e.operator.id === anna.id && e.operator.connections === 0,
      { after: beforeDrop },
    );
    const again = await bed.connect(anna);
    expect((await bed.request('routing.rpc.me', { operator_id: anna.id })).operator.status).toBe(
      'away',
    );

    const beforeGone = bed.log.mark();
    bed.disconnect(anna, again);
    await bed.log.wait(
      'routing.evt.operator_changed',
      (e) => e.operator.id === anna.id && e.operator.status === 'offline',
      { after: beforeGone },
    );
    // The queue as it is now, not the first event seen after a mark: the recorder listens on core
    // NATS, where a relay handing over its lease can publish an older change again.
    const requeued = await waitFor(
      async () => {
        const queue = await bed.request('routing.rpc.queue', {});
        return queue.length === 3 && queue;
      },
      { what: "Anna's chats back in the queue" },
    );
    expect(requeued.map((q) => q.chat_id)).toEqual([c1.chatId, c2.chatId, c3.chatId]);
    expect(bed.log.of('routing.evt.unassigned').filter((u) => u.reason === 'offline')).toHaveLength(
      2,
    );
    expect((await bed.request('routing.rpc.session', { chat_id: c1.chatId }))?.queue_position).toBe(
      1,
    );

    // Boris comes online: the requeued chats are reassigned first.
    const beforeBoris = bed.log.mark();
    await bed.request('routing.rpc.set_status', { operator_id: boris.id, status: 'online' });
    const back = await bed.log.wait(
      'routing.evt.assigned',
      (e) => e.session.chat_id === c1.chatId && e.operator_id === boris.id,
    );
    expect(back.reason).toBe('requeue');
    await bed.log.wait('routing.evt.queue_changed', (e) => e.queue.length === 0, {
      after: beforeBoris,
    });
    expect(await bed.chat.historyOf(c1.chatId, 3)).toEqual([
      'system: Anna joined the chat',
      'system: Anna left the chat',
      'system: Boris joined the chat',
    ]);
  });

  it('drops the connections of a gateway that stopped heartbeating', async () => {
    const anna = await bed.operator('Anna');
    const conn = await bed.connect(anna, 'gw-dying');
    const online = bed.log.mark();
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    await bed.log.wait('routing.evt.operator_changed', (e) => e.operator.id === anna.id, {
      after: online,
    });
    const lastBeat = bed.log.mark();
    bed.bus.publish('gateway.evt.heartbeat', {
      gateway_id: 'gw-dying',
      at: new Date().toISOString(),
      operators: [{ operator_id: anna.id, connection_id: conn }],
      visitors: [],
    });
    // No more heartbeats: after the gateway timeout and the grace period Anna is offline.
    await bed.log.wait(
      'routing.evt.operator_changed',
      (e) => e.operator.id === anna.id && e.operator.status === 'offline',
      { after: lastBeat },
    );
    expect(
      (await bed.request('routing.rpc.me', { operator_id: anna.id })).operator.connections,
    ).toBe(0);
  });

  it('keeps a gateway alive on heartbeats without the list, and reconciles on the full one', async () => {
    const anna = await bed.operator('Anna');
    const conn = await bed.connect(anna, 'gw-light');
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    const beat = (full: boolean, listed: boolean) =>
      bed.bus.publish('gateway.evt.heartbeat', {
        gateway_id: 'gw-light',
        at: new Date().toISOString(),
        full,
        operators: listed ? [{ operator_id: anna.id, connection_id: conn }] : [],
        visitors: [],
      });
    // Light beats for twice the gateway timeout (3 s): Anna's connection stands.
    for (let i = 0; i < 12; i++) {
      beat(false, false);
      await new Promise((r) => setTimeout(r, 500));
    }
    const me = await bed.request('routing.rpc.me', { operator_id: anna.id });
    expect(me.operator).toMatchObject({ status: 'online', connections: 1 });
    // A full list without her connection says it is gone: she goes offline after the grace.
    const listedWithout = bed.log.mark();
    beat(true, false);
    await bed.log.wait(
      'routing.evt.operator_changed',
      (e) => e.operator.id === anna.id && e.operator.status === 'offline',
      { after: listedWithout },
    );
  });

  it('hands the chats of an operator who switches to offline to a free colleague at once', async () => {
    const anna = await bed.operator('Anna');
    const boris = await bed.operator('Boris');
    await bed.connect(anna);
    await bed.connect(boris);
    await bed.request('routing.rpc.set_status', { operator_id: boris.id, status: 'away' });
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    const chat = await bed.visitorWrites();
    expect((await assignedTo(chat.chatId)).operator_id).toBe(anna.id);
    await bed.request('routing.rpc.set_status', { operator_id: boris.id, status: 'online' });

    const beforeOffline = bed.log.mark();
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'offline' });
    const reassigned = await bed.log.wait(
      'routing.evt.assigned',
      (e) => e.session.chat_id === chat.chatId,
      { after: beforeOffline },
    );
    expect(reassigned.operator_id).toBe(boris.id);
    expect(reassigned.reason).toBe('requeue');
  });

  it('rebuilds connections from a heartbeat and marks an explicit offline as final', async () => {
    const anna = await bed.operator('Anna');
    const conn = await bed.connect(anna);
    const offline = bed.log.mark();
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'offline' });
    await bed.log.wait(
      'routing.evt.operator_changed',
      (e) => e.operator.id === anna.id && e.operator.status === 'offline',
      { after: offline },
    );
    // Redis lost the connection (e.g. restored from an older AOF); the next heartbeat restores it.
    await bed.redis.del(`parley:routing:op:${anna.id}:conns`, 'parley:routing:gw:gw-1');
    const beat = bed.log.mark();
    bed.bus.publish('gateway.evt.heartbeat', {
      gateway_id: 'gw-1',
      at: new Date().toISOString(),
      operators: [{ operator_id: anna.id, connection_id: conn }],
      visitors: [],
    });
    const seen = await bed.log.wait(
      'routing.evt.operator_changed',
      (e) => e.operator.id === anna.id && e.operator.connections === 1,
      { after: beat },
    );
    expect(seen.operator.status).toBe('offline');
  });
});
