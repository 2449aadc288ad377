import { randomUUID } from 'node:crypto';
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import pRetry, { AbortError } from 'p-retry';
import type { EmailRecord } from '@parley/contracts/models';
import type { Logger } from '@parley/runtime';
import type { EmailLog, Mailer, OutgoingEmail } from '../domain/ports.ts';

function recordOf(
  email: OutgoingEmail,
  status: EmailRecord['status'],
  error: string | null,
): EmailRecord {
  return {
    id: randomUUID(),
    to: email.to,
    subject: email.subject,
    text: email.text,
    html: email.html,
    chat_id: email.chatId,
    created_at: new Date().toISOString(),
    status,
    error,
    headers: email.headers,
  };
}

/** Development and tests: nothing leaves the machine; the console shows what would have been sent. */
export function outboxMailer(log: EmailLog): Mailer {
  return {
    async send(email) {
      const record = recordOf(email, 'outbox', null);
      await log.add(record);
      return record;
    },
  };
}

/** HTTP status of a SendGrid failure, or null when no response came back. */
function statusOf(err: unknown): number | null {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : null;
}

/** Network failures where the request certainly never reached SendGrid. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

/**
 * 429 (rate limited) and 5xx are retried, and so are connection failures that prove the
 * request never left. A timeout or reset after sending is ambiguous (SendGrid may have
 * accepted it): not retried, so a visitor never gets the same email twice. Other 4xx never
 * succeed on a retry.
 */
export function isRetryableSendError(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== null) return status === 429 || status >= 500;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && NOT_SENT_CODES.has(code);
}

export interface SendFn {
  (email: OutgoingEmail): Promise<void>;
}

/** @sendgrid/mail as a SendFn (its own client, so the base URL is this service's choice). */
export function sendgridSend(apiKey: string, baseUrl: string): SendFn {
  const client = new Client();
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', baseUrl);
  const mail = new MailService();
  mail.setClient(client);
  mail.setTimeout(15_000);
  return async (email) => {
    await mail.send({
      to: email.to,
      from: email.from,
      subject: email.subject,
      text: email.text,
      html: email.html,
      headers: email.headers,
      trackingSettings: { clickTracking: { enable: false } },
    });
  };
}

/**
 * Sends with retries and exponential backoff on 429/5xx/network errors; a permanent failure is
 * logged with SendGrid's answer and recorded as `failed` (the job is not retried: its claim is
 * spent, see README.md).
 */
export function retryingMailer(opts: {
  send: SendFn;
  log: EmailLog;
  logger: Logger;
  retries: number;
  minTimeoutMs?: number;
}): Mailer {
  return {
    async send(email) {
      try {
        await pRetry(
          async () => {
            try {
              await opts.send(email);
            } catch (err) {
              if (!isRetryableSendError(err))
                throw new AbortError(err instanceof Error ? err : String(err));
              throw err;
            }
          },
          {
            retries: opts.retries,
            factor: 2,
            minTimeout: opts.minTimeoutMs ?? 1000,
            maxTimeout: 30_000,
            randomize: true,
            onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
              opts.logger.warn(
                { status: statusOf(error), attemptNumber, retriesLeft, chatId: email.chatId },
                'email send attempt failed',
              );
            },
          },
        );
      } catch (err) {
        const detail = describeSendError(err);
        opts.logger.error(
          { chatId: email.chatId, status: statusOf(err), detail },
          'email could not be sent; giving up',
        );
        const record = recordOf(email, 'failed', detail);
        await opts.log.add(record);
        return record;
      }
      const record = recordOf(email, 'sent', null);
      await opts.log.add(record);
      return record;
    },
  };
}

function describeSendError(err: unknown): string {
  const status = statusOf(err);
  const body = (err as { response?: { body?: unknown } }).response?.body;
  const message = err instanceof Error ? err.message : String(err);
  const bodyText =
    body === undefined ? '' : ` ${typeof body === 'string' ? body : JSON.stringify(body)}`;
  const code = (err as { code?: unknown }).code;
  const kind = status ?? (typeof code === 'string' ? code : 'network');
  return `${kind}: ${message}${bodyText}`.slice(0, 1000);
}
