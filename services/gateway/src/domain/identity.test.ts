import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { Identity, identifiedUserId, newAnonymousUserId } from './identity.ts';

const identity = new Identity({
  authTokenSecret: 'a'.repeat(40),
  identityHmacSecret: 'h'.repeat(40),
  visitorTtlMs: 60_000,
  operatorTtlMs: 60_000,
});

describe('Identity', () => {
  it('accepts only the exact HMAC of the user id', () => {
    const good = createHmac('sha256', 'h'.repeat(40)).update('42').digest('hex');
    expect(identity.verifyUserHash('42', good)).toBe(true);
    expect(identity.verifyUserHash('43', good)).toBe(false);
    expect(identity.verifyUserHash('42', good.toUpperCase())).toBe(true);
    expect(identity.verifyUserHash('42', good.slice(0, 63))).toBe(false);
    expect(identity.verifyUserHash('42', 'zz'.repeat(32))).toBe(false);
  });

  it('round-trips a visitor token and refuses it once revoked', async () => {
    const userId = newAnonymousUserId();
    const { token } = await identity.signVisitor({
      user_id: userId,
      identified: false,
      name: 'Ann',
      email: null,
    });
    const principal = await identity.verify(token);
    expect(principal).toMatchObject({
      kind: 'visitor',
      user_id: userId,
      identified: false,
      name: 'Ann',
    });
    if (!principal) throw new Error('expected a principal');
    identity.revocations.revoke(principal.jti, principal.exp);
    expect(await identity.verify(token)).toBeNull();
  });

  it('refuses tokens signed with another secret, expired or for no known kind', async () => {
    const forged = await new SignJWT({ kind: 'operator', role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('5f0c6a56-6b55-4b8e-9d6f-3f2f3b1a2c10')
      .setJti('x')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('b'.repeat(40)));
    expect(await identity.verify(forged)).toBeNull();
    expect(await identity.verify('not-a-token')).toBeNull();
    const unknownKind = await new SignJWT({ kind: 'root' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('v_1')
      .setJti('y')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a'.repeat(40)));
    expect(await identity.verify(unknownKind)).toBeNull();
  });

  it('keeps identified and anonymous ids apart and rejects unsafe host ids', () => {
    expect(identifiedUserId('42')).toBe('u_42');
    expect(identifiedUserId('{"$ne":null}')).toBeNull();
    expect(newAnonymousUserId()).toMatch(/^v_[0-9a-f-]{36}$/);
  });
});
