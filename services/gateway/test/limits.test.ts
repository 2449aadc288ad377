/**
 * Login protection and per-IP limits from outside: real chat service, gateway replicas sharing
 * one Redis, clients bound to their own 127.0.x.y source addresses (Linux routes all of
 * 127.0.0.0/8 to loopback), Redis killed under running gateways.
 */
import { randomUUID } from 'node:crypto';
import nodeHttp from 'node:http';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { http } from '@parley/contracts';
import {
  freePort,
  startRedisServer,
  startService,
  startStack,
  waitFor,
  type ManagedProcess,
  type Stack,
} from '@parley/runtime/testing';

interface Reply {
  status: number;
  body: { code?: string } & Record<string, unknown>;
  retryAfter: string | undefined;
}

/** One REST request from a chosen local source address. */
function request(
  baseUrl: string,
  method: string,
  path: string,
  opts: { from: string; body?: unknown; headers?: Record<string, string>; token?: string },
): Promise<Reply> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request(
      `${baseUrl}${path}`,
      {
        method,
        localAddress: opts.from,
        agent: false,
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let body: Reply['body'] = {};
          try {
            body = text ? (JSON.parse(text) as Reply['body']) : {};
          } catch {
            // not JSON
          }
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, body, retryAfter });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const login = (baseUrl: string, from: string, email: string, password: string) =>
  request(baseUrl, 'POST', '/api/auth/login', { from, body: { email, password } });

/** Status of a WebSocket upgrade from a chosen source address (101 when it opened). */
function upgradeStatus(baseUrl: string, from: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(
      `${baseUrl.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`,
      { localAddress: from },
    );
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('error', (err) => {
      if (!String(err).includes('Unexpected server response')) reject(err);
    });
  });
}

const count = (replies: Reply[], status: number) =>
  replies.filter((r) => r.status === status).length;

let stack: Stack;
let redis: ManagedProcess;
/** Two login replicas (default REST limits) and two REST-limit replicas, all on `redis`. */
let loginA: ManagedProcess;
let loginB: ManagedProcess;
let restC: ManagedProcess;
let restD: ManagedProcess;
let adminToken: string;
let seq = 0;

const REST_LIMIT = 10;
const FREE_ATTEMPTS = 5;
/** A source address of its own for each use: 127.0.<block>.<n>. */
const nextBlock = () => ++seq;

beforeAll(async () => {
  stack = await startStack({ services: ['chat'], buildApps: false });
  redis = await startRedisServer();
  const shared = { REDIS_URL: redis.url, LOGIN_FREE_ATTEMPTS_PER_ADDRESS: String(FREE_ATTEMPTS) };
  const restLimited = {
    ...shared,
    HTTP_MAX_REQUESTS_PER_IP: String(REST_LIMIT),
    VISITOR_SESSIONS_PER_IP: String(REST_LIMIT),
    WS_UPGRADES_PER_IP: '3',
  };
  [loginA, loginB, restC, restD] = await Promise.all([
    stack.addReplica('gateway', shared),
    stack.addReplica('gateway', shared),
    stack.addReplica('gateway', restLimited),
    // One trusted proxy hop in front of D; C trusts none.
    stack.addReplica('gateway', { ...restLimited, TRUST_PROXY_HOPS: '1' }),
  ]);
  const admin = await login(loginA.url, '127.0.0.1', stack.adminEmail, stack.adminPassword);
  expect(admin.status).toBe(200);
  adminToken = (admin.body as unknown as http.LoginResponse).token;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
});

/** A fresh agent account (its limits start empty), logged into once from `home`. */
async function agent(home: string) {
  const email = `agent-${randomUUID().slice(0, 8)}@parley.test`;
  const password = `pw-${randomUUID()}`;
  const created = await request(loginA.url, 'POST', '/api/admin/operators', {
    from: '127.0.0.1',
    token: adminToken,
    body: { email, name: 'Agent', password, role: 'agent' },
  });
  expect(created.status).toBe(201);
  expect((await login(loginA.url, home, email, password)).status).toBe(200);
  return { email, password };
}

