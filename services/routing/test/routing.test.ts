import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError, type ChatId } from '@parley/contracts';
import { waitFor } from '@parley/runtime/testing';
import { RETURN_GRACE_MS, startBed, type Bed } from './harness.ts';

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

describe('operator accounts', () => {
  it('hands the chats of a deactivated operator to a colleague and drops them from the list', async () => {
    const anna = await bed.operator('Anna');
    const boris = await bed.operator('Boris');
    await bed.connect(anna);
    await bed.connect(boris);
    await bed.request('routing.rpc.set_status', { operator_id: boris.id, status: 'away' });
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    const { chatId } = await bed.visitorWrites();
    expect((await assignedTo(chatId)).operator_id).toBe(anna.id);
    await bed.request('routing.rpc.set_status', { operator_id: boris.id, status: 'online' });

    const presence = await bed.request('routing.rpc.operator_updated', {
      operator: { ...anna, active: false },
    });
    expect(presence).toMatchObject({ status: 'offline', active_chats: 0 });
    const moved = await bed.log.wait(
      'routing.evt.assigned',
      (e) => e.session.chat_id === chatId && e.operator_id === boris.id,
    );
    expect(moved.reason).toBe('requeue');
    const listed = await bed.request('routing.rpc.operators', {});
    expect(listed.map((o) => o.id)).toEqual([boris.id]);
    await expect(
      bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' }),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });
});

describe('transfer', () => {
  it('hands a chat to a colleague, respects capacity unless an admin forces it, or returns it to the queue', async () => {
    const anna = await bed.operator('Anna');
    const boris = await bed.operator('Boris', { max_chats: 1 });
    const clara = await bed.operator('Clara', { role: 'admin' });
    await bed.connect(anna);
    await bed.connect(boris);
    await bed.connect(clara);
    // Connecting brings an operator online; Boris and Clara step away for now.
    await bed.request('routing.rpc.set_status', { operator_id: boris.id, status: 'away' });
    await bed.request('routing.rpc.set_status', { operator_id: clara.id, status: 'away' });
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    const c1 = await bed.visitorWrites();
    await assignedTo(c1.chatId);
    const asAnna = { kind: 'operator', operator_id: anna.id, name: 'Anna', role: 'agent' } as const;

    await expect(
      bed.request('routing.rpc.transfer', {
        chat_id: c1.chatId,
        actor: asAnna,
        to_operator_id: boris.id,
      }),
    ).rejects.toMatchObject({ code: 'conflict' }); // Boris is not online yet
    await bed.request('routing.rpc.set_status', { operator_id: boris.id, status: 'online' });
    const moved = await bed.request('routing.rpc.transfer', {
      chat_id: c1.chatId,
      actor: asAnna,
      to_operator_id: boris.id,
    });
    expect(moved.operator).toEqual({ id: boris.id, name: 'Boris' });
    const evt = await bed.log.wait(
      'routing.evt.assigned',
      (e) => e.session.chat_id === c1.chatId && e.reason === 'transfer',
    );
    expect(evt.from_operator).toEqual({ id: anna.id, name: 'Anna' });
    await bed.log.wait(
      'routing.evt.unassigned',
      (e) => e.chat_id === c1.chatId && e.operator_id === anna.id && e.reason === 'transferred',
    );
    expect(await bed.chat.historyOf(c1.chatId, 2)).toEqual([
      'system: Anna joined the chat',
      'system: Transferred from Anna to Boris',
    ]);

    // Boris is full: an agent cannot push more on him, an admin can with force.
    const c2 = await bed.visitorWrites();
    await assignedTo(c2.chatId);
    await expect(
      bed.request('routing.rpc.transfer', {
        chat_id: c2.chatId,
        actor: asAnna,
        to_operator_id: boris.id,
        force: true,
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    await bed.request('routing.rpc.transfer', {
      chat_id: c2.chatId,
      actor: { kind: 'operator', operator_id: clara.id, name: 'Clara', role: 'admin' },
      to_operator_id: boris.id,
      force: true,
    });
    expect(
      (await bed.request('routing.rpc.me', { operator_id: boris.id })).operator.active_chats,
    ).toBe(2);

    // Someone else's chat cannot be moved by an agent.
    await expect(
      bed.request('routing.rpc.transfer', {
        chat_id: c2.chatId,
        actor: asAnna,
        to_operator_id: null,
      }),
    ).rejects.toMatchObject({ code: 'forbidden' });

    // Back to the queue: it waits at the front and is not handed straight back to Boris.
    const asBoris = {
      kind: 'operator',
      operator_id: boris.id,
      name: 'Boris',
      role: 'agent',
    } as const;
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'away' });
    const requeued = await bed.request('routing.rpc.transfer', {
      chat_id: c2.chatId,
      actor: asBoris,
      to_operator_id: null,
    });
    expect(requeued).toMatchObject({ status: 'waiting', queue_position: 1, operator: null });
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    expect(
      (await assignedTo(c2.chatId)) &&
        (await bed.request('routing.rpc.session', { chat_id: c2.chatId }))?.operator?.id,
    ).toBe(anna.id);
  });
});

describe('queue order', () => {
  it('queues chats in the order the chat service stored their messages, whichever replica reads them first', async () => {
    const anna = await bed.operator('Anna', { max_chats: 1 });
    // Stored 1–12 ms apart; the events reach the two replicas in the opposite order.
    const t0 = Date.now() - 1000;
    const stored = [0, 1, 3, 7, 12].map((ms) => new Date(t0 + ms));
    const chats: ChatId[] = [];
    for (const writtenAt of [...stored].reverse()) {
      const c = await bed.visitorWrites({ writtenAt });
      chats.unshift(c.chatId);
    }
    await waitFor(async () => (await bed.request('routing.rpc.queue', {})).length === 5, {
      what: 'all five chats in the queue',
    });
    expect((await bed.request('routing.rpc.queue', {})).map((q) => q.chat_id)).toEqual(chats);

    // Served in that order.
    const served: ChatId[] = [];
    await bed.connect(anna);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    for (let i = 0; i < chats.length; i++) {
      const a = await bed.log.wait(
        'routing.evt.assigned',
        (e) => e.operator_id === anna.id && !served.includes(e.session.chat_id),
      );
      served.push(a.session.chat_id);
      await bed.request('routing.rpc.close', {
        chat_id: a.session.chat_id,
        actor: { kind: 'operator', operator_id: anna.id, name: 'Anna', role: 'agent' },
      });
    }
    expect(served).toEqual(chats);
  });
});

describe('a visitor who left while waiting', () => {
  it('is marked in the queue, not handed out, taken by hand only with an email, and routed again on return', async () => {
    const anna = await bed.operator('Anna', { max_chats: 5 });
    const visitor = (name: string, email: string | null) => ({
      user_id: `v_${name}-${Date.now()}` as never,
      identified: false,
      email,
      name,
    });
    const lea = visitor('Lea', 'lea@example.com');
    const noel = visitor('Noel', null);
    const stays = visitor('Stay', null);
    for (const v of [lea, noel, stays]) bed.visitorConnection(v, `conn-${v.name}`, true);
    const leaChat = await bed.visitorWrites({ userId: lea.user_id, email: 'lea@example.com' });
    const noelChat = await bed.visitorWrites({ userId: noel.user_id });
    await waitFor(async () => (await bed.request('routing.rpc.queue', {})).length === 2, {
      what: 'both chats waiting',
    });

    // Lea and Noel close the page; after the grace period their queue entries say so.
    bed.visitorConnection(lea, `conn-${lea.name}`, false);
    bed.visitorConnection(noel, `conn-${noel.name}`, false);
    const marked = await bed.log.wait(
      'routing.evt.queue_changed',
      (e) => e.queue.length === 2 && e.queue.every((q) => q.visitor_left_at),
    );
    expect(marked.queue.map((q) => q.chat_id)).toEqual([leaChat.chatId, noelChat.chatId]);
    expect(
      (await bed.request('routing.rpc.session', { chat_id: leaChat.chatId }))?.visitor_left_at,
    ).toBeTruthy();

    // Anna comes online: the visitor who is still there is served, the two who left are not.
    await bed.connect(anna);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    const stayChat = await bed.visitorWrites({ userId: stays.user_id });
    expect((await assignedTo(stayChat.chatId)).operator_id).toBe(anna.id);
    expect((await bed.request('routing.rpc.queue', {})).map((q) => q.chat_id)).toEqual([
      leaChat.chatId,
      noelChat.chatId,
    ]);

    // Lea left an email, so a reply reaches her: Anna may take her chat. Noel's nobody would read.
    await expect(
      bed.request('routing.rpc.take', { chat_id: noelChat.chatId, operator_id: anna.id }),
    ).rejects.toMatchObject({ code: 'conflict' });
    const taken = await bed.request('routing.rpc.take', {
      chat_id: leaChat.chatId,
      operator_id: anna.id,
    });
    expect(taken).toMatchObject({ status: 'active', visitor_left_at: null });

    // Noel comes back: routed again at once.
    bed.visitorConnection(noel, `conn-${noel.name}-2`, true);
    expect((await assignedTo(noelChat.chatId)).operator_id).toBe(anna.id);
  });
});

describe('back to the queue', () => {
  it('gives a chat the sole online operator returned back to them when nobody else took it in time', async () => {
    const anna = await bed.operator('Anna');
    await bed.connect(anna);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    const c1 = await bed.visitorWrites();
    await assignedTo(c1.chatId);
    const asAnna = { kind: 'operator', operator_id: anna.id, name: 'Anna', role: 'agent' } as const;
    const beforeReturn = bed.log.mark();
    const returned = await bed.request('routing.rpc.transfer', {
      chat_id: c1.chatId,
      actor: asAnna,
      to_operator_id: null,
    });
    const returnedAt = Date.now();
    // "Someone else, please": not straight back to Anna, and a newer visitor goes to her first.
    expect(returned).toMatchObject({ status: 'waiting', queue_position: 1, operator: null });
    const c2 = await bed.visitorWrites();
    expect((await assignedTo(c2.chatId)).operator_id).toBe(anna.id);
    // Nobody else came: after the grace period the free operator, Anna, gets it again.
    const back = await bed.log.wait(
      'routing.evt.assigned',
      (e) => e.session.chat_id === c1.chatId,
      { after: beforeReturn, timeoutMs: RETURN_GRACE_MS + 8000 },
    );
    expect(back.operator_id).toBe(anna.id);
    expect(Date.now() - returnedAt).toBeGreaterThanOrEqual(RETURN_GRACE_MS - 100);
    expect(await bed.request('routing.rpc.queue', {})).toEqual([]);
  });
});

describe('close and reopen', () => {
  it('closes the session and opens a new one when the visitor writes again', async () => {
    const anna = await bed.operator('Anna');
    await bed.connect(anna);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    const { chatId, userId } = await bed.visitorWrites();
    const first = await assignedTo(chatId);
    await bed.visitorWrites({ chatId, userId, text: 'still there?' });
    // A message on an open session changes nothing visible; wait until routing has read it.
    await waitFor(async () => (await bed.redis.get(`parley:routing:chat:${chatId}:seq`)) === '2');

    const closed = await bed.request('routing.rpc.close', {
      chat_id: chatId,
      actor: { kind: 'visitor', user_id: userId },
    });
    expect(closed.status).toBe('closed');
    expect(closed.closed_at).not.toBeNull();
    await bed.log.wait(
      'routing.evt.unassigned',
      (e) => e.chat_id === chatId && e.reason === 'closed',
    );
    await expect(
      bed.request('routing.rpc.close', {
        chat_id: chatId,
        actor: { kind: 'visitor', user_id: userId },
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect(
      (await bed.request('routing.rpc.me', { operator_id: anna.id })).operator.active_chats,
    ).toBe(0);

    await bed.visitorWrites({ chatId, userId, text: 'one more thing' });
    const second = await bed.log.wait(
      'routing.evt.assigned',
      (e) => e.session.chat_id === chatId && e.session.id !== first.session.id,
    );
    expect(second.session.status).toBe('active');
    expect(await bed.request('routing.rpc.visitor_sessions', { user_id: userId })).toMatchObject([
      { id: second.session.id, status: 'active' },
    ]);
    expect(
      bed.log.of('routing.evt.assigned').filter((e) => e.session.chat_id === chatId),
    ).toHaveLength(2);
    expect((await bed.chat.historyOf(chatId, 3)).slice(0, 2)).toEqual([
      'system: Anna joined the chat',
      'system: Chat closed by the visitor',
    ]);
  });
});

describe('a message read after the close', () => {
  it('does not reopen the session when it was written before the close', async () => {
    const anna = await bed.operator('Anna');
    await bed.connect(anna);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    const { chatId, userId } = await bed.visitorWrites();
    const first = await assignedTo(chatId);
    const beforeClose = new Date(Date.now() - 60_000);
    await bed.request('routing.rpc.close', {
      chat_id: chatId,
      actor: { kind: 'operator', operator_id: anna.id, name: 'Anna', role: 'agent' },
    });
    // Written a minute ago, delivered only now (e.g. redelivered after a replica crash).
    await bed.visitorWrites({ chatId, userId, text: 'thanks, bye', writtenAt: beforeClose });
    await waitFor(async () => (await bed.redis.get(`parley:routing:chat:${chatId}:seq`)) === '2');
    expect((await bed.request('routing.rpc.session', { chat_id: chatId }))?.status).toBe('closed');

    await bed.visitorWrites({ chatId, userId, text: 'actually, one more thing' });
    const reopened = await bed.log.wait(
      'routing.evt.assigned',
      (e) => e.session.chat_id === chatId && e.session.id !== first.session.id,
    );
    expect(reopened.operator_id).toBe(anna.id);
  });
});

describe('online visitors and invitations', () => {
  it('lists a browsing visitor with their pages and assigns the invited chat to the inviting operator', async () => {
    const anna = await bed.operator('Anna');
    await bed.connect(anna);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    const userId = 'u_customer-42' as const;
    const kim = {
      user_id: userId as never,
      identified: true,
      email: 'kim@example.com',
      name: 'Kim',
    };
    bed.visitorConnection(kim, 'visitor-conn-1', true, {
      userAgent: 'Mozilla/5.0 (test)',
      country: 'DE',
    });
    bed.bus.publish('gateway.evt.page_view', {
      user_id: userId as never,
      page: {
        url: 'https://shop.example/pricing',
        title: 'Pricing',
        referrer: 'https://search.example/',
      },
      timezone: 'Europe/Berlin',
      at: new Date().toISOString(),
    });
    const listed = await bed.log.wait(
      'routing.presence.visitor',
      (e) =>
        e.user_id === userId && e.visitor?.current_page?.url === 'https://shop.example/pricing',
    );
    const visitor = listed.visitor;
    expect(visitor).toMatchObject({
      name: 'Kim',
      identified: true,
      country: 'DE',
      timezone: 'Europe/Berlin',
      returning: false,
      user_agent: 'Mozilla/5.0 (test)',
      current_page: { referrer: 'https://search.example/' },
    });
    expect(await bed.request('routing.rpc.online_visitors', {})).toHaveLength(1);
    expect(
      await bed.request('routing.rpc.online_visitor', { user_id: userId as never }),
    ).toMatchObject({ name: 'Kim', country: 'DE' });

    const invited = await bed.request('routing.rpc.invite', {
      operator_id: anna.id,
      user_id: userId as never,
      message: 'Hi Kim, can I help?',
    });
    expect(invited.message).toMatchObject({
      sender_type: 'admin',
      sender_id: anna.id,
      content: 'Hi Kim, can I help?',
    });
    const evt = await bed.log.wait('routing.evt.invitation', (e) => e.chat_id === invited.chat_id);
    expect(evt).toMatchObject({ user_id: userId, operator: { id: anna.id, name: 'Anna' } });
    const assigned = await assignedTo(invited.chat_id);
    expect(assigned).toMatchObject({ operator_id: anna.id, reason: 'invitation' });
    expect(bed.chat.history(invited.chat_id)).toEqual(['admin: Hi Kim, can I help?']);
    // The visitor's reply stays in the same session with Anna.
    await bed.visitorWrites({
      chatId: invited.chat_id,
      userId: userId as never,
      text: 'Yes please',
    });
    await waitFor(
      async () => (await bed.redis.get(`parley:routing:chat:${invited.chat_id}:seq`)) === '1',
    );
    expect(
      bed.log.of('routing.evt.assigned').filter((e) => e.session.chat_id === invited.chat_id),
    ).toHaveLength(1);

    // Leaving: gone from the list after the grace period; coming back later counts as returning.
    const beforeLeave = bed.log.mark();
    bed.visitorConnection(kim, 'visitor-conn-1', false);
    await bed.log.wait(
      'routing.presence.visitor',
      (e) => e.user_id === userId && e.visitor === null,
      { after: beforeLeave },
    );
    expect(
      await bed.request('routing.rpc.online_visitor', { user_id: userId as never }),
    ).toBeNull();
    bed.log.clear();
    bed.visitorConnection(kim, 'visitor-conn-2', true, { userAgent: 'Mozilla/5.0 (test)' });
    const back = await bed.log.wait(
      'routing.presence.visitor',
      (e) => e.user_id === userId && e.visitor !== null,
    );
    expect(back.visitor).toMatchObject({
      returning: true,
      chat_id: invited.chat_id,
      country: 'DE',
    });
  });

  it('announces each arriving visitor as its own change and serves the list in sorted, filtered, searchable pages', async () => {
    const before = bed.log.mark();
    const arrivals = Array.from({ length: 15 }, (_, i) => ({
      user_id: `u_rush-${String(i).padStart(2, '0')}` as never,
      identified: i % 3 === 0,
      email: `rush-${i}@example.com`,
      name: `Rush ${String(i).padStart(2, '0')}`,
    }));
    for (const [i, v] of arrivals.entries()) bed.visitorConnection(v, `rush-conn-${i}`, true);
    for (const a of arrivals) {
      const change = await bed.log.wait(
        'routing.presence.visitor',
        (e) => e.user_id === a.user_id && e.visitor !== null,
        { after: before },
      );
      expect(change.visitor).toMatchObject({ user_id: a.user_id, name: a.name });
    }
    // No whole-list event any more: nothing whose size grows with the visitors.
    expect(
      bed.log.events.slice(before).filter((e) => e.subject === 'routing.evt.visitors_changed'),
    ).toEqual([]);

    const first = await bed.request('routing.rpc.online_visitors_page', {
      q: 'rush',
      sort: 'name',
      filter: 'all',
      offset: 0,
      limit: 4,
    });
    expect(first.total).toBe(15);
    expect(first.visitors.map((v) => v.name)).toEqual(['Rush 00', 'Rush 01', 'Rush 02', 'Rush 03']);
    const second = await bed.request('routing.rpc.online_visitors_page', {
      q: 'rush',
      sort: 'name',
      filter: 'all',
      offset: 4,
      limit: 4,
    });
    expect(second.visitors.map((v) => v.name)).toEqual([
      'Rush 04',
      'Rush 05',
      'Rush 06',
      'Rush 07',
    ]);
    const identified = await bed.request('routing.rpc.online_visitors_page', {
      q: 'rush',
      sort: 'name',
      filter: 'identified',
      offset: 0,
      limit: 50,
    });
    expect(identified.visitors.map((v) => v.name)).toEqual([
      'Rush 00',
      'Rush 03',
      'Rush 06',
      'Rush 09',
      'Rush 12',
    ]);
    const searched = await bed.request('routing.rpc.online_visitors_page', {
      q: 'RUSH-1',
      sort: 'newest',
      filter: 'all',
      offset: 0,
      limit: 50,
    });
    expect(searched.visitors.map((v) => v.email).sort()).toEqual(
      ['rush-1@example.com', ...[10, 11, 12, 13, 14].map((i) => `rush-${i}@example.com`)].sort(),
    );
    expect(searched.online).toBeGreaterThanOrEqual(15);
    for (const [i, v] of arrivals.entries()) bed.visitorConnection(v, `rush-conn-${i}`, false);
  });

  it('refuses to invite a visitor who is not online', async () => {
    const anna = await bed.operator('Anna');
    await bed.connect(anna);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    await expect(
      bed.request('routing.rpc.invite', {
        operator_id: anna.id,
        user_id: 'v_nobody' as never,
        message: 'hello',
      }),
    ).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('failures', () => {
  it('keeps routing when a replica is killed: the other one (and its replacement) lose nothing', async () => {
    const ops = await Promise.all(['Anna', 'Boris'].map((n) => bed.operator(n, { max_chats: 10 })));
    for (const op of ops) {
      await bed.connect(op);
      await bed.request('routing.rpc.set_status', { operator_id: op.id, status: 'online' });
    }
    const chats: ChatId[] = [];
    await bed.crashReplica(0, async () => {
      // Visitors keep writing while one replica is down.
      for (let i = 0; i < 10; i++) chats.push((await bed.visitorWrites()).chatId);
    });
    for (let i = 0; i < 10; i++) chats.push((await bed.visitorWrites()).chatId);
    for (const chatId of chats) await assignedTo(chatId);
    const assigned = bed.log.of('routing.evt.assigned');
    expect(assigned).toHaveLength(20);
    const operators = await bed.request('routing.rpc.operators', {});
    expect(operators.map((o) => o.active_chats)).toEqual([10, 10]);
  });

  it('comes back from a Redis restart with the same sessions, queue and operators', async () => {
    const anna = await bed.operator('Anna', { max_chats: 1 });
    await bed.connect(anna);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    const first = await bed.visitorWrites();
    await assignedTo(first.chatId);
    const second = await bed.visitorWrites();
    await bed.log.wait('routing.evt.session_changed', (e) => e.session.chat_id === second.chatId);
    const before = {
      first: await bed.request('routing.rpc.session', { chat_id: first.chatId }),
      second: await bed.request('routing.rpc.session', { chat_id: second.chatId }),
      queue: await bed.request('routing.rpc.queue', {}),
    };

    await bed.restartRedis();
    const after = await waitFor(async () => ({
      first: await bed.request('routing.rpc.session', { chat_id: first.chatId }),
      second: await bed.request('routing.rpc.session', { chat_id: second.chatId }),
      queue: await bed.request('routing.rpc.queue', {}),
    }));
    expect(after).toEqual(before);
    expect(after.second).toMatchObject({ status: 'waiting', queue_position: 1 });

    // And it keeps working: Anna closes her chat, the waiting one is hers at once.
    await bed.request('routing.rpc.close', {
      chat_id: first.chatId,
      actor: { kind: 'operator', operator_id: anna.id, name: 'Anna', role: 'agent' },
    });
    expect((await assignedTo(second.chatId)).operator_id).toBe(anna.id);
  });
});
