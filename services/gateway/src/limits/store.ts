import {
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { logConnectionErrors, type Logger } from '@parley/runtime';
import { createRedis } from '@parley/runtime/redis';

/** Where limit counters live: Redis (shared by every gateway replica) or this process. */
export interface LimiterStore {
  /** `points` per `durationSeconds` for each key (0 s: never reset by time). */
  limiter(name: string, points: number, durationSeconds: number): RateLimiterAbstract;
  readonly shared: boolean;
  close(): Promise<void>;
}

const KEY_PREFIX = 'parley:gateway:limit';

/**
 * A limit's counters are keyed by its name *and* its setting, so replicas configured alike share
 * them and one started with other numbers (a rolling change, a test) does not read theirs.
 */
const keyPrefix = (name: string, points: number, durationSeconds: number) =>
  `${KEY_PREFIX}:${name}:${points}/${durationSeconds}s`;

export function memoryLimiterStore(): LimiterStore {
  return {
    shared: false,
    limiter: (name, points, durationSeconds) =>
      new RateLimiterMemory({
        keyPrefix: keyPrefix(name, points, durationSeconds),
        points,
        duration: durationSeconds,
      }),
    close: async () => undefined,
  };
}

/**
 * Counters in Redis, each with an in-memory insurance limiter that answers only while Redis is
 * away: an outage never fails a request or turns a limit into a 503, it makes the limits
 * per-replica until Redis is back. Commands fail fast (no offline queue, a short timeout) so a
 * request never waits for a Redis that is gone. The URL may name Redis Sentinel (createRedis).
 */
export function redisLimiterStore(url: string, logger: Logger): LimiterStore {
  const redis = createRedis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
  });
  logConnectionErrors(redis, logger, 'redis (rate limits fall back to memory)');
  return {
    shared: true,
    limiter: (name, points, durationSeconds) => {
      const prefix = keyPrefix(name, points, durationSeconds);
      return new RateLimiterRedis({
        storeClient: redis,
        rejectIfRedisNotReady: true,
        keyPrefix: prefix,
        points,
        duration: durationSeconds,
        insuranceLimiter: new RateLimiterMemory({
          keyPrefix: prefix,
          points,
          duration: durationSeconds,
        }),
      });
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
