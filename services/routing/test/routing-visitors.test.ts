import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatId } from '@parley/contracts';
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

const assignedTo = (chatId: ChatId) =>
  bed.log.wait('routing.evt.assigned', (e) => e.session.chat_id === chatId);

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
