import { expect, it } from 'vitest';
import { expectAppError, parse, type ContractKit } from '../store.contract.ts';

/** The store contract's cases for labels: the set, chats' labels, the list filter. */
export function labelCases(kit: ContractKit): void {
  const { setup, newChat, send } = kit;
  it('labels chats, filters the list by label and drops a deleted label everywhere', async () => {
    const ctx = await setup();
    const vip = await ctx.domain.labels.create(
      parse('chat.rpc.label_create', { name: 'VIP', color: '#f59e0b' }),
    );
    const bug = await ctx.domain.labels.create(
      parse('chat.rpc.label_create', { name: 'Bug', color: '#ef4444' }),
    );
    await expectAppError(
      ctx.domain.labels.create(parse('chat.rpc.label_create', { name: 'vip', color: '#000' })),
      'conflict',
    );
    expect((await ctx.domain.labels.list()).map((l) => l.name)).toEqual(['Bug', 'VIP']);
    const a = await newChat(ctx);
    const b = await newChat(ctx);
    await send(ctx, a.id, 'a');
    ctx.clock.advance();
    await send(ctx, b.id, 'b');
    const item = await ctx.domain.labels.setOnChat(a.id, [vip.id, bug.id, vip.id]);
    expect(item.labels).toEqual([vip.id, bug.id]);
    await ctx.domain.labels.setOnChat(b.id, [bug.id]);
    expect(ctx.events.of('chat.evt.chat_labels_changed')).toHaveLength(2);
    const listed = async (label?: string) =>
      (
        await ctx.domain.listChats(
          parse('chat.rpc.list_chats', { archived: false, cursor: null, limit: 10, label }),
        )
      ).items.map((c) => c.id);
    expect(await listed(vip.id)).toEqual([a.id]);
    expect(await listed(bug.id)).toEqual([b.id, a.id]);
    await expectAppError(ctx.domain.labels.setOnChat(a.id, ['nope']), 'bad_request');
    await ctx.domain.labels.delete(vip.id);
    expect(await listed(vip.id)).toEqual([]);
    expect((await ctx.domain.chatSummary(a.id))?.labels).toEqual([bug.id]);
    await expectAppError(ctx.domain.labels.delete(vip.id), 'not_found');
  });
}
