import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  baseConfig,
  httpPort,
  sharedKeys,
  envBoolean,
  envDuration,
  loadConfig,
  resolveSecret,
} from '@parley/runtime';
import { MAX_CLIENT_FRAME_BYTES } from '@parley/contracts/ws';
import { MAX_TOKEN_TTL_MS } from '@parley/contracts/nats';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

// Login lockouts are also kept in memory (without Redis, or while it is away), whose timers hold
// at most 24.8 days; a day is far beyond any sensible login delay or window.
const loginDuration = envDuration.pipe(
  z
    .number()
    .positive()
    .max(24 * 3_600_000, 'must be at most one day (24h)'),
);

// Revocations are kept in NATS for MAX_TOKEN_TTL_MS; a longer-lived token could outlive its logout.
const tokenTtl = envDuration.pipe(
  z.number().positive().max(MAX_TOKEN_TTL_MS, 'must be at most 365 days (365d)'),
);

export const configSchema = baseConfig.extend({
  HTTP_PORT: httpPort(8080, 'Public HTTP/WebSocket port'),
  PUBLIC_URL: z
    .url()
    .default('http://localhost:8080')
    .describe("The gateway's public origin; always allowed as an Origin"),
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .describe(
      'Extra origins allowed for CORS and WebSocket upgrades, comma-separated; "*" allows any',
    ),
  TRUST_PROXY: envBoolean
    .default(false)
    .describe(
      'Older form of TRUST_PROXY_HOPS: true means one trusted reverse proxy (TRUST_PROXY_HOPS=1)',
    ),
  TRUST_PROXY_HOPS: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'Reverse proxies in front of the gateway that append to X-Forwarded-For; the client IP is the entry that many hops from the right (default 0: the socket address, X-Forwarded-For ignored)',
    ),
  COUNTRY_HEADER: z
    .string()
    .toLowerCase()
    .default('cf-ipcountry')
    .describe(
      "Request header with the visitor's ISO country code, set by a trusted proxy or CDN (read only when TRUST_PROXY_HOPS is at least 1)",
    ),
  REDIS_URL: z
    .preprocess((v) => (v === '' ? undefined : v), z.string().optional())
    .describe(
      'Redis shared by all gateway replicas for the per-IP and login limits (unset: each replica limits in its own memory)',
    ),
  GATEWAY_ID: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Name of this replica in presence events (default: host name, pid and a random suffix)',
    ),
  AUTH_TOKEN_SECRET: z.string().optional().describe('Signs visitor and operator tokens (HS256)'),
  IDENTITY_HMAC_SECRET: z
    .string()
    .optional()
    .describe('Shared with host sites: user_hash = hex HMAC-SHA256(secret, user_id)'),
  UNSUBSCRIBE_SECRET: z.string().optional().describe('Verifies unsubscribe links signed by notify'),
  CHAT_INTERNAL_URL: z
    .url()
    .default('http://127.0.0.1:8081')
    .describe("The chat service's internal HTTP (attachment bytes)"),
  WIDGET_DIST: z
    .string()
    .default('frontends/widget/build')
    .describe('Static widget build served at /widget/'),
  ADMIN_DIST: z
    .string()
    .default('frontends/admin/build')
    .describe('Static console build served at /admin/'),
  VISITOR_TOKEN_TTL: tokenTtl.default(30 * 24 * 3_600_000).describe('Lifetime of a visitor token'),
  OPERATOR_TOKEN_TTL: tokenTtl.default(12 * 3_600_000).describe('Lifetime of an operator token'),
  WS_MAX_FRAME_BYTES: positiveInt(MAX_CLIENT_FRAME_BYTES).describe(
    'Largest WebSocket frame accepted; bigger ones close the connection with 1009',
  ),
  WS_MAX_MESSAGES_PER_SECOND: positiveInt(20).describe('Frames per second one connection may send'),
  WS_MAX_MESSAGES_PER_SECOND_PER_IP: positiveInt(100).describe(
    'Frames per second all connections of one IP may send',
  ),
  WS_MAX_CONNECTIONS_PER_IP: positiveInt(50).describe('Open WebSocket connections one IP may hold'),
  WS_HEARTBEAT_INTERVAL: envDuration
    .default(30_000)
    .describe('Protocol ping interval; a connection that misses one pong is terminated'),
  PRESENCE_HEARTBEAT_INTERVAL: envDuration
    .default(10_000)
    .describe('How often this gateway says it is alive on gateway.evt.heartbeat'),
  PRESENCE_FULL_LIST_EVERY: positiveInt(6).describe(
    'Every Nth presence heartbeat lists all connections (routing reconciles presence with it; the first one always does)',
  ),
  WS_REPLAY_MAX_MESSAGES: positiveInt(500).describe(
    'Most messages replayed on a resume; beyond it the client is told to reload (recovered: false)',
  ),
  TYPING_THROTTLE: envDuration
    .default(2000)
    .describe('At most one typing signal per sender and chat in this window'),
  TYPING_EXPIRES: envDuration
    .default(3000)
    .describe('A typing indicator disappears after this much silence'),
  LOGIN_FREE_ATTEMPTS_PER_ADDRESS: positiveInt(5).describe(
    'Failed logins one address may make on one account within LOGIN_WINDOW before each further attempt waits LOGIN_DELAY, doubling',
  ),
  LOGIN_DELAY: loginDuration
    .default(30_000)
    .describe('First wait of an (account, address) pair after its free attempts'),
  LOGIN_MAX_DELAY: loginDuration
    .default(15 * 60_000)
    .describe('Longest wait of an (account, address) pair between failed logins'),
  LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: positiveInt(100).describe(
    'Failed logins per account within LOGIN_WINDOW from addresses that never logged into it (stops distributed guessing)',
  ),
  LOGIN_MAX_ATTEMPTS_PER_IP: positiveInt(50).describe(
    'Logins per IP on all accounts within LOGIN_WINDOW (successful ones are given back)',
  ),
  LOGIN_WINDOW: loginDuration.default(15 * 60_000).describe('Window of the login attempt limits'),
  LOGIN_MAX_CONCURRENT_VERIFICATIONS: positiveInt(4).describe(
    'Password checks one gateway replica has in flight at once',
  ),
  LOGIN_MAX_WAITING_VERIFICATIONS: positiveInt(16).describe(
    'Logins that may wait for a password check; beyond that a login gets 429 at once',
  ),
  HTTP_MAX_REQUESTS_PER_IP: positiveInt(1200).describe(
    'REST requests (/api) one IP may make per HTTP_RATE_WINDOW (all replicas together with REDIS_URL)',
  ),
  WS_UPGRADES_PER_IP: positiveInt(300).describe(
    'WebSocket connection attempts one IP may make per HTTP_RATE_WINDOW (all replicas together with REDIS_URL)',
  ),
  VISITOR_SESSIONS_PER_IP: positiveInt(120).describe(
    'POST /api/visitor/session calls one IP may make per HTTP_RATE_WINDOW (every page load makes one)',
  ),
  ATTACHMENT_UPLOADS_PER_IP: positiveInt(60).describe(
    'POST /api/attachments uploads one IP may make per HTTP_RATE_WINDOW',
  ),
  HTTP_RATE_WINDOW: envDuration.default(60_000).describe('Window of the per-IP REST limits'),
  MAX_ATTACHMENT_BYTES: sharedKeys.MAX_ATTACHMENT_BYTES,
  RPC_TIMEOUT: envDuration.default(5000).describe('Timeout of a NATS request to another service'),
  OPERATOR_ACCOUNT_CACHE_TTL: envDuration
    .default(60_000)
    .describe(
      "How long an operator's account (role, active) is reused for authorization; changes apply at once over chat.evt.operator_changed, this only bounds a missed event",
    ),
  DRAIN_TIMEOUT: envDuration
    .default(5000)
    .describe(
      'On shutdown, how long frames in flight (acks, RPC replies) may take before sockets close with 1012',
    ),
});

