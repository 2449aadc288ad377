/**
 * One behavioural contract for every ChatStore implementation (SQLite, MongoDB): the product's rules
 * as the domain applies them over the store, exactly-once sends, gap-free seq under concurrency
 * from two store clients, pagination boundaries, notify claims, operators and attachments.
 * Requests go through the contracts schemas first, as they do at the NATS boundary.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError, type AttachmentId, type ChatId, type UserId } from '@parley/contracts';
import {
  rpcCatalog,
  type EventPayload,
  type EventSubject,
  type RpcRequest,
} from '@parley/contracts/nats';
import { purgeUnsentAttachments, storeAttachment } from '../src/domain/attachments.ts';
import { ChatDomain, type Clock, type EventPublisher } from '../src/domain/chats.ts';
import type { AttachmentBlobs, ChatStore } from '../src/domain/store.ts';

export interface StoreHarness {
  /**
   * A store client on the data space `space`: a new space starts empty, and opening the same
   * space again gives a second, independent client on the same data (another process's view).
   */
  open(space: string): Promise<{ store: ChatStore; blobs: AttachmentBlobs }>;
  /** Closes every client and removes the data. */
  dispose(): Promise<void>;
}

export class RecordingEvents implements EventPublisher {
  readonly published: Array<{ subject: EventSubject; payload: unknown; msgId: string }> = [];
  failNext = 0;
  async publish<S extends EventSubject>(
    subject: S,
    payload: EventPayload<S>,
    msgId: string,
  ): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('publish failed (simulated NATS outage)');
    }
    this.published.push({ subject, payload, msgId });
  }
  of<S extends EventSubject>(subject: S): EventPayload<S>[] {
    return this.published
      .filter((e) => e.subject === subject)
      .map((e) => e.payload as EventPayload<S>);
  }
}

/** A clock the test moves by hand, so equal timestamps (tie-breaks) are reproducible. */
class ManualClock implements Clock {
  private t = Date.parse('2026-01-29T10:00:00.000Z');
  now(): Date {
    return new Date(this.t);
  }
  advance(ms = 1000): void {
    this.t += ms;
  }
}

const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

const userId = (): UserId => `v_${randomUUID()}` as UserId;
const clientId = () => randomUUID();

function parse<S extends keyof typeof rpcCatalog>(subject: S, raw: RpcRequest<S>) {
  return rpcCatalog[subject].request.parse(raw) as never;
}

async function expectAppError(p: Promise<unknown>, code: AppError['code']): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  return err as AppError;
}

