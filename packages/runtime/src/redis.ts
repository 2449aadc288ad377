import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis client from a URL, for every service that uses Redis:
 * - `redis://[:password@]host:port[/db]` (or `rediss://` for TLS): one server, as ioredis reads it;
 * - `redis+sentinel://[:password@]host:port[,host:port…]/<master name>[/db][?sentinel_password=…]`:
 *   Redis Sentinel. The client asks the sentinels for the current primary and follows a
 *   failover, so losing the primary's node costs a few seconds instead of an outage. The
 *   password is the Redis servers'; `sentinel_password` the sentinels' own, if they have one.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  const sentinel = sentinelOptions(url);
  return sentinel ? new Redis({ ...options, ...sentinel }) : new Redis(url, options);
}

/** The ioredis Sentinel options of a `redis+sentinel://` URL; null for any other URL. */
export function sentinelOptions(url: string): RedisOptions | null {
  if (!url.startsWith('redis+sentinel://')) return null;
  const m =
    /^redis\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]+)\/([^/?]+)(?:\/(\d+))?\/?(?:\?(.*))?$/.exec(
      url,
    );
  if (!m) {
    throw new Error(
      'REDIS_URL: expected redis+sentinel://[:password@]host:port[,host:port…]/<master name>[/db]',
    );
  }
  const [, username, password, hosts, name, db, query] = m;
  const sentinels = hosts!.split(',').map((h) => {
    const [host, port] = h.trim().split(':');
    return { host: host!, port: Number(port ?? 26379) };
  });
  const params = new URLSearchParams(query ?? '');
  const sentinelPassword = params.get('sentinel_password');
  return {
    sentinels,
    name: decodeURIComponent(name!),
    ...(username ? { username: decodeURIComponent(username) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
    ...(sentinelPassword ? { sentinelPassword } : {}),
    ...(db ? { db: Number(db) } : {}),
  };
}
