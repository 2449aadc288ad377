import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { AttachmentId, ChatId } from '@parley/contracts';
import { purgeUnsentAttachments, storeAttachment } from '../../src/domain/attachments.ts';
import { ChatDomain } from '../../src/domain/chats.ts';
import { PNG_1X1, expectAppError, parse, type ContractKit } from '../store.contract.ts';

/** The store contract's cases for the console list, notify claims, operators and attachments. */

/** console list */
export function consoleListCases(kit: ContractKit): void {
  const { setup, newChat, send } = kit;
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
}

/** notify claim */
export function notifyClaimCases(kit: ContractKit): void {
  const { setup, newChat, send, getHarness } = kit;
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
      Array.from({ length: 10 }, (_, i) => (i % 2 ? domainB : ctx.domain).notifyClaim(chat.id, 1)),
    );
    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
  });
}

/** operators */
export function operatorCases(kit: ContractKit): void {
  const { setup } = kit;
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
      await ctx.domain.operators.authenticateOperator('OLGA@example.com', 'correct horse battery'),
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
      await ctx.domain.operators.authenticateOperator('olga@example.com', 'correct horse battery'),
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
}

/** attachments */
export function attachmentCases(kit: ContractKit): void {
  const { setup, newChat, send } = kit;
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
    expect((await ctx.domain.messagesAfter(chat.id, 0, 10, 'operator')).messages).toHaveLength(2);

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
}
