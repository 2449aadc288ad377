import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { OperatorId, UserId, type OperatorRole } from '@parley/contracts/models';
import type { Actor, VisitorIdentity } from '@parley/contracts/nats';

/** Who a verified token speaks for. `jti`/`exp` let logout revoke it until it expires. */
export type Principal =
  | {
      kind: 'visitor';
      user_id: UserId;
      identified: boolean;
      name: string | null;
      email: string | null;
      jti: string;
      exp: number;
    }
  | {
      kind: 'operator';
      operator_id: OperatorId;
      role: OperatorRole;
      name: string;
      email: string;
      jti: string;
      exp: number;
    };
export type VisitorPrincipal = Extract<Principal, { kind: 'visitor' }>;
export type OperatorPrincipal = Extract<Principal, { kind: 'operator' }>;

export interface IssuedToken {
  token: string;
  expires_at: string;
}

/**
 * Revoked token ids, kept until the token would have expired anyway. Each gateway holds the
 * list in memory, rebuilt at start from the TOKEN_REVOCATIONS stream and followed live.
 */
export class RevocationList {
  private readonly revoked = new Map<string, number>();
  revoke(jti: string, expSeconds: number): void {
    this.revoked.set(jti, expSeconds);
  }
  isRevoked(jti: string): boolean {
    const exp = this.revoked.get(jti);
    if (exp === undefined) return false;
    if (exp * 1000 < Date.now()) {
      this.revoked.delete(jti);
      return false;
    }
    return true;
  }
  prune(): void {
    const now = Date.now();
    for (const [jti, exp] of this.revoked) if (exp * 1000 < now) this.revoked.delete(jti);
  }
}

/** Signs and verifies the gateway's tokens (jose HS256) and the host site's user_hash. */
export class Identity {
  private readonly key: Uint8Array;
  private readonly hmacSecret: string;
  private readonly visitorTtlMs: number;
  private readonly operatorTtlMs: number;
  readonly revocations = new RevocationList();

  constructor(opts: {
    authTokenSecret: string;
    identityHmacSecret: string;
    visitorTtlMs: number;
    operatorTtlMs: number;
  }) {
    this.key = new TextEncoder().encode(opts.authTokenSecret);
    this.hmacSecret = opts.identityHmacSecret;
    this.visitorTtlMs = opts.visitorTtlMs;
    this.operatorTtlMs = opts.operatorTtlMs;
  }

  /** Constant-time check of user_hash = hex HMAC-SHA256(IDENTITY_HMAC_SECRET, user_id). */
  verifyUserHash(userId: string, userHash: string): boolean {
    const expected = createHmac('sha256', this.hmacSecret).update(userId).digest();
    if (!/^[0-9a-fA-F]{64}$/.test(userHash)) return false;
    const given = Buffer.from(userHash, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  async signVisitor(v: VisitorIdentity): Promise<IssuedToken> {
    return this.sign(
      { kind: 'visitor', identified: v.identified, name: v.name, email: v.email },
      v.user_id,
      this.visitorTtlMs,
    );
  }

  async signOperator(o: {
    id: string;
    role: OperatorRole;
    name: string;
    email: string;
  }): Promise<IssuedToken> {
    return this.sign(
      { kind: 'operator', role: o.role, name: o.name, email: o.email },
      o.id,
      this.operatorTtlMs,
    );
  }

  private async sign(
    claims: Record<string, unknown>,
    subject: string,
    ttlMs: number,
  ): Promise<IssuedToken> {
    const exp = Math.floor((Date.now() + ttlMs) / 1000);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(this.key);
    return { token, expires_at: new Date(exp * 1000).toISOString() };
  }

  /** The principal of a valid, unexpired, unrevoked token; null for anything else. */
  async verify(token: string): Promise<Principal | null> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] }));
    } catch {
      return null;
    }
    const { sub, jti, exp } = payload;
    if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number') return null;
    if (this.revocations.isRevoked(jti)) return null;
    return principalFromClaims(payload, sub, jti, exp);
  }
}

/**
 * The principal a token's (or a ticket's) claims describe; null when they describe none.
 * `jti`/`exp` are the token's, so logging the token out reaches whatever carries them.
 */
export function principalFromClaims(
  payload: Record<string, unknown>,
  sub: string,
  jti: string,
  exp: number,
): Principal | null {
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  if (payload.kind === 'visitor') {
    const userId = UserId.safeParse(sub);
    if (!userId.success) return null;
    return {
      kind: 'visitor',
      user_id: userId.data,
      identified: payload.identified === true,
      name: str(payload.name),
      email: str(payload.email),
      jti,
      exp,
    };
  }
  if (payload.kind === 'operator') {
    const operatorId = OperatorId.safeParse(sub);
    const role = payload.role === 'admin' || payload.role === 'agent' ? payload.role : null;
    if (!operatorId.success || !role) return null;
    return {
      kind: 'operator',
      operator_id: operatorId.data,
      role,
      name: str(payload.name) ?? '',
      email: str(payload.email) ?? '',
      jti,
      exp,
    };
  }
  return null;
}

export function visitorIdentity(p: VisitorPrincipal): VisitorIdentity {
  return { user_id: p.user_id, identified: p.identified, name: p.name, email: p.email };
}

export function actorOf(p: Principal): Actor {
  return p.kind === 'visitor'
    ? { kind: 'visitor', user_id: p.user_id }
    : { kind: 'operator', operator_id: p.operator_id, name: p.name, role: p.role };
}

/** The sender fields a message carries for this principal. */
export function senderOf(p: Principal) {
  return p.kind === 'visitor'
    ? { sender_type: 'user' as const, sender_id: p.user_id as string, sender_name: p.name }
    : { sender_type: 'admin' as const, sender_id: p.operator_id as string, sender_name: p.name };
}

/** Identified visitors live in the `u_` namespace, anonymous ones in `v_` (never colliding). */
export function identifiedUserId(hostUserId: string): UserId | null {
  const parsed = UserId.safeParse(`u_${hostUserId}`);
  return parsed.success ? parsed.data : null;
}

export function newAnonymousUserId(): UserId {
  return UserId.parse(`v_${randomUUID()}`);
}
