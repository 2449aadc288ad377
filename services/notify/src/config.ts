import { z } from 'zod';
import {
  baseConfig,
  httpPort,
  sharedKeys,
  envDuration,
  loadConfig,
  envOptionalString,
} from '@parley/runtime';

export const configSchema = baseConfig.extend({
  HTTP_PORT: httpPort(8083, 'Port of the ops server (/healthz, /readyz, /metrics)'),
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .describe('Redis holding the Agenda jobs and the local outbox when MONGO_URL is not set'),
  REDIS_PREFIX: z
    .string()
    .default('parley:notify:')
    .describe('Prefix of every notify key in Redis (Agenda jobs and the outbox)'),
  MONGO_URL: envOptionalString.describe(
    'MongoDB connection string; when set Agenda uses its MongoDB backend and the outbox a Mongo collection',
  ),
  MONGO_DB: sharedKeys.MONGO_DB,
  NOTIFY_DELAY: envDuration
    .default(5 * 60_000)
    .describe(
      'How long an operator reply stays unread before the visitor is emailed (e.g. 5m, 30s)',
    ),
  SENDGRID_API_KEY: envOptionalString.describe(
    'SendGrid API key; without it emails are kept in the local outbox (shown in the operator console) instead of sent',
  ),
  SENDGRID_API_URL: z
    .url()
    .default('https://api.sendgrid.com')
    .describe('SendGrid API origin; EU data residency uses https://api.eu.sendgrid.com'),
  EMAIL_FROM: z
    .string()
    .default('support@localhost')
    .describe('Sender address of notification emails (must be a verified sender with SendGrid)'),
  PRODUCT_NAME: z
    .string()
    .min(1)
    .default('Parley')
    .describe('Product name used in the email subject and body'),
  EMAIL_SUBJECT: z
    .string()
    .min(1)
    .default('New reply from {product} Support')
    .describe('Subject of the unread-reply email; {product} is replaced by PRODUCT_NAME'),
  PUBLIC_URL: z
    .url()
    .transform((u) => u.replace(/\/+$/, ''))
    .default('http://localhost:8080')
    .describe(
      "The gateway's public origin, used for the widget link and the unsubscribe link in emails",
    ),
  UNSUBSCRIBE_SECRET: envOptionalString.describe(
    'HMAC secret signing unsubscribe links (the gateway verifies them); generated into DATA_DIR in development',
  ),
  EMAIL_LINK_TTL: envDuration
    .refine((ms) => ms > 0 && ms <= 30 * 24 * 3_600_000, 'between 1 ms and 30 days')
    .default(7 * 24 * 3_600_000)
    .describe(
      'How long the email\'s single-use "Open the conversation" link stays valid (signed with UNSUBSCRIBE_SECRET; at most 30 days, the gateway remembers spent links for 31)',
    ),
  OUTBOX_LIMIT: z.coerce
    .number()
    .int()
    .min(10)
    .default(1000)
    .describe('How many recent emails the outbox keeps (oldest are dropped)'),
  SEND_RETRIES: z.coerce
    .number()
    .int()
    .min(0)
    .max(10)
    .default(4)
    .describe(
      'Retries (exponential backoff) when SendGrid answers 429 or 5xx or cannot be reached',
    ),
  JOB_POLL_INTERVAL: envDuration
    .default(5000)
    .describe('How often Agenda looks for due jobs (Redis pub/sub wakes it sooner for new jobs)'),
  JOB_LOCK_LIFETIME: envDuration
    .default(60_000)
    .describe(
      'How long a job lock lasts before another replica may take over a job whose worker died',
    ),
});
export type NotifyConfig = z.output<typeof configSchema>;

export function readConfig(env: Record<string, string | undefined> = process.env): NotifyConfig {
  return loadConfig(configSchema, env);
}
