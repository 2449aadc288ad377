import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { principalFromClaims, type Principal, type RevocationList } from './identity.ts';

/** Marks a ticket used; false when it had been used before (on any replica). */
export type SpendTicket = (ticketId: string) => Promise<boolean>;

export const WS_TICKET_TTL_SECONDS = 30;

/**
 * Short-lived, single-use WebSocket tickets, so the long-lived token never travels in a URL
 * (where proxies and access logs keep it). A ticket is a JWT signed with a key derived from
 * the token secret (a ticket is never accepted as a token, nor a token as a ticket) that
 * carries the principal and the id of the token it was issued for (a logout revokes its
 * tickets too). Single use across replicas is `spend`'s job.
 */
export class WsTickets {
  private readonly key: Uint8Array;
  private readonly revocations: RevocationList;
  private readonly spend: SpendTicket;
  private readonly ttlSeconds: number;

  constructor(
    authTokenSecret: string,
    revocations: RevocationList,
    spend: SpendTicket,
    ttlSeconds = WS_TICKET_TTL_SECONDS,
  ) {
    this.revocations = revocations;
    this.spend = spend;
    this.ttlSeconds = ttlSeconds;
    this.key = createHash('sha256').update(`ws-ticket\0${authTokenSecret}`).digest();
  }

  async issue(p: Principal): Promise<{ ticket: string; expires_in: number }> {
    const claims =
      p.kind === 'visitor'
        ? { kind: p.kind, identified: p.identified, name: p.name, email: p.email }
        : { kind: p.kind, role: p.role, name: p.name, email: p.email };
    const ticket = await new SignJWT({ ...claims, tjti: p.jti, texp: p.exp })
      .setProtectedHeader({ alg: 'HS256', typ: 'ws-ticket' })
      .setSubject(p.kind === 'visitor' ? p.user_id : p.operator_id)
      .setJti(randomUUID())
      .setExpirationTime(Math.floor(Date.now() / 1000) + this.ttlSeconds)
      .sign(this.key);
    return { ticket, expires_in: this.ttlSeconds };
  }

  /** The principal of a valid, unexpired, unused ticket (now used); null otherwise. */
  async redeem(ticket: string): Promise<Principal | null> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(ticket, this.key, {
        algorithms: ['HS256'],
        typ: 'ws-ticket',
      }));
    } catch {
      return null;
    }
    const { sub, jti, tjti, texp } = payload;
    if (typeof sub !== 'string' || typeof jti !== 'string') return null;
    if (typeof tjti !== 'string' || typeof texp !== 'number') return null;
    if (this.revocations.isRevoked(tjti)) return null;
    const principal = principalFromClaims(payload, sub, tjti, texp);
    if (!principal) return null;
    return (await this.spend(jti)) ? principal : null;
  }
}
