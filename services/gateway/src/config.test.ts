import { describe, expect, it } from 'vitest';
import { readConfig } from './config.ts';

const env = (extra: Record<string, string>) => ({ NODE_ENV: 'test', ...extra });

describe('trusted proxy hops', () => {
  it('trusts no proxy by default, so forwarded headers are ignored', () => {
    const cfg = readConfig(env({}));
    expect(cfg.trustProxyHops).toBe(0);
    expect(cfg.TRUST_PROXY).toBe(false);
  });

  it('reads the older TRUST_PROXY=true as one trusted hop', () => {
    const cfg = readConfig(env({ TRUST_PROXY: 'true' }));
    expect(cfg.trustProxyHops).toBe(1);
    expect(cfg.TRUST_PROXY).toBe(true);
  });

  it('lets TRUST_PROXY_HOPS win over TRUST_PROXY', () => {
    expect(readConfig(env({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '2' })).trustProxyHops).toBe(2);
    const none = readConfig(env({ TRUST_PROXY: 'true', TRUST_PROXY_HOPS: '0' }));
    expect(none.trustProxyHops).toBe(0);
    expect(none.TRUST_PROXY).toBe(false);
  });

  it('treats an empty REDIS_URL as unset', () => {
    expect(readConfig(env({ REDIS_URL: '' })).REDIS_URL).toBeUndefined();
    expect(readConfig(env({ REDIS_URL: 'redis://r:6379' })).REDIS_URL).toBe('redis://r:6379');
  });
});