describe('login under a parallel burst', () => {
  it('checks at most the limit from one address, refuses the rest with 429, and the owner still logs in elsewhere', async () => {
    const b = nextBlock();
    const account = await agent(`127.0.${b}.1`);
    const burst = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        login(i % 2 ? loginA.url : loginB.url, `127.0.${b}.66`, account.email, 'wrong password'),
      ),
    );
    // Counted before checking, atomically in Redis: both replicas together checked at most the
    // free attempts of this (account, address) pair.
    expect(count(burst, 401)).toBeGreaterThan(0);
    expect(count(burst, 401)).toBeLessThanOrEqual(FREE_ATTEMPTS);
    expect(count(burst, 429)).toBe(120 - count(burst, 401));
    for (const r of burst.filter((x) => x.status === 429)) {
      expect(r.body.code).toBe('rate_limited');
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
    }
    // From a new address, right after.
    expect((await login(loginB.url, `127.0.${b}.2`, account.email, account.password)).status).toBe(
      200,
    );
  });

  it('answers a burst from 60 addresses with 401 or 429, never 503, and the admin logs in right after', async () => {
    const b = nextBlock();
    const burst = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        login(
          i % 2 ? loginA.url : loginB.url,
          `127.0.${b}.${i + 10}`,
          stack.adminEmail,
          'not the password',
        ),
      ),
    );
    expect(count(burst, 401) + count(burst, 429)).toBe(60);
    // The verification queue bounds the checks in flight; what does not fit is refused at once.
    expect(count(burst, 429)).toBeGreaterThan(0);
    expect(
      (await login(loginA.url, `127.0.${b}.1`, stack.adminEmail, stack.adminPassword)).status,
    ).toBe(200);
  });
});

describe('login limits per account and address', () => {
  it('an attacker locking their own (account, address) pair does not lock the owner out of theirs', async () => {
    const b = nextBlock();
    const owner = `127.0.${b}.1`;
    const attacker = `127.0.${b}.2`;
    const account = await agent(owner);
    for (let i = 0; i < FREE_ATTEMPTS; i++) {
      expect((await login(loginA.url, attacker, account.email, 'guess')).status).toBe(401);
    }
    // The attacker's pair now waits, even with the right password …
    const locked = await login(loginB.url, attacker, account.email, account.password);
    expect(locked.status).toBe(429);
    expect(Number(locked.retryAfter)).toBeGreaterThan(0);
    // … and the owner, at home, is not affected.
    expect((await login(loginB.url, owner, account.email, account.password)).status).toBe(200);
  });

  it('caps failures per account from unknown addresses; an address that logged in before still gets in', async () => {
    const gateway = await startService('gateway', {
      ...stack.envOf('gateway'),
      REDIS_URL: redis.url,
      LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '8',
    });
    try {
      const b = nextBlock();
      const home = `127.0.${b}.1`;
      const account = await agent(home);
      const guesses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          login(gateway.url, `127.0.${b}.${i + 10}`, account.email, 'guess'),
        ),
      );
      expect(count(guesses, 401)).toBeLessThanOrEqual(8);
      expect(count(guesses, 429)).toBeGreaterThanOrEqual(12);
      // Distributed guessing has hit the ceiling: new addresses wait …
      expect(
        (await login(gateway.url, `127.0.${b}.200`, account.email, account.password)).status,
      ).toBe(429);
      // … the owner's own address does not.
      expect((await login(gateway.url, home, account.email, account.password)).status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });
});

