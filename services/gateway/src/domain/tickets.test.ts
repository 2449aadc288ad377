import { describe, expect, it } from 'vitest';
import { Identity } from './identity.ts';
import { WsTickets } from './tickets.ts';

const identity = new Identity({
  authTokenSecret: 's'.repeat(40),
  identityHmacSecret: 'h'.repeat(40),
  visitorTtlMs: 60_000,
  operatorTtlMs: 60_000,
});
const spent = new Set<string>();
const tickets = new WsTickets('s'.repeat(40), identity.revocations, async (id) => {
  if (spent.has(id)) return false;
  spent.add(id);
  return true;
});

describe('WsTickets', () => {
  it('redeems a ticket once, for the principal it was issued to', async () => {
    const { token } = await identity.signVisitor({
      user_id: 'v_t1' as never,
      identified: false,
      name: 'Eve',
      email: null,
    });
    const principal = (await identity.verify(token))!;
    const { ticket, expires_in } = await tickets.issue(principal);
    expect(expires_in).toBe(30);
    expect(await tickets.redeem(ticket)).toEqual(principal);
    expect(await tickets.redeem(ticket)).toBeNull();
  });

  it('is never a token, a token is never a ticket, and logging out revokes its tickets', async () => {
    const { token } = await identity.signOperator({
      id: '0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
      role: 'agent',
      name: 'Ada',
      email: 'ada@parley.test',
    });
    const principal = (await identity.verify(token))!;
    const { ticket } = await tickets.issue(principal);
    expect(await identity.verify(ticket)).toBeNull();
    expect(await tickets.redeem(token)).toBeNull();
    identity.revocations.revoke(principal.jti, principal.exp);
    expect(await tickets.redeem(ticket)).toBeNull();
  });
});
