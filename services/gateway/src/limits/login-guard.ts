import pLimit from 'p-limit';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '@parley/contracts/errors';
import type { LimiterStore } from './store.ts';

export interface LoginLimitSettings {
  /** Failures one address may make on one account within the window before delays start. */
  freeAttemptsPerAddress: number;
  /** The first delay after the free attempts; each further failure doubles it, up to maxDelay. */
  firstDelaySeconds: number;
  maxDelaySeconds: number;
  /** Failures on one account from addresses that never logged into it, within the window. */
  maxFailuresPerAccount: number;
  /** Attempts from one address on any accounts within the window (stops spraying many accounts). */
  maxAttemptsPerIp: number;
  windowSeconds: number;
  /** Password verifications this replica runs at once, and how many may wait for one. */
  maxConcurrentVerifications: number;
  maxWaitingVerifications: number;
}

/** After the nth lockout of an (account, address) pair, it waits first·2^(n-1) seconds, capped. */
export function lockoutDelaySeconds(lockouts: number, first: number, max: number): number {
  return Math.min(max, first * 2 ** Math.max(0, Math.min(lockouts - 1, 30)));
}

/**
 * A request refused by a limit (a login before its password was checked, a per-IP limit); the
 * caller sends it as 429 with Retry-After.
 */
export class LimitRefused extends AppError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super('rate_limited', message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Longer than any verification takes (RPC timeout): the pair's next attempt waits for this one. */
const GATE_HOLD_SECONDS = 60;
const LOCKOUT_MEMORY_SECONDS = 24 * 3600;
/** An address that logged into an account is trusted past that account's ceiling this long. */
// (The in-memory store expires keys with setTimeout, which holds at most 24.8 days.)
const KNOWN_ADDRESS_SECONDS = 14 * 24 * 3600;

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Login protection (OWASP): every attempt is counted *before* its password is checked, with the
 * store's atomic increment, so a parallel burst cannot slip past a limit; at most
 * maxConcurrentVerifications checks run at once and a full waiting room answers 429 at once.
 *
 * Limits, from narrowest: an (account, address) pair gets freeAttemptsPerAddress failures, then
 * one attempt per growing delay — an attacker elsewhere never locks the owner out of their own
 * address. An account gets maxFailuresPerAccount failures per window from addresses that never
 * logged into it (stops distributed guessing; addresses that did log in stay limited by their
 * pair only). An address gets maxAttemptsPerIp attempts on all accounts together.
 */
export class LoginGuard {
  private readonly pairFailures: RateLimiterAbstract;
  private readonly pairGate: RateLimiterAbstract;
  private readonly pairLockouts: RateLimiterAbstract;
  private readonly knownAddresses: RateLimiterAbstract;
  private readonly accountFailures: RateLimiterAbstract;
  private readonly ipAttempts: RateLimiterAbstract;
  private readonly verifications: ReturnType<typeof pLimit>;

  private readonly settings: LoginLimitSettings;

  constructor(store: LimiterStore, settings: LoginLimitSettings) {
    this.settings = settings;
    const w = settings.windowSeconds;
    this.pairFailures = store.limiter('login-pair', settings.freeAttemptsPerAddress, w);
    this.pairGate = store.limiter('login-pair-gate', 1, GATE_HOLD_SECONDS);
    this.pairLockouts = store.limiter('login-pair-lockouts', 1_000_000, LOCKOUT_MEMORY_SECONDS);
    this.knownAddresses = store.limiter('login-known-address', 1, KNOWN_ADDRESS_SECONDS);
    this.accountFailures = store.limiter('login-account', settings.maxFailuresPerAccount, w);
    this.ipAttempts = store.limiter('login-ip', settings.maxAttemptsPerIp, w);
    this.verifications = pLimit(settings.maxConcurrentVerifications);
  }

  /**
   * Runs `verify` (null: wrong credentials) if no limit refuses the attempt. Throws LoginRefused
   * when one does; errors of `verify` pass through and the attempt is not counted.
   */
  async attempt<T>(
    account: string,
    ip: string,
    verify: () => Promise<T | null>,
  ): Promise<T | null> {
    const v = this.verifications;
    if (
      v.activeCount >= this.settings.maxConcurrentVerifications &&
      v.pendingCount >= this.settings.maxWaitingVerifications
    ) {
      throw new LimitRefused('Too many logins in progress: try again in a moment', 1);
    }
    return v(() => this.guarded(account.trim().toLowerCase(), ip, verify));
  }

  private async guarded<T>(
    account: string,
    ip: string,
    verify: () => Promise<T | null>,
  ): Promise<T | null> {
    const pair = `${ip} ${account}`;
    const undo: Array<() => Promise<unknown>> = [];
    const refund = () => Promise.all(undo.map((fn) => fn().catch(() => undefined)));
    const take = async (limiter: RateLimiterAbstract, key: string, refused: string) => {
      try {
        const res = await limiter.consume(key);
        undo.push(() => limiter.reward(key));
        return res;
      } catch (rejected) {
        if (!(rejected instanceof RateLimiterRes)) throw rejected;
        undo.push(() => limiter.reward(key));
        await refund();
        throw new LimitRefused(refused, seconds(rejected.msBeforeNext));
      }
    };

    const known = (await this.knownAddresses.get(pair)) !== null;
    // The pair's count is taken atomically; the attempt that uses the last free one, and every
    // later one, must also hold the pair's gate, which one attempt at a time can hold.
    const count = await this.pairFailures
      .consume(pair)
      .then((res) => res.consumedPoints)
      .catch((rejected: unknown) => {
        if (rejected instanceof RateLimiterRes) return rejected.consumedPoints;
        throw rejected;
      });
    undo.push(() => this.pairFailures.reward(pair));
    const gated = count >= this.settings.freeAttemptsPerAddress;
    if (gated) {
      await take(this.pairGate, pair, 'Too many failed logins: wait before trying again');
      undo.push(() => this.pairGate.delete(pair));
    }
    if (!known) {
      await take(
        this.accountFailures,
        account,
        'Too many failed logins on this account: try again later',
      );
    }
    await take(this.ipAttempts, ip, 'Too many logins from your address: try again later');

    let result: T | null;
    try {
      result = await verify();
    } catch (err) {
      await refund();
      throw err;
    }
    if (result !== null) {
      await Promise.all([
        this.pairFailures.delete(pair),
        this.pairGate.delete(pair),
        this.pairLockouts.delete(pair),
        known ? undefined : this.accountFailures.reward(account),
        this.ipAttempts.reward(ip),
        this.knownAddresses.set(pair, 1, KNOWN_ADDRESS_SECONDS),
      ]).catch(() => undefined);
      return result;
    }
    if (gated) {
      const lockouts = (await this.pairLockouts.consume(pair)).consumedPoints;
      const delay = lockoutDelaySeconds(
        lockouts,
        this.settings.firstDelaySeconds,
        this.settings.maxDelaySeconds,
      );
      await this.pairGate.block(pair, delay);
    }
    return null;
  }
}
