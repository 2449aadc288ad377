import path from 'node:path';
import { z } from 'zod';
import { Password } from '@parley/contracts/http';
import {
  baseConfig,
  envDuration,
  envOptionalString,
  httpPort,
  loadConfig,
  sharedKeys,
} from '@parley/runtime';

export const configSchema = baseConfig.extend({
  HTTP_PORT: httpPort(
    8081,
    'Ops (/healthz, /readyz, /metrics) and internal attachment HTTP; gateway-only, never public',
  ),
  MONGO_URL: envOptionalString.describe(
    'MongoDB connection string; when set the chat store and attachments (GridFS) use MongoDB instead of SQLite',
  ),
  MONGO_DB: sharedKeys.MONGO_DB,
  SQLITE_PATH: envOptionalString.describe(
    'SQLite file of the embedded store (default: DATA_DIR/chat.sqlite)',
  ),
  ATTACHMENTS_DIR: envOptionalString.describe(
    'Folder for attachment files with SQLite, and for upload staging (default: DATA_DIR/attachments)',
  ),
  MAX_ATTACHMENT_BYTES: sharedKeys.MAX_ATTACHMENT_BYTES,
  UNSENT_ATTACHMENT_TTL: envDuration
    .default(24 * 3_600_000)
    .describe('Uploads never attached to a message are deleted after this long (e.g. 24h, 30m)'),
  ADMIN_EMAIL: envOptionalString.describe(
    'With ADMIN_PASSWORD: this admin operator is created at start if missing',
  ),
  ADMIN_PASSWORD: z
    .preprocess((v) => (v === '' ? undefined : v), z.optional(Password))
    .describe('Password of the bootstrapped admin (at least 10 characters, as for any operator)'),
  ADMIN_NAME: z.string().min(1).default('Admin').describe('Display name of the bootstrapped admin'),
});

export type ChatConfig = z.output<typeof configSchema> & {
  SQLITE_PATH: string;
  ATTACHMENTS_DIR: string;
};

export function readConfig(env: Record<string, string | undefined> = process.env): ChatConfig {
  const cfg = loadConfig(configSchema, env);
  return {
    ...cfg,
    SQLITE_PATH: cfg.SQLITE_PATH ?? path.join(cfg.DATA_DIR, 'chat.sqlite'),
    ATTACHMENTS_DIR: cfg.ATTACHMENTS_DIR ?? path.join(cfg.DATA_DIR, 'attachments'),
  };
}
