import { expect, it } from 'vitest';
import { expectAppError, parse, type ContractKit } from '../store.contract.ts';

/** The store contract's cases for internal notes: in the operators' history, nowhere for the visitor. */
export function noteCases(kit: ContractKit): void {
  const { setup, newChat, send } = kit;

  async function chatWithNote() {
    const ctx = await setup();
    const anna = await ctx.domain.operators.createOperator(
      parse('chat.rpc.operator_create', {
        email: 'anna@example.com',
        name: 'Anna Berg',
        password: 'correct horse battery',
      }),
    );
    const chat = await newChat(ctx, { email: 'v@example.com' });
    await send(ctx, chat.id, 'question');
    const note = await send(ctx, chat.id, 'refund? @anna knows', {
      sender_type: 'admin',
      sender_id: 'op-author',
      sender_name: 'Author',
      internal: true,
    });
    await send(ctx, chat.id, 'reply', { sender_type: 'admin', sender_name: 'Author' });
    return { ctx, chat, anna, note };
  }

  it('keeps a note in the operators history in seq order, marked internal with its mentions', async () => {
    const { ctx, chat, anna, note } = await chatWithNote();
    expect(note.message).toMatchObject({ seq: 2, internal: true, mentions: [anna.id] });
    const operatorView = await ctx.domain.messagesAfter(chat.id, 0, 10, 'operator');
    expect(operatorView.messages.map((m) => [m.seq, m.content, m.internal ?? false])).toEqual([
      [1, 'question', false],
      [2, 'refund? @anna knows', true],
      [3, 'reply', false],
    ]);
    const opened = await ctx.domain.adminChat(
      parse('chat.rpc.admin_chat', { chat_id: chat.id, viewer: null }),
    );
    expect(opened.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('never returns a note to the visitor: chat, both pages, list preview and count', async () => {
    const { ctx, chat } = await chatWithNote();
    const visitorChat = await newChatAgain(ctx, chat.user.id);
    expect(visitorChat.messages.map((m) => m.content)).toEqual(['question', 'reply']);
    const after = await ctx.domain.messagesAfter(chat.id, 0, 10, 'visitor');
    expect(after.messages.map((m) => m.seq)).toEqual([1, 3]);
    const before = await ctx.domain.messagesBefore(chat.id, 4, 1, 'visitor');
    expect(before.messages.map((m) => m.seq)).toEqual([3]);
    const older = await ctx.domain.messagesBefore(chat.id, 3, 1, 'visitor');
    expect(older).toMatchObject({ has_more: false });
    expect(older.messages.map((m) => m.seq)).toEqual([1]);
    const item = await ctx.domain.chatSummary(chat.id);
    expect(item).toMatchObject({ last_message_preview: 'reply', message_count: 2 });
  });

  it('leaves notes out of the unread-reply email and of what the visitor marks read', async () => {
    const ctx = await setup();
    const chat = await newChat(ctx, { email: 'v@example.com' });
    await send(ctx, chat.id, 'question');
    await send(ctx, chat.id, 'only a note', { sender_type: 'admin', internal: true });
    expect(await ctx.domain.notifyClaim(chat.id, 2)).toMatchObject({
      claimed: false,
      reason: 'nothing_unread',
    });
    await send(ctx, chat.id, 'the answer', { sender_type: 'admin' });
    await send(ctx, chat.id, 'another note', { sender_type: 'admin', internal: true });
    const claim = await ctx.domain.notifyClaim(chat.id, 4);
    expect(claim.claimed).toBe(true);
    expect(claim.unread.map((m) => m.content)).toEqual(['the answer']);
    const read = await ctx.domain.markRead(chat.id);
    expect(read.count).toBe(1);
  });

  it('lists the notes mentioning an operator, unread until they open the chat', async () => {
    const { ctx, chat, anna, note } = await chatWithNote();
    // A resend of the same note records its mention once.
    await send(ctx, chat.id, 'refund? @anna knows', {
      sender_type: 'admin',
      client_id: note.message.client_id!,
      internal: true,
    });
    const mentions = await ctx.domain.mentionsOf(anna.id, 10);
    expect(mentions).toEqual([{ chat_id: chat.id, note: note.message, seen_at: null }]);
    await ctx.domain.adminChat(parse('chat.rpc.admin_chat', { chat_id: chat.id, viewer: anna.id }));
    const [seen] = await ctx.domain.mentionsOf(anna.id, 10);
    expect(seen?.seen_at).not.toBeNull();
    expect(await ctx.domain.mentionsOf('someone-else' as never, 10)).toEqual([]);
  });

  it('refuses notes from visitors and notes with attachments', async () => {
    const ctx = await setup();
    const chat = await newChat(ctx);
    await expectAppError(send(ctx, chat.id, 'sneaky', { internal: true }), 'forbidden');
    await expectAppError(
      send(ctx, chat.id, 'x', {
        sender_type: 'admin',
        internal: true,
        attachment_ids: ['00000000-0000-4000-8000-000000000000' as never],
      }),
      'bad_request',
    );
  });

  /** The visitor's own GET /api/support_chat for the same user. */
  function newChatAgain(ctx: Awaited<ReturnType<typeof setup>>, userId: string) {
    return ctx.domain.visitorChat(
      parse('chat.rpc.visitor_chat', {
        visitor: { user_id: userId as never, identified: false, email: null, name: null },
      }),
    );
  }
}
