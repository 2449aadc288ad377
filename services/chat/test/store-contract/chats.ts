import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { ChatId, UserId } from '@parley/contracts';
import { ChatDomain } from '../../src/domain/chats.ts';
import { clientId, expectAppError, parse, userId, type ContractKit } from '../store.contract.ts';

/** The store contract's cases for chats, visitors and messages (registered by store.contract.ts). */

/** chats and visitors */
export function chatAndVisitorCases(kit: ContractKit): void {
  const { setup, newChat } = kit;
  it('creates one chat per user on first use and returns the same chat afterwards', async () => {
    const ctx = await setup();
    const user = userId();
    const visitor = { user_id: user, identified: false, email: null, name: null };
    const [a, b] = await Promise.all([
      ctx.domain.visitorChat(parse('chat.rpc.visitor_chat', { visitor })),
      ctx.domain.visitorChat(parse('chat.rpc.visitor_chat', { visitor })),
    ]);
    expect(a.id).toBe(b.id);
    const again = await ctx.domain.visitorChat(parse('chat.rpc.visitor_chat', { visitor }));
    expect(again).toMatchObject({ id: a.id, messages: [], last_seq: 0, has_more_before: false });
    expect(again.user).toEqual({
      id: user,
      name: null,
      email: null,
      identified: false,
      unsubscribed: false,
    });
    expect(await ctx.domain.chatOwner(a.id)).toEqual({ chat_id: a.id, user_id: user });
    expect(await ctx.domain.chatOwner(randomUUID() as ChatId)).toBeNull();
  });

  it("takes an identified user's name and email from the host site, and only fills gaps for anonymous ones", async () => {
    const ctx = await setup();
    const anon = await newChat(ctx, { name: 'Ann', email: 'ann@example.com' });
    expect(anon.user).toMatchObject({ name: 'Ann', email: 'ann@example.com', identified: false });
    const renamed = await ctx.domain.visitorChat(
      parse('chat.rpc.visitor_chat', {
        visitor: { user_id: anon.user.id, identified: false, name: 'Mallory', email: null },
      }),
    );
    expect(renamed.user.name).toBe('Ann');

    const user = `u_${randomUUID()}` as UserId;
    await newChat(ctx, {
      user_id: user,
      identified: true,
      name: 'Old',
      email: 'old@example.com',
    });
    const current = await ctx.domain.visitorChat(
      parse('chat.rpc.visitor_chat', {
        visitor: { user_id: user, identified: true, name: 'New', email: 'new@example.com' },
      }),
    );
    expect(current.user).toMatchObject({
      name: 'New',
      email: 'new@example.com',
      identified: true,
    });
    const summary = await ctx.domain.chatSummary(current.id);
    expect(summary).toMatchObject({ user_email: 'new@example.com', user_name: 'New' });
  });

  it('updates the visitor profile (shown on the chat) and records unsubscribing', async () => {
    const ctx = await setup();
    const chat = await newChat(ctx);
    const profile = await ctx.domain.updateVisitor(chat.user.id, {
      name: 'Bea',
      email: 'bea@example.com',
    });
    expect(profile).toMatchObject({ name: 'Bea', email: 'bea@example.com', unsubscribed: false });
    expect(await ctx.domain.chatSummary(chat.id)).toMatchObject({
      user_name: 'Bea',
      user_email: 'bea@example.com',
    });
    const unsubscribed = await ctx.domain.unsubscribe(chat.user.id);
    expect(unsubscribed.unsubscribed).toBe(true);
    expect((await ctx.domain.visitorProfile(chat.user.id))?.unsubscribed).toBe(true);
    expect(ctx.events.of('chat.evt.visitor_updated')).toHaveLength(2);
    await ctx.domain.unsubscribe(chat.user.id);
    expect(ctx.events.of('chat.evt.visitor_updated')).toHaveLength(2);
    expect(await ctx.domain.visitorProfile(userId())).toBeNull();
  });
}

