/**
 * The SendGrid path of a real notify process: SENDGRID_API_URL points at a local HTTP server
 * standing in for api.sendgrid.com (the network is not reachable from tests), which answers
 * what SendGrid answers (202, 429, 400). Real NATS, Redis and chat service.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatId } from '@parley/contracts/models';
import { connectBus, createLogger, type Bus } from '@parley/runtime';
import {
  startNatsServer,
  startRedisServer,
  startService,
  waitFor,
  type ManagedProcess,
} from '@parley/runtime/testing';

interface SendgridCall {
  authorization: string | undefined;
  body: {
    personalizations: Array<{ to: Array<{ email: string }> }>;
    from: { email: string };
    subject: string;
    content: Array<{ type: string; value: string }>;
    headers?: Record<string, string>;
  };
}

let nats: ManagedProcess;
let redis: ManagedProcess;
let dataDir: string;
let chat: Awaited<ReturnType<typeof startService>>;
let notify: Awaited<ReturnType<typeof startService>>;
let bus: Bus;
let sendgrid: http.Server;
const calls: SendgridCall[] = [];
/** Status codes the stand-in answers, in order, per recipient; 202 once the list is used up. */
const script = new Map<string, number[]>();

beforeAll(async () => {
  sendgrid = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as SendgridCall['body'];
      calls.push({ authorization: req.headers.authorization, body });
      const to = body.personalizations[0]?.to[0]?.email ?? '';
      const status = script.get(to)?.shift() ?? 202;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        status === 202 ? '' : JSON.stringify({ errors: [{ message: `scripted ${status}` }] }),
      );
    });
  });
  await new Promise<void>((resolve) => sendgrid.listen(0, '127.0.0.1', resolve));
  const addr = sendgrid.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-notify-sg-'));
  nats = await startNatsServer();
  redis = await startRedisServer();
  chat = await startService('chat', { NATS_URL: nats.url, DATA_DIR: dataDir });
  notify = await startService('notify', {
    NATS_URL: nats.url,
    REDIS_URL: redis.url,
    DATA_DIR: dataDir,
    NOTIFY_DELAY: '500ms',
    JOB_POLL_INTERVAL: '200ms',
    SENDGRID_API_KEY: 'SG.test-key',
    SENDGRID_API_URL: `http://127.0.0.1:${port}`,
    EMAIL_FROM: 'support@acme.test',
    UNSUBSCRIBE_SECRET: 'sendgrid-test-unsubscribe-secret-0123456789',
  });
  bus = await connectBus({
    servers: nats.url,
    name: 'sg-test',
    logger: createLogger('t', 'silent'),
  });
});

afterAll(async () => {
  await bus?.drain();
  await notify?.stop();
  await chat?.stop();
  await redis?.stop();
  await nats?.stop();
  await new Promise((resolve) => sendgrid?.close(resolve));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function unreadReplyTo(email: string): Promise<ChatId> {
  const userId = `v_${randomUUID()}`;
  const visitorChat = await bus.request('chat.rpc.visitor_chat', {
    visitor: { user_id: userId, identified: false, email: null, name: null },
  });
  await bus.request('chat.rpc.update_visitor', { user_id: userId, update: { email } });
  await bus.request('chat.rpc.send_message', {
    chat_id: visitorChat.id,
    content: 'Your ticket is solved.',
    client_id: randomUUID(),
    sender_type: 'admin',
    sender_id: randomUUID(),
    sender_name: 'Ada',
  });
  return visitorChat.id;
}

const recordFor = (chatId: ChatId) =>
  waitFor(
    async () =>
      (await bus.request('notify.rpc.outbox_list', { limit: 100 })).find(
        (e) => e.chat_id === chatId,
      ),
    { timeoutMs: 20_000, what: 'the email record' },
  );

describe('sending with SendGrid', () => {
  it('sends both parts and the List-Unsubscribe header, retrying a 429', async () => {
    script.set('rate@example.com', [429]);
    const chatId = await unreadReplyTo('rate@example.com');
    const record = await recordFor(chatId);
    expect(record.status).toBe('sent');

    const mine = calls.filter(
      (c) => c.body.personalizations[0]?.to[0]?.email === 'rate@example.com',
    );
    expect(mine).toHaveLength(2);
    const last = mine[1];
    expect(last?.authorization).toBe('Bearer SG.test-key');
    expect(last?.body.from.email).toBe('support@acme.test');
    expect(last?.body.subject).toBe('New reply from Parley Support');
    expect(last?.body.content.map((c) => c.type)).toEqual(['text/plain', 'text/html']);
    expect(last?.body.content[0]?.value).toContain('Your ticket is solved.');
    expect(last?.body.headers?.['List-Unsubscribe']).toMatch(
      /^<http:\/\/localhost:8080\/api\/unsubscribe\?token=[\w.-]+>$/,
    );
  });

  it('gives up on a permanent 400 without retrying and records why', async () => {
    script.set('bad@example.com', [400]);
    const chatId = await unreadReplyTo('bad@example.com');
    const record = await recordFor(chatId);
    expect(record.status).toBe('failed');
    expect(record.error).toContain('scripted 400');
    expect(
      calls.filter((c) => c.body.personalizations[0]?.to[0]?.email === 'bad@example.com'),
    ).toHaveLength(1);
  });
});