export function registerStoreContract(
  name: string,
  makeHarness: () => Promise<StoreHarness>,
): void {
  describe(`ChatStore contract: ${name}`, () => {
    let harness: StoreHarness | undefined;
    const getHarness = async () => (harness ??= await makeHarness());
    afterAll(async () => {
      await harness?.dispose();
    });

    async function setup(space = randomUUID()) {
      const { store, blobs } = await (await getHarness()).open(space);
      await store.init();
      const events = new RecordingEvents();
      const clock = new ManualClock();
      const domain = new ChatDomain({ store, events, clock });
      return { store, blobs, events, clock, domain, space };
    }

    type Ctx = Awaited<ReturnType<typeof setup>>;

    async function newChat(
      ctx: Ctx,
      visitor: Partial<RpcRequest<'chat.rpc.visitor_chat'>['visitor']> = {},
    ) {
      const chat = await ctx.domain.visitorChat(
        parse('chat.rpc.visitor_chat', {
          visitor: { user_id: userId(), identified: false, email: null, name: null, ...visitor },
        }),
      );
      return chat;
    }

    function send(
      ctx: Ctx,
      chatId: ChatId,
      content: string,
      extra: Partial<RpcRequest<'chat.rpc.send_message'>> = {},
    ) {
      return ctx.domain.sendMessage(
        parse('chat.rpc.send_message', {
          chat_id: chatId,
          content,
          client_id: clientId(),
          sender_type: 'user',
          sender_id: null,
          sender_name: null,
          ...extra,
        }),
      );
    }

    // ------------------------------------------------------------ chats and visitors

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

    // ------------------------------------------------------------ messages

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
      const page = await ctx.domain.messagesAfter(chat.id, 0, 100);
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
      expect(ctx.events.of('chat.evt.message_created').at(-1)!.message.content).toBe(
        'lost publish',
      );
      ctx.events.failNext = 1;
      await expect(send(ctx, chat.id, 'lost again')).rejects.toThrow(/outage/);
      expect(await ctx.domain.republishPending()).toBe(1);
      expect(ctx.events.of('chat.evt.message_created').at(-1)!.message.content).toBe('lost again');
      expect(await ctx.domain.republishPending()).toBe(0);
    });

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
      const stored = await a.domain.messagesAfter(chat.id, 0, 1000);
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
      const all = await b.domain.messagesAfter(chat.id, 0, 1000);
      expect(all.messages.map((m) => m.seq)).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));
      expect((await a.domain.chatSummary(chat.id))!.message_count).toBe(75);
    });

    it('pages older messages and messages after a seq at the boundaries', async () => {
      const ctx = await setup();
      const chat = await newChat(ctx);
      for (let i = 1; i <= 7; i++) await send(ctx, chat.id, `m${i}`);
      const seqs = (p: { messages: { seq: number }[] }) => p.messages.map((m) => m.seq);
      let page = await ctx.domain.messagesBefore(chat.id, 8, 3);
      expect([seqs(page), page.has_more, page.last_seq]).toEqual([[5, 6, 7], true, 7]);
      page = await ctx.domain.messagesBefore(chat.id, 5, 3);
      expect([seqs(page), page.has_more]).toEqual([[2, 3, 4], true]);
      page = await ctx.domain.messagesBefore(chat.id, 2, 3);
      expect([seqs(page), page.has_more]).toEqual([[1], false]);
      page = await ctx.domain.messagesBefore(chat.id, 4, 3);
      expect([seqs(page), page.has_more]).toEqual([[1, 2, 3], false]);
      page = await ctx.domain.messagesAfter(chat.id, 0, 3);
      expect([seqs(page), page.has_more]).toEqual([[1, 2, 3], true]);
      page = await ctx.domain.messagesAfter(chat.id, 4, 3);
      expect([seqs(page), page.has_more]).toEqual([[5, 6, 7], false]);
      page = await ctx.domain.messagesAfter(chat.id, 7, 3);
      expect([seqs(page), page.has_more]).toEqual([[], false]);
      const first = await ctx.domain.visitorChat(
        parse('chat.rpc.visitor_chat', {
          visitor: { user_id: chat.user.id, identified: false, email: null, name: null },
          limit: 5,
        }),
      );
      expect([seqs(first), first.has_more_before]).toEqual([[3, 4, 5, 6, 7], true]);
      await expectAppError(ctx.domain.messagesAfter(randomUUID() as ChatId, 0, 3), 'not_found');
    });

    // ------------------------------------------------------------ archive, unread, read

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
      expect(ctx.events.of('chat.evt.chat_unarchived').map((e) => e.chat.archived)).toEqual([
        false,
      ]);
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
      const page = await ctx.domain.messagesAfter(chat.id, 0, 10);
      expect(page.messages.map((m) => [m.sender_type, m.read_at !== null])).toEqual([
        ['user', false],
        ['admin', true],
        ['admin', true],
      ]);
      expect(ctx.events.of('chat.evt.chat_read')).toMatchObject([
        { chat_id: chat.id, up_to_seq: 3 },
      ]);
      const nothing = await ctx.domain.markRead(chat.id);
      expect(nothing).toMatchObject({ count: 0, read_at: null });
      expect(ctx.events.of('chat.evt.chat_read')).toHaveLength(1);
      await expectAppError(ctx.domain.markRead(randomUUID() as ChatId), 'not_found');
    });

    // ------------------------------------------------------------ console list

    it('lists chats with messages by last_message_at desc, cursor-paged with a stable tie-break', async () => {
      const ctx = await setup();
      await newChat(ctx); // no message: not listed
      const made: ChatId[] = [];
      for (let i = 0; i < 3; i++) {
        const chat = await newChat(ctx);
        ctx.clock.advance();
        await send(ctx, chat.id, `chat ${i}`);
        made.push(chat.id);
      }
      // Two chats whose last message carries the same instant: ordered by id, none lost or repeated.
      const tied: ChatId[] = [];
      ctx.clock.advance();
      for (let i = 0; i < 2; i++) {
        const chat = await newChat(ctx);
        await send(ctx, chat.id, `tied ${i}`);
        tied.push(chat.id);
      }
      const expected = [...[...tied].sort().reverse(), ...[...made].reverse()];
      const seen: ChatId[] = [];
      let cursor: string | null = null;
      const pageSizes: number[] = [];
      do {
        const page = await ctx.domain.listChats(
          parse('chat.rpc.list_chats', { archived: false, cursor, limit: 2 }),
        );
        pageSizes.push(page.items.length);
        seen.push(...page.items.map((i) => i.id));
        cursor = page.next_cursor;
      } while (cursor);
      expect(seen).toEqual(expected);
      expect(pageSizes).toEqual([2, 2, 1]);

      const exact = await ctx.domain.listChats(
        parse('chat.rpc.list_chats', { archived: false, cursor: null, limit: 5 }),
      );
      expect(exact.items).toHaveLength(5);
      expect(exact.next_cursor).toBeNull();

      await ctx.domain.setArchived(made[0]!, true);
      const archived = await ctx.domain.listChats(
        parse('chat.rpc.list_chats', { archived: true, cursor: null, limit: 10 }),
      );
      expect(archived.items.map((i) => i.id)).toEqual([made[0]]);
      expect(archived.items[0]).toMatchObject({
        archived: true,
        message_count: 1,
        unread: true,
        last_message_sender: 'user',
      });
      const active = await ctx.domain.listChats(
        parse('chat.rpc.list_chats', { archived: false, cursor: null, limit: 10 }),
      );
      expect(active.items.map((i) => i.id)).not.toContain(made[0]);

      await expectAppError(
        ctx.domain.listChats(
          parse('chat.rpc.list_chats', { archived: false, cursor: 'not-a-cursor', limit: 2 }),
        ),
        'bad_request',
      );
    });

    // ------------------------------------------------------------ notify claim

    it('claims the unread-reply email once, and not when read, archived or already notified', async () => {
      const ctx = await setup();
      const chat = await newChat(ctx, { email: 'v@example.com' });
      await send(ctx, chat.id, 'question');
      await send(ctx, chat.id, 'answer 1', { sender_type: 'admin' });
      await send(ctx, chat.id, 'answer 2', { sender_type: 'admin' });
      expect(await ctx.domain.notifyClaim(chat.id, 1)).toMatchObject({
        claimed: false,
        reason: 'nothing_unread',
      });
      const claim = await ctx.domain.notifyClaim(chat.id, 3);
      expect(claim.claimed).toBe(true);
      expect(claim.unread.map((m) => m.content)).toEqual(['answer 1', 'answer 2']);
      expect(claim.profile).toMatchObject({ email: 'v@example.com', unsubscribed: false });
      expect(claim.chat?.id).toBe(chat.id);
      const [x, y] = await Promise.all([
        ctx.domain.notifyClaim(chat.id, 3),
        ctx.domain.notifyClaim(chat.id, 2),
      ]);
      expect([x.claimed, y.claimed]).toEqual([false, false]);
      expect(x.reason).toBe('already_notified');

      await send(ctx, chat.id, 'answer 3', { sender_type: 'admin' });
      await ctx.domain.markRead(chat.id);
      expect(await ctx.domain.notifyClaim(chat.id, 4)).toMatchObject({
        claimed: false,
        reason: 'nothing_unread',
      });

      await send(ctx, chat.id, 'answer 4', { sender_type: 'admin' });
      await ctx.domain.setArchived(chat.id, true);
      expect(await ctx.domain.notifyClaim(chat.id, 5)).toMatchObject({
        claimed: false,
        reason: 'archived',
      });
      expect(await ctx.domain.notifyClaim(randomUUID() as ChatId, 1)).toMatchObject({
        claimed: false,
        reason: 'not_found',
        chat: null,
      });
    });

    it('lets exactly one of many concurrent claims win', async () => {
      const ctx = await setup();
      const other = await (await getHarness()).open(ctx.space);
      const domainB = new ChatDomain({ store: other.store, events: ctx.events });
      const chat = await newChat(ctx);
      await send(ctx, chat.id, 'reply', { sender_type: 'admin' });
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? domainB : ctx.domain).notifyClaim(chat.id, 1),
        ),
      );
      expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    });

    // ------------------------------------------------------------ operators

    it('creates operators with scrypt hashes and authenticates them', async () => {
      const ctx = await setup();
      const op = await ctx.domain.operators.createOperator(
        parse('chat.rpc.operator_create', {
          email: ' Olga@Example.com ',
          name: 'Olga',
          password: 'correct horse battery',
        }),
      );
      expect(op).toMatchObject({
        email: 'olga@example.com',
        role: 'agent',
        max_chats: 5,
        active: true,
      });
      expect(op).not.toHaveProperty('password_hash');
      const stored = await ctx.store.getOperator(op.id);
      expect(stored!.password_hash).toMatch(/^scrypt\$/);
      expect(stored!.password_hash).not.toContain('correct horse');
      expect(
        await ctx.domain.operators.authenticateOperator(
          'OLGA@example.com',
          'correct horse battery',
        ),
      ).toEqual(op);
      expect(
        await ctx.domain.operators.authenticateOperator('olga@example.com', 'wrong password'),
      ).toBeNull();
      expect(
        await ctx.domain.operators.authenticateOperator(
          'nobody@example.com',
          'correct horse battery',
        ),
      ).toBeNull();
      await expectAppError(
        ctx.domain.operators.createOperator(
          parse('chat.rpc.operator_create', {
            email: 'olga@example.com',
            name: 'Twin',
            password: '0123456789',
          }),
        ),
        'conflict',
      );
      const updated = await ctx.domain.operators.updateOperator(op.id, {
        password: 'another password',
        max_chats: 9,
      });
      expect(updated).toMatchObject({ max_chats: 9, name: 'Olga' });
      expect(
        await ctx.domain.operators.authenticateOperator(
          'olga@example.com',
          'correct horse battery',
        ),
      ).toBeNull();
      expect(
        await ctx.domain.operators.authenticateOperator('olga@example.com', 'another password'),
      ).toMatchObject({ id: op.id });
      await ctx.domain.operators.updateOperator(op.id, { active: false });
      // Deactivated: even the right password no longer signs in.
      expect(
        await ctx.domain.operators.authenticateOperator('olga@example.com', 'another password'),
      ).toBeNull();
      expect((await ctx.domain.operators.listOperators()).map((o) => o.id)).toEqual([op.id]);
      expect(await ctx.domain.operators.getOperator(op.id)).toMatchObject({ active: false });
      expect(ctx.events.of('chat.evt.operator_changed')).toHaveLength(3);
      await expectAppError(
        ctx.domain.operators.updateOperator(randomUUID() as never, { name: 'x' }),
        'not_found',
      );
    });

    it('bootstraps the admin once and never overwrites it', async () => {
      const ctx = await setup();
      const input = { email: 'Admin@Example.com', password: 'first password', name: 'Boss' };
      expect(await ctx.domain.operators.bootstrapAdmin(input)).toBe('created');
      expect(
        await ctx.domain.operators.bootstrapAdmin({ ...input, password: 'second password' }),
      ).toBe('exists');
      expect(
        await ctx.domain.operators.authenticateOperator('admin@example.com', 'first password'),
      ).toMatchObject({
        role: 'admin',
        name: 'Boss',
      });
    });

    // ------------------------------------------------------------ attachments

    it('stores attachments by content type and sends them, once, in their own chat only', async () => {
      const ctx = await setup();
      const chat = await newChat(ctx);
      const otherChat = await newChat(ctx);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-att-'));
      const upload = async (
        bytes: Buffer,
        name: string,
        claimed: string,
        chatId: ChatId = chat.id,
      ) => {
        const tempPath = path.join(dir, randomUUID());
        writeFileSync(tempPath, bytes);
        return storeAttachment(ctx, {
          chatId,
          tempPath,
          size: bytes.length,
          claimedType: claimed,
          filename: name,
          now: ctx.clock.now().toISOString(),
        });
      };
      // The name and the claimed type lie; the content decides.
      const image = await upload(PNG_1X1, 'photo.txt', 'text/plain');
      expect(image).toMatchObject({
        kind: 'image',
        content_type: 'image/png',
        size: PNG_1X1.length,
      });
      expect(image.url).toBe(`/api/attachments/${image.id}`);
      const svg = await upload(
        Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
        'x.svg',
        'image/svg+xml',
      );
      expect(svg).toMatchObject({ kind: 'file', content_type: 'image/svg+xml' });
      const text = await upload(Buffer.from('plain words'), 'notes.txt', 'text/plain');
      expect(text).toMatchObject({ kind: 'file', content_type: 'text/plain' });
      await expectAppError(
        upload(
          Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
          'a.png',
          'image/png',
        ),
        'unsupported_media_type',
      );
      await expectAppError(
        upload(PNG_1X1, 'p.png', 'image/png', randomUUID() as ChatId),
        'not_found',
      );

      const stream = await ctx.blobs.open((await ctx.store.getAttachment(image.id))!.storage_key);
      const chunks: Buffer[] = [];
      for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
      expect(Buffer.concat(chunks).equals(PNG_1X1)).toBe(true);
      expect(await ctx.domain.attachmentGet(image.id)).toMatchObject({
        id: image.id,
        chat_id: chat.id,
        kind: 'image',
      });

      const sent = await send(ctx, chat.id, '', { attachment_ids: [image.id] });
      expect(sent.message.attachments).toEqual([image]);
      expect((await ctx.domain.chatSummary(chat.id))!.last_message_preview).toBe('[image]');
      await expectAppError(
        send(ctx, chat.id, 'again', { attachment_ids: [image.id] }),
        'bad_request',
      );
      await expectAppError(
        send(ctx, otherChat.id, 'stolen', { attachment_ids: [text.id] }),
        'bad_request',
      );
      await expectAppError(
        send(ctx, chat.id, 'ghost', { attachment_ids: [randomUUID() as AttachmentId] }),
        'bad_request',
      );
      const withText = await send(ctx, chat.id, 'see notes', { attachment_ids: [text.id] });
      expect(withText.message.attachments.map((a) => a.id)).toEqual([text.id]);
      expect((await ctx.domain.messagesAfter(chat.id, 0, 10)).messages).toHaveLength(2);

      // Uploads never sent are removed after the TTL; sent ones stay.
      const day = 24 * 3600 * 1000;
      expect(await purgeUnsentAttachments(ctx, { now: ctx.clock.now(), olderThanMs: day })).toBe(0);
      ctx.clock.advance(day + 1000);
      const svgKey = (await ctx.store.getAttachment(svg.id))!.storage_key;
      expect(await purgeUnsentAttachments(ctx, { now: ctx.clock.now(), olderThanMs: day })).toBe(1);
      expect(await ctx.store.getAttachment(svg.id)).toBeNull();
      expect(await ctx.blobs.open(svgKey)).toBeNull();
      expect(await ctx.domain.attachmentGet(image.id)).not.toBeNull();
      expect(await ctx.domain.attachmentGet(text.id)).not.toBeNull();
      await expectAppError(send(ctx, chat.id, 'late', { attachment_ids: [svg.id] }), 'bad_request');
    });
  });
}