/** messages: storing, preview, resends, publishing */
export function messageCases(kit: ContractKit): void {
  const { setup, newChat, send } = kit;
  it('stores a trimmed message with seq, updates last_message_at and publishes it once', async () => {
    const ctx = await setup();
    const chat = await newChat(ctx);
    const first = await send(ctx, chat.id, '  hello  ');
    expect(first.duplicate).toBe(false);
    expect(first.message).toMatchObject({
      content: 'hello',
      seq: 1,
      sender_type: 'user',
      read_at: null,
    });
    ctx.clock.advance();
    const second = await send(ctx, chat.id, 'reply', {
      sender_type: 'admin',
      sender_id: 'op',
      sender_name: 'Olga',
    });
    expect(second.message).toMatchObject({ seq: 2, sender_type: 'admin', sender_name: 'Olga' });
    const summary = await ctx.domain.chatSummary(chat.id);
    expect(summary).toMatchObject({
      last_message_at: second.message.created_at,
      last_message_sender: 'admin',
      last_message_preview: 'reply',
      message_count: 2,
      last_seq: 2,
    });
    const created = ctx.events.of('chat.evt.message_created');
    expect(created.map((e) => e.message.id)).toEqual([first.message.id, second.message.id]);
    expect(created[1]!.chat.last_seq).toBe(2);
    const page = await ctx.domain.visitorChat(
      parse('chat.rpc.visitor_chat', {
        visitor: { user_id: chat.user.id, identified: false, email: null, name: null },
      }),
    );
    expect(page.messages.map((m) => m.content)).toEqual(['hello', 'reply']);
    expect(page.last_seq).toBe(2);
  });

  it('rejects blank content, content over 5000 characters and unknown sender types', async () => {
    const ctx = await setup();
    const chat = await newChat(ctx);
    await expectAppError(send(ctx, chat.id, '   \n  '), 'bad_request');
    const long = () => send(ctx, chat.id, 'x'.repeat(5001));
    expect(long).toThrow();
    expect(() => send(ctx, chat.id, 'hi', { sender_type: 'robot' as never })).toThrow();
    const exact = await send(ctx, chat.id, 'y'.repeat(5000));
    expect(exact.message.content).toHaveLength(5000);
    expect(exact.message.seq).toBe(1);
    await expectAppError(send(ctx, randomUUID() as ChatId, 'hello'), 'not_found');
  });

  it('accepts system messages without client_id, and keeps seq counting', async () => {
    const ctx = await setup();
    const chat = await newChat(ctx);
    await send(ctx, chat.id, 'hi');
    const sys = await send(ctx, chat.id, 'Olga joined the chat', {
      sender_type: 'system',
      client_id: null,
    });
    const sys2 = await send(ctx, chat.id, 'Olga left the chat', {
      sender_type: 'system',
      client_id: null,
    });
    expect([sys.message.seq, sys2.message.seq]).toEqual([2, 3]);
    expect(sys.message.client_id).toBeNull();
  });

  it('stores a system line with its event; the list preview and count skip system lines', async () => {
    const ctx = await setup();
    const chat = await newChat(ctx);
    await send(ctx, chat.id, 'hello');
    const system = { sender_type: 'system' as const, client_id: null };
    const joined = await send(ctx, chat.id, 'Anna joined the chat', {
      ...system,
      event: { kind: 'joined', operator_name: 'Anna' },
    });
    expect(joined.message.event).toEqual({ kind: 'joined', operator_name: 'Anna' });
    await send(ctx, chat.id, 'Transferred from Anna to Boris', {
      ...system,
      event: { kind: 'transferred', from_name: 'Anna', to_name: 'Boris' },
    });
    // A line written before events existed: text only, read back as it was stored.
    const old = await send(ctx, chat.id, 'Chat closed by the visitor', system);
    expect(old.message).not.toHaveProperty('event');
    expect(await ctx.domain.chatSummary(chat.id)).toMatchObject({
      last_message_preview: 'hello',
      last_message_sender: 'user',
      message_count: 1,
      last_seq: 4,
    });
    const history = await ctx.domain.messagesBefore(chat.id, 10, 10, 'operator');
    expect(history.messages.map((m) => m.event ?? null)).toEqual([
      null,
      { kind: 'joined', operator_name: 'Anna' },
      { kind: 'transferred', from_name: 'Anna', to_name: 'Boris' },
      null,
    ]);
    await send(ctx, chat.id, 'reply', { sender_type: 'admin', sender_name: 'Boris' });
    expect(await ctx.domain.chatSummary(chat.id)).toMatchObject({
      last_message_preview: 'reply',
      last_message_sender: 'admin',
      message_count: 2,
    });
    await expectAppError(
      send(ctx, chat.id, 'not a system line', { event: { kind: 'left', operator_name: 'A' } }),
      'bad_request',
    );
  });

  it('truncates the list preview to 100 characters', async () => {
    const ctx = await setup();
    const chat = await newChat(ctx);
    await send(ctx, chat.id, 'é'.repeat(150));
    const summary = await ctx.domain.chatSummary(chat.id);
    expect(Array.from(summary!.last_message_preview!)).toHaveLength(100);
    expect(summary!.last_message_preview!.endsWith('…')).toBe(true);
    await send(ctx, chat.id, 'short');
    expect((await ctx.domain.chatSummary(chat.id))!.last_message_preview).toBe('short');
  });

  it('returns the stored message for a resent client_id, without a second row or event', async () => {
    const ctx = await setup();
    const chat = await newChat(ctx);
    const cid = clientId();
    const first = await send(ctx, chat.id, 'once', { client_id: cid });
    const again = await send(ctx, chat.id, 'once (resent)', { client_id: cid });
    expect(again.duplicate).toBe(true);
    expect(again.message).toEqual(first.message);
    const page = await ctx.domain.messagesAfter(chat.id, 0, 100, 'operator');
    expect(page.messages).toHaveLength(1);
    expect(page.last_seq).toBe(1);
    expect(ctx.events.of('chat.evt.message_created')).toHaveLength(1);
    // The same client_id in another chat is another message.
    const other = await newChat(ctx);
    const elsewhere = await send(ctx, other.id, 'once', { client_id: cid });
    expect(elsewhere).toMatchObject({ duplicate: false, message: { seq: 1 } });
  });

  it('publishes on the resend when the first publish failed, and the relay publishes what is left', async () => {
    const ctx = await setup();
    const chat = await newChat(ctx);
    const cid = clientId();
    ctx.events.failNext = 1;
    await expect(send(ctx, chat.id, 'during an outage', { client_id: cid })).rejects.toThrow(
      /outage/,
    );
    expect(ctx.events.of('chat.evt.message_created')).toHaveLength(0);
    const resent = await send(ctx, chat.id, 'during an outage', { client_id: cid });
    expect(resent).toMatchObject({ duplicate: true, message: { seq: 1 } });
    expect(ctx.events.of('chat.evt.message_created').map((e) => e.message.id)).toEqual([
      resent.message.id,
    ]);
    await send(ctx, chat.id, 'after', { client_id: cid }); // confirmed now: nothing more
    expect(ctx.events.of('chat.evt.message_created')).toHaveLength(1);

    ctx.events.failNext = 1;
    await expect(send(ctx, chat.id, 'lost publish')).rejects.toThrow(/outage/);
    // The periodic relay leaves young messages to their own request.
    expect(await ctx.domain.republishPending({ minAgeMs: 10_000 })).toBe(0);
    ctx.clock.advance(10_000);
    expect(await ctx.domain.republishPending({ minAgeMs: 10_000 })).toBe(1);
    expect(ctx.events.of('chat.evt.message_created').at(-1)!.message.content).toBe('lost publish');
    ctx.events.failNext = 1;
    await expect(send(ctx, chat.id, 'lost again')).rejects.toThrow(/outage/);
    expect(await ctx.domain.republishPending()).toBe(1);
    expect(ctx.events.of('chat.evt.message_created').at(-1)!.message.content).toBe('lost again');
    expect(await ctx.domain.republishPending()).toBe(0);
  });
}

