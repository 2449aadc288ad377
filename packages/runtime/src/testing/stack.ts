/**
 * The whole product on this machine for end-to-end tests: real NATS and Redis, every service as
 * its own process (optionally several replicas), the built apps served by the gateway, and the
 * demo host page on a separate origin.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  freePort,
  repoRoot,
  startNatsServer,
  startRedisServer,
  startService,
  type ManagedProcess,
} from './processes.ts';
// The demo host page and the app builds are the same ones `npm start` uses.
import { startDemoServer } from '../../../../scripts/lib/demo-server.ts';
import { buildApp } from '../../../../scripts/lib/apps.ts';
import {
  generateNatsPasswords,
  natsServerEnv,
  renderNatsAuthorization,
} from '../../../../scripts/lib/nats-config.ts';

export type ServiceName = 'gateway' | 'chat' | 'routing' | 'notify';

export interface Stack {
  gatewayUrl: string;
  gatewayUrls: string[];
  demoUrl: string;
  adminEmail: string;
  adminPassword: string;
  secrets: { AUTH_TOKEN_SECRET: string; IDENTITY_HMAC_SECRET: string; UNSUBSCRIBE_SECRET: string };
  natsUrl: string;
  redisUrl: string;
  dataDir: string;
  /** Env every service got (before per-service overrides). */
  env: Record<string, string>;
  /** The env one service starts with: `env` plus its own NATS user. */
  envOf(name: ServiceName): Record<string, string>;
  services: Record<ServiceName, ManagedProcess[]>;
  /**
   * Takes Redis away (SIGTERM, or SIGKILL as a crash); the returned function brings it back on
   * the same port with its data.
   */
  stopRedis(signal: 'SIGTERM' | 'SIGKILL'): Promise<() => Promise<void>>;
  /** Starts one more replica of a service with the stack's env. */
  addReplica(name: ServiceName, env?: Record<string, string>): Promise<ManagedProcess>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Replicas of chat, routing and notify (default 1). */
  replicas?: number;
  /** Gateway replicas (default 1). */
  gateways?: number;
  /** Extra env for every service (e.g. NOTIFY_DELAY). */
  env?: Record<string, string>;
  /** Which services to start (default all). */
  services?: ServiceName[];
  /** Redis fsyncs every write, so acknowledged writes survive a SIGKILL (default false). */
  redisFsyncAlways?: boolean;
  /** Build the apps when their build folder is missing (default true). */
  buildApps?: boolean;
  /**
   * Each service connects as its own NATS user with the permissions production has
   * (default true); stop() fails when NATS logged a permission violation.
   */
  natsAuth?: boolean;
  /** The NATS server's max_payload in bytes (default its own, 1 MiB). */
  natsMaxPayload?: number;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const wanted = new Set<ServiceName>(opts.services ?? ['chat', 'routing', 'notify', 'gateway']);
  if (opts.buildApps !== false && wanted.has('gateway')) {
    buildApp(repoRoot, 'widget', { ifMissing: true });
    buildApp(repoRoot, 'admin', { ifMissing: true });
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-stack-'));
  const cleanup: Array<() => Promise<void>> = [];
  const services: Record<ServiceName, ManagedProcess[]> = {
    gateway: [],
    chat: [],
    routing: [],
    notify: [],
  };
  try {
    const natsAuth = opts.natsAuth !== false;
    const natsPasswords = generateNatsPasswords();
    const payloadLimit =
      opts.natsMaxPayload === undefined ? '' : `max_payload: ${opts.natsMaxPayload}\n`;
    const nats = await startNatsServer(
      natsAuth
        ? { config: payloadLimit + renderNatsAuthorization(), env: natsServerEnv(natsPasswords) }
        : payloadLimit
          ? { config: payloadLimit }
          : {},
    );
    cleanup.push(() => nats.stop());
    const redisOpts = {
      dir: mkdtempSync(path.join(dataDir, 'redis-')),
      appendfsync: opts.redisFsyncAlways ? ('always' as const) : ('everysec' as const),
    };
    let redis = await startRedisServer(redisOpts);
    cleanup.push(() => redis.stop());

    const gatewayPorts = await Promise.all(
      Array.from({ length: opts.gateways ?? 1 }, () => freePort()),
    );
    const gatewayUrls = gatewayPorts.map((p) => `http://127.0.0.1:${p}`);
    const gatewayUrl = gatewayUrls[0]!;
    const demo = await startDemoServer({
      dir: path.join(repoRoot, 'frontends', 'widget', 'demo'),
      gatewayUrl,
      port: await freePort(),
    });
    cleanup.push(() => demo.close());

    const secrets = {
      AUTH_TOKEN_SECRET: randomBytes(32).toString('base64url'),
      IDENTITY_HMAC_SECRET: randomBytes(32).toString('base64url'),
      UNSUBSCRIBE_SECRET: randomBytes(32).toString('base64url'),
    };
    const adminEmail = 'admin@parley.test';
    const adminPassword = randomBytes(12).toString('base64url');
    const chatPort = await freePort();
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      NATS_URL: nats.url,
      REDIS_URL: redis.url,
      DATA_DIR: dataDir,
      PUBLIC_URL: gatewayUrl,
      ALLOWED_ORIGINS: [...gatewayUrls, demo.url].join(','),
      CHAT_INTERNAL_URL: `http://127.0.0.1:${chatPort}`,
      ADMIN_EMAIL: adminEmail,
      ADMIN_PASSWORD: adminPassword,
      ADMIN_NAME: 'Ada Admin',
      NOTIFY_DELAY: '2s',
      OPERATOR_OFFLINE_GRACE: '2s',
      // Every test client is 127.0.0.1: per-IP REST limits sized for one person would trip.
      // The abuse-limit tests set them low on their own replica.
      HTTP_MAX_REQUESTS_PER_IP: '1000000',
      VISITOR_SESSIONS_PER_IP: '1000000',
      ATTACHMENT_UPLOADS_PER_IP: '1000000',
      WS_UPGRADES_PER_IP: '1000000',
      ...secrets,
      ...opts.env,
    };
    const replicas = opts.replicas ?? 1;
    const envOf = (name: ServiceName): Record<string, string> =>
      natsAuth ? { ...env, NATS_USER: name, NATS_PASSWORD: natsPasswords[name] } : { ...env };
    const start = async (name: ServiceName, port?: number, extra: Record<string, string> = {}) => {
      const p = await startService(name, { ...envOf(name), ...extra }, port ? { port } : {});
      services[name].push(p);
      cleanup.push(() => p.stop());
      return p;
    };
    if (wanted.has('chat')) {
      // The first replica owns CHAT_INTERNAL_URL's port; the others get their own.
      await start('chat', chatPort);
      for (let i = 1; i < replicas; i++) await start('chat');
    }
    const rest: Promise<unknown>[] = [];
    for (const name of ['routing', 'notify'] as const) {
      if (!wanted.has(name)) continue;
      for (let i = 0; i < replicas; i++) rest.push(start(name));
    }
    await Promise.all(rest);
    if (wanted.has('gateway')) {
      await Promise.all(gatewayPorts.map((port) => start('gateway', port)));
    }
    return {
      gatewayUrl,
      gatewayUrls,
      demoUrl: demo.url,
      adminEmail,
      adminPassword,
      secrets,
      natsUrl: nats.url,
      redisUrl: redis.url,
      dataDir,
      env,
      envOf,
      services,
      addReplica: (name, extra) => start(name, undefined, extra),
      async stopRedis(signal) {
        const port = redis.port;
        await (signal === 'SIGKILL' ? redis.kill() : redis.stop());
        return async () => {
          redis = await startRedisServer({ ...redisOpts, port });
        };
      },
      async stop() {
        for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
        rmSync(dataDir, { recursive: true, force: true });
        const violations = (nats.logs?.() ?? '').split('\n').filter((l) => l.includes('Violation'));
        if (violations.length > 0) {
          throw new Error(`NATS refused subjects a service used:\n${violations.join('\n')}`);
        }
      },
    };
  } catch (err) {
    const logs = Object.values(services)
      .flat()
      .map((p) => ('logs' in p && typeof p.logs === 'function' ? (p.logs as () => string)() : ''))
      .join('\n');
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    if (logs) console.error(logs.slice(-5000));
    throw err;
  }
}
