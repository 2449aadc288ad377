import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '@parley/contracts/errors';
import type { Logger } from '@parley/runtime';
import type { GatewayConfig } from '../config.ts';
import { LoginGuard, LoginRefused } from './login-guard.ts';
import { memoryLimiterStore, redisLimiterStore, type LimiterStore } from './store.ts';

export { LoginGuard, LoginRefused, lockoutDelaySeconds } from './login-guard.ts';
export type { LimiterStore } from './store.ts';

/** The gateway's abuse limits, shared by every replica through Redis when REDIS_URL is set. */
export interface Limits {
  /** A per-key limiter (per-IP REST limits use it). */
  limiter(name: string, points: number, durationSeconds: number): RateLimiterAbstract;
  login: LoginGuard;
  /** Counts a WebSocket upgrade of this IP; false once it made WS_UPGRADES_PER_IP this window. */
  allowUpgrade(ip: string): Promise<boolean>;
  close(): Promise<void>;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

export function createLimits(cfg: GatewayConfig, logger: Logger): Limits {
  const log = logger.child({ module: 'limits' });
  let store: LimiterStore;
  if (cfg.REDIS_URL) {
    store = redisLimiterStore(cfg.REDIS_URL, log);
  } else {
    store = memoryLimiterStore();
    log.info(
      'rate limits are kept in this process: each gateway replica allows the full limits (set REDIS_URL to share them)',
    );
  }
  const wsUpgrades = store.limiter(
    'ws-upgrades',
    cfg.WS_UPGRADES_PER_IP,
    seconds(cfg.HTTP_RATE_WINDOW),
  );
  return {
    limiter: (name, points, durationSeconds) => store.limiter(name, points, durationSeconds),
    login: new LoginGuard(store, {
      freeAttemptsPerAddress: cfg.LOGIN_FREE_ATTEMPTS_PER_ADDRESS,
      firstDelaySeconds: seconds(cfg.LOGIN_DELAY),
      maxDelaySeconds: seconds(cfg.LOGIN_MAX_DELAY),
      maxFailuresPerAccount: cfg.LOGIN_MAX_ATTEMPTS_PER_ACCOUNT,
      maxAttemptsPerIp: cfg.LOGIN_MAX_ATTEMPTS_PER_IP,
      windowSeconds: seconds(cfg.LOGIN_WINDOW),
      maxConcurrentVerifications: cfg.LOGIN_MAX_CONCURRENT_VERIFICATIONS,
      maxWaitingVerifications: cfg.LOGIN_MAX_WAITING_VERIFICATIONS,
    }),
    allowUpgrade: (ip) =>
      wsUpgrades.consume(ip).then(
        () => true,
        (rejected: unknown) => {
          if (rejected instanceof RateLimiterRes) return false;
          throw rejected;
        },
      ),
    close: () => store.close(),
  };
}

/**
 * For a `.catch` on a guarded login: a refusal carries Retry-After (the chat service's own
 * "too many logins in progress" too), then the error goes on to the error handler.
 */
export function withRetryAfter(res: { setHeader(name: string, value: string): unknown }) {
  return (err: unknown): never => {
    if (err instanceof LoginRefused) res.setHeader('Retry-After', String(err.retryAfterSeconds));
    else if (err instanceof AppError && err.code === 'rate_limited')
      res.setHeader('Retry-After', '1');
    throw err;
  };
}
