import { AppError } from '@parley/contracts/errors';
import type { Operator, OperatorId } from '@parley/contracts/models';
import type { Identity, OperatorPrincipal, Principal } from './identity.ts';

/** Reads an operator account as stored now. */
export interface AccountPort {
  operator(id: OperatorId): Promise<Operator | null>;
}

/** A verified caller; for operators with the account as it is now (role, name, active). */
export type Authenticated =
  | { principal: Extract<Principal, { kind: 'visitor' }>; operator: null }
  | { principal: OperatorPrincipal; operator: Operator };

interface CachedAccount {
  operator: Operator | null;
  at: number;
}

/**
 * The one authentication path of REST and WebSocket: the token must be valid and not logged
 * out, and an operator's account must still be active; the role that authorizes anything is the
 * account's current one, never the one in the token. Accounts are cached for `ttlMs` and
 * replaced as soon as `accountChanged` reports a change (every gateway follows
 * chat.evt.operator_changed), so a demotion or deactivation applies at once on every replica.
 */
export class Authenticator {
  private readonly accounts = new Map<string, CachedAccount>();
  /** Bumped by every change: a read that started before one must not cache its stale answer. */
  private version = 0;

  private readonly identity: Identity;
  private readonly port: AccountPort;
  private readonly opts: { ttlMs: number; now?: () => number; maxCached?: number };

  constructor(
    identity: Identity,
    port: AccountPort,
    opts: { ttlMs: number; now?: () => number; maxCached?: number },
  ) {
    this.identity = identity;
    this.port = port;
    this.opts = opts;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  async authenticate(token: string | null | undefined): Promise<Authenticated> {
    if (!token) throw new AppError('unauthorized', 'A token is required');
    const principal = await this.identity.verify(token);
    if (!principal) throw new AppError('unauthorized', 'Token invalid or expired');
    if (principal.kind === 'visitor') return { principal, operator: null };
    return this.withAccount(principal);
  }

  /** An operator principal checked against (and updated from) the current account. */
  async withAccount(principal: OperatorPrincipal): Promise<Authenticated> {
    const operator = await this.account(principal.operator_id);
    if (!operator?.active) throw new AppError('unauthorized', 'Operator account is deactivated');
    return {
      principal: { ...principal, role: operator.role, name: operator.name, email: operator.email },
      operator,
    };
  }

  /** The account as stored now (cached). */
  async account(id: OperatorId): Promise<Operator | null> {
    const cached = this.accounts.get(id);
    if (cached && this.now() - cached.at < this.opts.ttlMs) return cached.operator;
    const version = this.version;
    const operator = await this.port.operator(id);
    if (version === this.version) this.remember(id, operator);
    return operator;
  }

  /** An account changed (role, name, active): later checks use the new state. */
  accountChanged(operator: Operator): void {
    this.version++;
    this.remember(operator.id, operator);
  }

  private remember(id: string, operator: Operator | null): void {
    if (this.accounts.size >= (this.opts.maxCached ?? 10_000)) this.accounts.clear();
    this.accounts.set(id, { operator, at: this.now() });
  }
}
