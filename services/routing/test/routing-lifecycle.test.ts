import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatId } from '@parley/contracts';
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

const assignedTo = (chatId: ChatId) =>
  bed.log.wait('routing.evt.assigned', (e) => e.session.chat_id === chatId);

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
