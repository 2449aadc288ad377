import { describe, expect, it } from 'vitest';
import type { Operator, OperatorId } from '@parley/contracts/models';
import { Authenticator } from './authenticate.ts';
import { Identity } from './identity.ts';

const identity = new Identity({
  authTokenSecret: 'a'.repeat(40),
  identityHmacSecret: 'h'.repeat(40),
  visitorTtlMs: 60_000,
  operatorTtlMs: 60_000,
});

const account: Operator = {
  id: '0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' as OperatorId,
  email: 'ada@parley.test',
  name: 'Ada',
  role: 'admin',
  max_chats: 5,
  active: true,
  created_at: new Date(0).toISOString(),
};

/** The chat service's accounts in memory; `reads` counts how often it was asked. */
function accounts(initial: Operator) {
  const store = { current: initial, reads: 0, pending: null as null | (() => void) };
  return {
    store,
    port: {
      async operator() {
        store.reads++;
        const seen = store.current;
        if (store.pending === null) return seen;
        await new Promise<void>((r) => (store.pending = r));
        return seen;
      },
    },
  };
}

describe('Authenticator', () => {
  it('authorizes with the account’s current role, not the token’s', async () => {
    const { store, port } = accounts(account);
    const auth = new Authenticator(identity, port, { ttlMs: 60_000 });
    const { token } = await identity.signOperator(account);
    expect((await auth.authenticate(token)).principal).toMatchObject({ role: 'admin' });

    const demoted = { ...account, role: 'agent' as const, name: 'Ada L.' };
    store.current = demoted;
    auth.accountChanged(demoted);
    const after = await auth.authenticate(token);
    expect(after.principal).toMatchObject({ kind: 'operator', role: 'agent', name: 'Ada L.' });
    expect(after.operator).toEqual(demoted);
  });

  it('refuses a deactivated operator and tokens that are missing or forged', async () => {
    const { port } = accounts({ ...account, active: false });
    const auth = new Authenticator(identity, port, { ttlMs: 60_000 });
    const { token } = await identity.signOperator(account);
    await expect(auth.authenticate(token)).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(auth.authenticate(null)).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(auth.authenticate(`${token}x`)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('reads an account once per TTL, and again after it expires', async () => {
    let now = 0;
    const { store, port } = accounts(account);
    const auth = new Authenticator(identity, port, { ttlMs: 1000, now: () => now });
    const { token } = await identity.signOperator(account);
    await auth.authenticate(token);
    await auth.authenticate(token);
    expect(store.reads).toBe(1);
    now = 1500;
    store.current = { ...account, active: false };
    await expect(auth.authenticate(token)).rejects.toMatchObject({ code: 'unauthorized' });
    expect(store.reads).toBe(2);
  });

  it('does not cache a read that a change overtook', async () => {
    const { store, port } = accounts(account);
    const auth = new Authenticator(identity, port, { ttlMs: 60_000 });
    store.pending = () => undefined;
    const slow = auth.account(account.id);
    const deactivated = { ...account, active: false };
    auth.accountChanged(deactivated);
    store.pending?.();
    await slow;
    store.pending = null;
    expect(await auth.account(account.id)).toEqual(deactivated);
  });

  it('lets visitors through without an account check', async () => {
    const { store, port } = accounts(account);
    const auth = new Authenticator(identity, port, { ttlMs: 60_000 });
    const { token } = await identity.signVisitor({
      user_id: 'v_abc' as never,
      identified: false,
      name: null,
      email: null,
    });
    expect((await auth.authenticate(token)).principal.kind).toBe('visitor');
    expect(store.reads).toBe(0);
  });
});