export type GatewayConfig = z.output<typeof configSchema> & {
  GATEWAY_ID: string;
  authTokenSecret: string;
  identityHmacSecret: string;
  unsubscribeSecret: string;
  allowedOrigins: string[];
  /** Trusted proxy hops: TRUST_PROXY_HOPS, else 1 for TRUST_PROXY=true, else 0. */
  trustProxyHops: number;
  /** True when at least one proxy is trusted (only then are its headers read). */
  TRUST_PROXY: boolean;
};

export function readConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  const cfg = loadConfig(configSchema, env);
  const trustProxyHops = cfg.TRUST_PROXY_HOPS ?? (cfg.TRUST_PROXY ? 1 : 0);
  return {
    ...cfg,
    trustProxyHops,
    TRUST_PROXY: trustProxyHops > 0,
    GATEWAY_ID:
      cfg.GATEWAY_ID ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    authTokenSecret: resolveSecret(cfg.AUTH_TOKEN_SECRET, 'AUTH_TOKEN_SECRET', cfg),
    identityHmacSecret: resolveSecret(cfg.IDENTITY_HMAC_SECRET, 'IDENTITY_HMAC_SECRET', cfg),
    unsubscribeSecret: resolveSecret(cfg.UNSUBSCRIBE_SECRET, 'UNSUBSCRIBE_SECRET', cfg),
    allowedOrigins: cfg.ALLOWED_ORIGINS.split(',')
      .map((o) => o.trim().replace(/\/$/, ''))
      .filter(Boolean),
  };
}
