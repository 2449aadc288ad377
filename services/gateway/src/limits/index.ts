import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '@parley/runtime';
import type { GatewayConfig } from '../config.ts';
import { LimitRefused, LoginGuard } from './login-guard.ts';
import { memoryLimiterStore, redisLimiterStore, type LimiterStore } from './store.ts';

export { LimitRefused, LoginGuard, lockoutDelaySeconds } from './login-guard.ts';
export type { LimiterStore } from './store.ts';

/** What the per-IP REST limits count (each its own setting and counter). */
export type RestLimit = 'requests' | 'visitorSessions' | 'uploads';

/**
 * Every abuse limit of the gateway behind one interface, so REST and WebSocket do not care where
 * the counters live: Redis (REDIS_URL, shared by every replica, memory while Redis is away) or
 * this process. Callers pass the client address; refusals are LimitRefused (429, Retry-After).
 */
export interface Limits {
  /** Counts one REST request of this address; throws LimitRefused past the limit. */
  rest(limit: RestLimit, ip: string): Promise<void>;
  /** Login attempts per account, address and pair, checked before the password (LoginGuard). */
  login: LoginGuard;
  /** Counts a WebSocket upgrade of this IP; false once it made WS_UPGRADES_PER_IP this window. */
  allowUpgrade(ip: string): Promise<boolean>;
  /**
   * One WebSocket frame of a connection from an address; false when over the limit. Kept in
   * this process: a Redis round trip per frame would cost more than the flood it stops.
   */
  allowFrame(connectionId: string, ip: string): Promise<boolean>;
  close(): Promise<void>;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

const allowed = (limiter: RateLimiterAbstract, key: string) =>
  limiter.consume(key).then(
    () => true,
    (rejected: unknown) => {
      if (rejected instanceof RateLimiterRes) return false;
      throw rejected;
    },
  );

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
  const window = seconds(cfg.HTTP_RATE_WINDOW);
  const restLimits: Record<RestLimit, { limiter: RateLimiterAbstract; what: string }> = {
    requests: {
      limiter: store.limiter('rest requests', cfg.HTTP_MAX_REQUESTS_PER_IP, window),
      what: 'requests',
    },
    visitorSessions: {
      limiter: store.limiter('rest new visitor sessions', cfg.VISITOR_SESSIONS_PER_IP, window),
      what: 'new visitor sessions',
    },
    uploads: {
      limiter: store.limiter('rest uploads', cfg.ATTACHMENT_UPLOADS_PER_IP, window),
      what: 'uploads',
    },
  };
  const wsUpgrades = store.limiter('ws-upgrades', cfg.WS_UPGRADES_PER_IP, window);
  const framesPerConnection = new RateLimiterMemory({
    points: cfg.WS_MAX_MESSAGES_PER_SECOND,
    duration: 1,
  });
  const framesPerIp = new RateLimiterMemory({
    points: cfg.WS_MAX_MESSAGES_PER_SECOND_PER_IP,
    duration: 1,
  });

  return {
    async rest(limit, ip) {
      const { limiter, what } = restLimits[limit];
      try {
        await limiter.consume(ip);
      } catch (rejected) {
        if (!(rejected instanceof RateLimiterRes)) throw rejected;
        throw new LimitRefused(
          `Too many ${what} from your address: try again later`,
          seconds(rejected.msBeforeNext),
        );
      }
    },
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
    allowUpgrade: (ip) => allowed(wsUpgrades, ip),
    async allowFrame(connectionId, ip) {
      return (await allowed(framesPerConnection, connectionId)) && allowed(framesPerIp, ip);
    },
    close: () => store.close(),
  };
}
