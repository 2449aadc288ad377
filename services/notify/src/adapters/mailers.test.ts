import { describe, expect, it } from 'vitest';
import type { ChatId, EmailRecord } from '@parley/contracts/models';
import { createLogger } from '@parley/runtime';
import { isRetryableSendError, outboxMailer, retryingMailer } from './mailers.ts';
import type { EmailLog, OutgoingEmail } from '../domain/ports.ts';

const email: OutgoingEmail = {
  to: 'grace@example.com',
  from: 'support@acme.test',
  subject: 'New reply from Acme Support',
  text: 'hello',
  html: '<p>hello</p>',
  headers: { 'List-Unsubscribe': '<https://x.test/u>' },
  chatId: '6f1c2f0e-8a4b-4c1e-9d55-0f3a1b2c3d4e' as ChatId,
};

function memoryLog(): EmailLog & { records: EmailRecord[] } {
  const records: EmailRecord[] = [];
  return {
    records,
    add: async (r) => void records.unshift(r),
    list: async (n) => records.slice(0, n),
  };
}

const httpError = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });
const netError = (code: string) => Object.assign(new Error(code), { code });
const logger = createLogger('test', 'silent');

describe('isRetryableSendError', () => {
  it('retries rate limits, server errors and connections that never reached SendGrid', () => {
    for (const e of [
      httpError(429),
      httpError(500),
      httpError(503),
      netError('ECONNREFUSED'),
      netError('ENOTFOUND'),
    ])
      expect(isRetryableSendError(e)).toBe(true);
  });

  it('does not retry client errors nor ambiguous failures after the request left', () => {
    for (const e of [
      httpError(400),
      httpError(401),
      httpError(403),
      netError('ETIMEDOUT'),
      netError('ECONNRESET'),
      new Error('x'),
    ])
      expect(isRetryableSendError(e)).toBe(false);
  });
});

describe('retryingMailer', () => {
  it('retries a 429 and records the email as sent once it goes through', async () => {
    const log = memoryLog();
    let calls = 0;
    const mailer = retryingMailer({
      send: async () => {
        calls++;
        if (calls < 3) throw httpError(429);
      },
      log,
      logger,
      retries: 4,
      minTimeoutMs: 1,
    });
    const record = await mailer.send(email);
    expect(calls).toBe(3);
    expect(record.status).toBe('sent');
    expect(log.records).toEqual([record]);
  });

  it('gives up at once on a permanent failure and records it as failed with the reason', async () => {
    const log = memoryLog();
    let calls = 0;
    const mailer = retryingMailer({
      send: async () => {
        calls++;
        throw Object.assign(httpError(403), {
          response: { body: { errors: [{ message: 'sender not verified' }] } },
        });
      },
      log,
      logger,
      retries: 4,
      minTimeoutMs: 1,
    });
    const record = await mailer.send(email);
    expect(calls).toBe(1);
    expect(record.status).toBe('failed');
    expect(record.error).toContain('403');
    expect(record.error).toContain('sender not verified');
  });

  it('stops after the retry budget on persistent 5xx', async () => {
    let calls = 0;
    const mailer = retryingMailer({
      send: async () => {
        calls++;
        throw httpError(502);
      },
      log: memoryLog(),
      logger,
      retries: 2,
      minTimeoutMs: 1,
    });
    expect((await mailer.send(email)).status).toBe('failed');
    expect(calls).toBe(3);
  });
});

describe('outboxMailer', () => {
  it('keeps the email with its headers in the outbox instead of sending it', async () => {
    const log = memoryLog();
    const record = await outboxMailer(log).send(email);
    expect(record).toMatchObject({
      status: 'outbox',
      to: email.to,
      subject: email.subject,
      headers: email.headers,
    });
    expect(await log.list(10)).toEqual([record]);
  });
});