/** messages: concurrent sends and paging */
export function concurrencyAndPagingCases(kit: ContractKit): void {
  const { setup, newChat, send, getHarness } = kit;
  it('keeps seq gap-free and stores each client_id once under 50 concurrent sends from two store clients', async () => {
    const a = await setup();
    const bStore = await (await getHarness()).open(a.space);
    const b = {
      ...a,
      store: bStore.store,
      domain: new ChatDomain({ store: bStore.store, events: a.events }),
    };
    const chat = await newChat(a);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => send(i % 2 ? b : a, chat.id, `message ${i}`)),
    );
    const seqs = results.map((r) => r.message.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const stored = await a.domain.messagesAfter(chat.id, 0, 1000, 'operator');
    expect(stored.messages.map((m) => m.seq)).toEqual(seqs);
    expect(new Set(stored.messages.map((m) => m.id)).size).toBe(50);
    expect(stored.last_seq).toBe(50);
    // created_at never goes backwards along seq.
    const times = stored.messages.map((m) => m.created_at);
    expect([...times].sort()).toEqual(times);

    // 25 client_ids each sent twice at once, through both clients: 25 messages, 75 in all.
    const ids = Array.from({ length: 25 }, clientId);
    const dupes = await Promise.all(
      [...ids, ...ids].map((cid, i) =>
        send(i % 2 ? a : b, chat.id, `dup ${cid}`, { client_id: cid }),
      ),
    );
    expect(dupes.filter((d) => d.duplicate)).toHaveLength(25);
    for (const cid of ids) {
      const both = dupes.filter((d) => d.message.client_id === cid);
      expect(both[0]!.message.id).toBe(both[1]!.message.id);
    }
    const all = await b.domain.messagesAfter(chat.id, 0, 1000, 'operator');
    expect(all.messages.map((m) => m.seq)).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));
    expect((await a.domain.chatSummary(chat.id))!.message_count).toBe(75);
  });

  it('pages older messages and messages after a seq at the boundaries', async () => {
    const ctx = await setup();
    const chat = await newChat(ctx);
    for (let i = 1; i <= 7; i++) await send(ctx, chat.id, `m${i}`);
    const seqs = (p: { messages: { seq: number }[] }) => p.messages.map((m) => m.seq);
    let page = await ctx.domain.messagesBefore(chat.id, 8, 3, 'operator');
    expect([seqs(page), page.has_more, page.last_seq]).toEqual([[5, 6, 7], true, 7]);
    page = await ctx.domain.messagesBefore(chat.id, 5, 3, 'operator');
    expect([seqs(page), page.has_more]).toEqual([[2, 3, 4], true]);
    page = await ctx.domain.messagesBefore(chat.id, 2, 3, 'operator');
    expect([seqs(page), page.has_more]).toEqual([[1], false]);
    page = await ctx.domain.messagesBefore(chat.id, 4, 3, 'operator');
    expect([seqs(page), page.has_more]).toEqual([[1, 2, 3], false]);
    page = await ctx.domain.messagesAfter(chat.id, 0, 3, 'operator');
    expect([seqs(page), page.has_more]).toEqual([[1, 2, 3], true]);
    page = await ctx.domain.messagesAfter(chat.id, 4, 3, 'operator');
    expect([seqs(page), page.has_more]).toEqual([[5, 6, 7], false]);
    page = await ctx.domain.messagesAfter(chat.id, 7, 3, 'operator');
    expect([seqs(page), page.has_more]).toEqual([[], false]);
    const first = await ctx.domain.visitorChat(
      parse('chat.rpc.visitor_chat', {
        visitor: { user_id: chat.user.id, identified: false, email: null, name: null },
        limit: 5,
      }),
    );
    expect([seqs(first), first.has_more_before]).toEqual([[3, 4, 5, 6, 7], true]);
    await expectAppError(
      ctx.domain.messagesAfter(randomUUID() as ChatId, 0, 3, 'operator'),
      'not_found',
    );
  });
}