describe('per-IP limits shared by replicas', () => {
  it('counts REST requests and WebSocket upgrades of one address on every replica together', async () => {
    const from = `127.0.${nextBlock()}.1`;
    const replies: Reply[] = [];
    for (let i = 0; i < REST_LIMIT; i++) {
      replies.push(await request(i % 2 ? restC.url : restD.url, 'GET', '/api/auth/me', { from }));
    }
    expect(replies.map((r) => r.status)).toEqual(Array(REST_LIMIT).fill(401));
    for (const url of [restC.url, restD.url]) {
      const limited = await request(url, 'GET', '/api/auth/me', { from });
      expect(limited.status).toBe(429);
      expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    }

    const visitorFrom = `127.0.${nextBlock()}.1`;
    const session = await request(restC.url, 'POST', '/api/visitor/session', {
      from: visitorFrom,
      body: {},
    });
    expect(session.status).toBe(200);
    const token = (session.body as unknown as http.VisitorSessionResponse).token;
    const wsFrom = `127.0.${nextBlock()}.1`;
    expect(await upgradeStatus(restC.url, wsFrom, token)).toBe(101);
    expect(await upgradeStatus(restD.url, wsFrom, token)).toBe(101);
    expect(await upgradeStatus(restC.url, wsFrom, token)).toBe(101);
    expect(await upgradeStatus(restD.url, wsFrom, token)).toBe(429);
  });

  it('ignores X-Forwarded-For with no trusted proxy and uses the entry one hop from the right with one', async () => {
    const b = nextBlock();
    // C trusts no proxy: inventing a new X-Forwarded-For on every request does not help.
    const spoofed: number[] = [];
    for (let i = 0; i <= REST_LIMIT; i++) {
      const reply = await request(restC.url, 'GET', '/api/auth/me', {
        from: `127.0.${b}.1`,
        headers: { 'x-forwarded-for': `198.51.100.${i}` },
      });
      spoofed.push(reply.status);
    }
    expect(spoofed.slice(0, REST_LIMIT)).toEqual(Array(REST_LIMIT).fill(401));
    expect(spoofed[REST_LIMIT]).toBe(429);

    // D trusts one proxy (this test client plays it): the client is the entry it appended, and
    // whatever the client wrote to its left is ignored.
    const behindProxy = (client: string, spoof: string) =>
      request(restD.url, 'GET', '/api/auth/me', {
        from: `127.0.${b}.2`,
        headers: { 'x-forwarded-for': `${spoof}, ${client}` },
      });
    const client = `203.0.113.${b}`;
    for (let i = 0; i < REST_LIMIT; i++) {
      expect((await behindProxy(client, `198.51.100.${i}`)).status).toBe(401);
    }
    expect((await behindProxy(client, '198.51.100.250')).status).toBe(429);
    // Another client behind the same proxy has its own budget.
    expect((await behindProxy(`203.0.113.${b + 100}`, client)).status).toBe(401);
  });

  it('keeps limiting from memory while Redis is down, without a 500 or 503, and shares again once it is back', async () => {
    await redis.kill();
    const from = `127.0.${nextBlock()}.1`;
    const statuses: number[] = [];
    for (let i = 0; i <= REST_LIMIT; i++) {
      statuses.push((await request(restC.url, 'GET', '/api/auth/me', { from })).status);
    }
    expect(statuses.slice(0, REST_LIMIT)).toEqual(Array(REST_LIMIT).fill(401));
    expect(statuses[REST_LIMIT]).toBe(429);

    const attacker = `127.0.${nextBlock()}.1`;
    const logins = await Promise.all(
      Array.from({ length: 30 }, () => login(loginA.url, attacker, stack.adminEmail, 'guess')),
    );
    expect(count(logins, 401)).toBeGreaterThan(0);
    expect(count(logins, 401)).toBeLessThanOrEqual(FREE_ATTEMPTS);
    expect(count(logins, 429)).toBe(30 - count(logins, 401));
    expect(
      (await login(loginA.url, '127.0.0.1', stack.adminEmail, stack.adminPassword)).status,
    ).toBe(200);
    const ready = await fetch(`${loginA.url}/readyz`);
    expect(ready.status).toBe(200);

    // Redis is back: the replicas reconnect and count together again.
    redis = await startRedisServer({ port: redis.port });
    await waitFor(
      async () => {
        const from = `127.0.${nextBlock()}.1`;
        for (let i = 0; i < REST_LIMIT; i++) {
          await request(i % 2 ? restC.url : restD.url, 'GET', '/api/auth/me', { from });
        }
        return (await request(restC.url, 'GET', '/api/auth/me', { from })).status === 429;
      },
      { timeoutMs: 20_000, what: 'the replicas to share limits through Redis again' },
    );
  });

  it('starts and serves logins while its Redis has never been reachable', async () => {
    const gateway = await startService('gateway', {
      ...stack.envOf('gateway'),
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    try {
      const from = `127.0.${nextBlock()}.1`;
      expect((await login(gateway.url, from, stack.adminEmail, stack.adminPassword)).status).toBe(
        200,
      );
      expect((await login(gateway.url, from, stack.adminEmail, 'wrong password')).status).toBe(401);
    } finally {
      await gateway.stop();
    }
  });

  it('logs once at start that limits stay in memory without REDIS_URL', async () => {
    const gateway = await startService('gateway', {
      ...stack.envOf('gateway'),
      REDIS_URL: '',
      LOG_LEVEL: 'info',
    });
    try {
      await waitFor(() => gateway.logs().includes('gateway listening'), {
        what: 'the gateway to start',
      });
      expect(gateway.logs().match(/rate limits are kept in this process/g)).toHaveLength(1);
    } finally {
      await gateway.stop();
    }
  });
});
