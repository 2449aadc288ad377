/**
 * Redis Sentinel through REDIS_URL=redis+sentinel://…: a real redis-server in sentinel mode in
 * front of a real primary; routing starts against it and answers /readyz, and what a client
 * writes through the sentinel URL lands on the primary the sentinel names.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createRedis, sentinelOptions } from '@parley/runtime/redis';
import {
  freePort,
  startNatsServer,
  startRedisServer,
  startService,
  waitFor,
  type ManagedProcess,
} from '@parley/runtime/testing';

let primary: ManagedProcess;
let replica: ManagedProcess;
let nats: ManagedProcess;
let sentinel: ChildProcess;
let sentinelPort: number;
const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-sentinel-'));

beforeAll(async () => {
  primary = await startRedisServer();
  replica = await startRedisServer();
  const toReplica = new Redis(replica.url);
  await toReplica.call('REPLICAOF', '127.0.0.1', String(primary.port));
  toReplica.disconnect();
  nats = await startNatsServer();
  sentinelPort = await freePort();
  const conf = path.join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor parley 127.0.0.1 ${primary.port} 1`,
      'sentinel down-after-milliseconds parley 1000',
      'sentinel failover-timeout parley 5000',
      '',
    ].join('\n'),
  );
  sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const probe = new Redis({ port: sentinelPort, host: '127.0.0.1', lazyConnect: true });
  // Refused until the sentinel listens: waitFor retries.
  probe.on('error', () => undefined);
  await waitFor(
    async () => {
      try {
        if (probe.status !== 'ready') await probe.connect();
        const addr = (await probe.call('SENTINEL', 'get-master-addr-by-name', 'parley')) as
          string[] | null;
        return addr?.[1] === String(primary.port);
      } catch {
        return false;
      }
    },
    { timeoutMs: 15_000, what: 'the sentinel naming the primary' },
  );
  probe.disconnect();
}, 60_000);

afterAll(async () => {
  sentinel?.kill('SIGKILL');
  await primary?.stop();
  await replica?.stop();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis Sentinel (REDIS_URL=redis+sentinel://…)', () => {
  it('reads hosts, master name, password and db from the URL, and leaves redis:// URLs alone', () => {
    expect(
      sentinelOptions(
        'redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2/parley/2?sentinel_password=x',
      ),
    ).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
      ],
      name: 'parley',
      password: 's3cret',
      sentinelPassword: 'x',
      db: 2,
    });
    expect(sentinelOptions('redis://127.0.0.1:6379')).toBeNull();
    expect(() => sentinelOptions('redis+sentinel://10.0.0.1:26379')).toThrow(/master name/);
  });

  it('a client writes through the sentinel to the primary it names', async () => {
    const viaSentinel = createRedis(`redis+sentinel://127.0.0.1:${sentinelPort}/parley`);
    const direct = new Redis(primary.url);
    try {
      await viaSentinel.set('parley:sentinel-check', 'through the sentinel');
      expect(await direct.get('parley:sentinel-check')).toBe('through the sentinel');
    } finally {
      viaSentinel.disconnect();
      direct.disconnect();
    }
  });

  it('routing starts against it and answers /readyz', async () => {
    const routing = await startService('routing', {
      NATS_URL: nats.url,
      REDIS_URL: `redis+sentinel://127.0.0.1:${sentinelPort}/parley`,
    });
    try {
      const res = await fetch(`${routing.url}/readyz`);
      expect(res.status).toBe(200);
    } finally {
      await routing.stop();
    }
  });

  // Last: it kills the primary.
  it('follows a failover: after the primary dies, writes go to the promoted replica', async () => {
    const client = createRedis(`redis+sentinel://127.0.0.1:${sentinelPort}/parley`, {
      maxRetriesPerRequest: 1,
    });
    client.on('error', () => undefined);
    const direct = new Redis(replica.url);
    try {
      await client.set('parley:before', '1');
      await waitFor(async () => (await direct.get('parley:before')) === '1', {
        timeoutMs: 10_000,
        what: 'the replica catching up',
      });
      await primary.kill();
      await waitFor(
        async () => {
          try {
            await client.set('parley:after', 'written after the failover');
            return true;
          } catch {
            return false;
          }
        },
        { timeoutMs: 30_000, what: 'a write through the sentinel after the failover' },
      );
      expect(await direct.get('parley:after')).toBe('written after the failover');
      expect(await direct.get('parley:before')).toBe('1');
    } finally {
      client.disconnect();
      direct.disconnect();
    }
  }, 60_000);
});