/** archive, unread, read */
export function archiveAndReadCases(kit: ContractKit): void {
  const { setup, newChat, send } = kit;
  it('archives and unarchives with one event per change, and a user message reactivates the chat', async () => {
    const ctx = await setup();
    const chat = await newChat(ctx);
    await send(ctx, chat.id, 'hello');
    const archived = await ctx.domain.setArchived(chat.id, true);
    expect(archived.archived).toBe(true);
    await ctx.domain.setArchived(chat.id, true);
    expect(ctx.events.of('chat.evt.chat_archived')).toHaveLength(1);

    await send(ctx, chat.id, 'operator note', { sender_type: 'admin' });
    expect((await ctx.domain.chatSummary(chat.id))!.archived).toBe(true);
    await send(ctx, chat.id, 'system note', { sender_type: 'system', client_id: null });
    expect((await ctx.domain.chatSummary(chat.id))!.archived).toBe(true);

    const back = await send(ctx, chat.id, 'I am back');
    expect(back.message.seq).toBe(4);
    expect((await ctx.domain.chatSummary(chat.id))!.archived).toBe(false);
    expect(ctx.events.of('chat.evt.chat_unarchived').map((e) => e.chat.archived)).toEqual([false]);
    expect(ctx.events.of('chat.evt.message_created').at(-1)!.chat.archived).toBe(false);

    await ctx.domain.setArchived(chat.id, true);
    const restored = await ctx.domain.setArchived(chat.id, false);
    expect(restored.archived).toBe(false);
    expect(ctx.events.of('chat.evt.chat_unarchived')).toHaveLength(2);
    await expectAppError(ctx.domain.setArchived(randomUUID() as ChatId, true), 'not_found');
  });

  it('is unread for operators while a user message is newer than the last view', async () => {
    const ctx = await setup();
    const chat = await newChat(ctx);
    expect((await ctx.domain.chatSummary(chat.id))!.unread).toBe(false);
    await send(ctx, chat.id, 'help');
    expect((await ctx.domain.chatSummary(chat.id))!.unread).toBe(true);
    const operator = randomUUID();
    ctx.clock.advance();
    const opened = await ctx.domain.adminChat(
      parse('chat.rpc.admin_chat', { chat_id: chat.id, viewer: operator }),
    );
    expect(opened.admin_viewed_at).toBe(ctx.clock.now().toISOString());
    expect(opened.messages.map((m) => m.content)).toEqual(['help']);
    expect((await ctx.domain.chatSummary(chat.id))!.unread).toBe(false);
    expect(ctx.events.of('chat.evt.chat_viewed')).toMatchObject([
      { chat_id: chat.id, chat: { unread: false } },
    ]);
    await send(ctx, chat.id, 'on it', { sender_type: 'admin' });
    expect((await ctx.domain.chatSummary(chat.id))!.unread).toBe(false);
    await send(ctx, chat.id, 'thanks');
    expect((await ctx.domain.chatSummary(chat.id))!.unread).toBe(true);
    // Reading without a viewer (e.g. a preview) does not mark it viewed.
    await ctx.domain.adminChat(parse('chat.rpc.admin_chat', { chat_id: chat.id, viewer: null }));
    expect((await ctx.domain.chatSummary(chat.id))!.unread).toBe(true);
    expect(ctx.events.of('chat.evt.chat_viewed')).toHaveLength(1);
  });

  it('marks every unread operator message read for the visitor at once, and only those', async () => {
    const ctx = await setup();
    const chat = await newChat(ctx);
    await send(ctx, chat.id, 'q');
    await send(ctx, chat.id, 'a1', { sender_type: 'admin' });
    await send(ctx, chat.id, 'a2', { sender_type: 'admin' });
    ctx.clock.advance();
    const read = await ctx.domain.markRead(chat.id);
    expect(read).toEqual({
      chat_id: chat.id,
      read_at: ctx.clock.now().toISOString(),
      count: 2,
      up_to_seq: 3,
    });
    const page = await ctx.domain.messagesAfter(chat.id, 0, 10, 'operator');
    expect(page.messages.map((m) => [m.sender_type, m.read_at !== null])).toEqual([
      ['user', false],
      ['admin', true],
      ['admin', true],
    ]);
    expect(ctx.events.of('chat.evt.chat_read')).toMatchObject([{ chat_id: chat.id, up_to_seq: 3 }]);
    const nothing = await ctx.domain.markRead(chat.id);
    expect(nothing).toMatchObject({ count: 0, read_at: null });
    expect(ctx.events.of('chat.evt.chat_read')).toHaveLength(1);
    await expectAppError(ctx.domain.markRead(randomUUID() as ChatId), 'not_found');
  });
}
