import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { MAX_ATTACHMENT_BYTES } from '@parley/contracts/http';

/** A TCP port from env; 0 picks a free one (tests). */
export const httpPort = (fallback: number, description: string) =>
  z.coerce.number().int().min(0).max(65535).default(fallback).describe(description);

/**
 * Settings every service shares. Each service extends this with its own keys
 * (`baseConfig.extend({...})`); every key carries `.describe()` so docs/config.md
 * can be generated from the schemas.
 */
export const baseConfig = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'])
    .default('development')
    .describe('development generates missing secrets into DATA_DIR; production requires them'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level'),
  NATS_URL: z
    .string()
    .default('nats://127.0.0.1:4222')
    .describe('NATS server URL(s), comma-separated'),
  NATS_USER: z
    .preprocess((v) => (v === '' ? undefined : v), z.string().optional())
    .describe(
      'NATS user of this service (the server grants each service only its own subjects); unset: no authentication',
    ),
  NATS_PASSWORD: z
    .preprocess((v) => (v === '' ? undefined : v), z.string().optional())
    .describe('Password of NATS_USER'),
  NATS_STREAM_REPLICAS: z.coerce
    .number()
    .int()
    .min(1)
    .max(5)
    .default(1)
    .describe(
      'Replicas of the JetStream streams this service creates (3 on a NATS cluster; 1 on a single server)',
    ),
  HTTP_PORT: httpPort(
    8080,
    'Port of the HTTP server (ops: /healthz, /readyz, /metrics; each service sets its own default)',
  ),
  HTTP_HOST: z.string().default('0.0.0.0').describe('Interface the HTTP server listens on'),
  DATA_DIR: z
    .string()
    .default('.data')
    .describe('Folder for the embedded store, attachments and generated development secrets'),
  SHUTDOWN_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(20_000)
    .describe('Hard limit for a graceful shutdown; keep below terminationGracePeriodSeconds'),
});
export type BaseConfig = z.infer<typeof baseConfig>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Parses env with a zod schema; on failure lists every bad key at once, so an operator
 * fixes the deployment in one go instead of one restart per key.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => {
    const key = i.path.join('.') || '(env)';
    const got =
      typeof i.path[0] === 'string' && env[i.path[0]] !== undefined ? ' (was set)' : ' (missing)';
    return `  - ${key}: ${i.message}${got}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}

/**
 * A secret from the environment, or in development one generated once and kept in
 * DATA_DIR/secrets.json (so tokens survive restarts). Production never generates one.
 */
export function resolveSecret(
  value: string | undefined,
  name: string,
  cfg: Pick<BaseConfig, 'NODE_ENV' | 'DATA_DIR'>,
): string {
  if (value && value.length > 0) {
    if (cfg.NODE_ENV === 'production' && value.length < 32) {
      throw new ConfigError(`${name} must be at least 32 characters in production`);
    }
    return value;
  }
  if (cfg.NODE_ENV === 'production') {
    throw new ConfigError(`${name} is required in production (no default secret exists)`);
  }
  mkdirSync(cfg.DATA_DIR, { recursive: true });
  const file = path.join(cfg.DATA_DIR, 'secrets.json');
  let secrets: Record<string, string> = {};
  if (existsSync(file)) secrets = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const existing = secrets[name];
  if (existing) return existing;
  const generated = randomBytes(32).toString('base64url');
  secrets[name] = generated;
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return generated;
}

/** An optional env string where an empty value ("KEY=") means "not set". */
export const envOptionalString = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.string().optional(),
);

/** Env booleans: "true"/"1"/"yes" → true. */
export const envBoolean = z
  .union([z.boolean(), z.string()])
  .transform((v) =>
    typeof v === 'boolean' ? v : ['true', '1', 'yes', 'on'].includes(v.toLowerCase()),
  );

/** Durations like "300ms", "5s", "5m", "1h" or plain milliseconds. */
export const envDuration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(v.trim());
  if (!m) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a duration such as 500ms, 30s, 5m, 1h, 30d',
    });
    return z.NEVER;
  }
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    (m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Math.round(Number(m[1]) * unit);
});

/**
 * Keys more than one service reads, defined once so they cannot drift apart. A service names
 * the ones it reads: `baseConfig.extend({ MONGO_DB: sharedKeys.MONGO_DB, ... })`.
 */
export const sharedKeys = {
  /** Chat enforces it on upload, the gateway on the proxied request; both must agree. */
  MAX_ATTACHMENT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(MAX_ATTACHMENT_BYTES)
    .describe(
      'Largest accepted attachment, in bytes; give chat and gateway the same value (the apps check the contracts default, MAX_ATTACHMENT_BYTES, before uploading)',
    ),
  MONGO_DB: z.string().min(1).default('parley').describe('MongoDB database name'),
} as const;
