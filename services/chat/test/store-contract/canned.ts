import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Actor } from '@parley/contracts/nats';
import { expectAppError, parse, type ContractKit } from '../store.contract.ts';

/** The store contract's cases for canned replies: team and personal, and who may change what. */
export function cannedCases(kit: ContractKit): void {
  const { setup } = kit;
  const operator = (role: 'admin' | 'agent'): Actor => ({
    kind: 'operator',
    operator_id: randomUUID() as never,
    name: role,
    role,
  });

  it('keeps team replies for everyone and personal ones for their owner only', async () => {
    const ctx = await setup();
    const admin = operator('admin');
    const agent = operator('agent');
    const other = operator('agent');
    const c = ctx.domain.canned;
    const team = await c.create(
      parse('chat.rpc.canned_create', {
        actor: admin,
        body: {
          shortcut: 'hello',
          title: 'Greeting',
          content: 'Hi {{visitor.name|there}}!',
          scope: 'team',
        },
      }),
    );
    expect(team).toMatchObject({ scope: 'team', owner_id: null, shortcut: 'hello' });
    const mine = await c.create(
      parse('chat.rpc.canned_create', {
        actor: agent,
        body: { shortcut: 'bye', title: 'Goodbye', content: 'Bye!', scope: 'personal' },
      }),
    );
    expect(mine.owner_id).toBe(agent.kind === 'operator' ? agent.operator_id : null);
    const listOf = async (actor: Actor) =>
      (await c.list(parse('chat.rpc.canned_list', { actor }))).map((r) => r.shortcut);
    expect(await listOf(agent)).toEqual(['bye', 'hello']);
    expect(await listOf(other)).toEqual(['hello']);

    // An agent cannot create or change team replies, nor see another agent's personal one.
    await expectAppError(
      c.create(
        parse('chat.rpc.canned_create', {
          actor: agent,
          body: { shortcut: 'x', title: 'x', content: 'x', scope: 'team' },
        }),
      ),
      'forbidden',
    );
    await expectAppError(
      c.update(
        parse('chat.rpc.canned_update', { actor: agent, id: team.id, update: { title: 'y' } }),
      ),
      'forbidden',
    );
    await expectAppError(
      c.delete(parse('chat.rpc.canned_delete', { actor: other, id: mine.id })),
      'not_found',
    );
    await expectAppError(
      c.update(
        parse('chat.rpc.canned_update', { actor: admin, id: mine.id, update: { title: 'y' } }),
      ),
      'not_found',
    );

    const edited = await c.update(
      parse('chat.rpc.canned_update', {
        actor: agent,
        id: mine.id,
        update: { content: 'See you!' },
      }),
    );
    expect(edited).toMatchObject({ content: 'See you!', title: 'Goodbye' });
    expect(await c.delete(parse('chat.rpc.canned_delete', { actor: admin, id: team.id }))).toEqual({
      deleted: true,
    });
    expect(await listOf(agent)).toEqual(['bye']);
  });

  it('refuses a shortcut taken in the same scope and owner (case-insensitive)', async () => {
    const ctx = await setup();
    const admin = operator('admin');
    const c = ctx.domain.canned;
    const body = {
      shortcut: 'Refund',
      title: 'Refund',
      content: 'We refund.',
      scope: 'team' as const,
    };
    await c.create(parse('chat.rpc.canned_create', { actor: admin, body }));
    await expectAppError(
      c.create(
        parse('chat.rpc.canned_create', { actor: admin, body: { ...body, shortcut: 'refund' } }),
      ),
      'conflict',
    );
    // The same shortcut as a personal reply is fine.
    await c.create(
      parse('chat.rpc.canned_create', { actor: admin, body: { ...body, scope: 'personal' } }),
    );
  });
}
