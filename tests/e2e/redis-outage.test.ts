/**
 * Redis goes away under the running product (crash and orderly stop) and comes back on the
 * same port: routing and notify stay up, say they are not ready meanwhile, the gateway answers
 * routing calls with 503 `unavailable`, and an email that falls due later still goes out once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatId, EmailRecord, ErrorBody, SupportChat } from '@parley/contracts';
import {
  startStack,
  type Stack,
  api,
  createVisitor,
  loginOperator,
  wsClient,
  waitFor,
} from '@parley/runtime/testing';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    services: ['chat', 'routing', 'notify', 'gateway'],
    redisFsyncAlways: true,
    env: { NOTIFY_DELAY: '3s', JOB_POLL_INTERVAL: '300ms', JOB_LOCK_LIFETIME: '5s' },
  });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const backends = () => [...stack.services.routing, ...stack.services.notify];
const ready = async (url: string) => (await fetch(`${url}/readyz`)).status;

async function emailsFor(token: string, chatId: ChatId): Promise<EmailRecord[]> {
  const res = await api<EmailRecord[]>(stack.gatewayUrl, 'GET', '/api/admin/outbox', { token });
  expect(res.status).toBe(200);
  return res.body.filter((e) => e.chat_id === chatId);
}

describe.each(['SIGKILL', 'SIGTERM'] as const)('a Redis outage (%s)', (signal) => {
  it('keeps routing and notify up, answers 503 unavailable, and still sends the due email once', async () => {
    const op = await loginOperator(stack);
    const console_ = await wsClient(stack.gatewayUrl, op.token);
    console_.send({ type: 'subscribe', channel: 'operator' });
    const online = await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
      token: op.token,
      body: { status: 'online' },
    });
    expect(online.status).toBe(200);

    const visitor = await createVisitor(stack, {
      name: 'Rhea',
      email: `rhea-${signal}@example.com`,
    });
    const chat = await api<SupportChat>(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: visitor.token,
    });
    const chatId = chat.body.id as ChatId;
    const widget = await wsClient(stack.gatewayUrl, visitor.token);
    await widget.sendMessage(chatId, 'Is my order on its way?');
    await widget.close();
    await waitFor(
      async () => {
        const me = await api<{ sessions: Array<{ chat_id: string }> }>(
          stack.gatewayUrl,
          'GET',
          '/api/routing/me',
          { token: op.token },
        );
        return me.body.sessions?.some((s) => s.chat_id === chatId);
      },
      { what: 'the chat to be assigned to the operator' },
    );
    // The visitor is gone: the reply stays unread and falls due NOTIFY_DELAY later.
    await console_.sendMessage(chatId, `Yes, it ships today (${signal}).`);

    const restore = await stack.stopRedis(signal);
    try {
      for (const svc of backends()) {
        await waitFor(async () => (await ready(svc.url)) === 503, {
          what: 'routing and notify to report not ready while Redis is away',
        });
      }
      const status = await api<ErrorBody>(stack.gatewayUrl, 'PUT', '/api/routing/status', {
        token: op.token,
        body: { status: 'away' },
      });
      expect(status.status).toBe(503);
      expect(status.body.code).toBe('unavailable');
      expect(status.body.message).toMatch(/redis/i);
      const queue = await api<ErrorBody>(stack.gatewayUrl, 'GET', '/api/routing/queue', {
        token: op.token,
      });
      expect(queue.status).toBe(503);
      expect(queue.body.code).toBe('unavailable');
    } finally {
      await restore();
    }
    for (const svc of backends()) {
      await waitFor(async () => (await ready(svc.url)) === 200, {
        timeoutMs: 20_000,
        what: 'routing and notify to be ready again',
      });
    }
    const back = await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
      token: op.token,
      body: { status: 'online' },
    });
    expect(back.status).toBe(200);
    const email = await waitFor(async () => (await emailsFor(op.token, chatId))[0], {
      timeoutMs: 30_000,
      what: 'the unread-reply email after Redis is back',
    });
    expect(email.text).toContain(`Yes, it ships today (${signal}).`);
    for (const svc of backends()) expect(svc.proc.exitCode).toBeNull();
    expect(await emailsFor(op.token, chatId)).toHaveLength(1);
    await console_.close();
  }, 90_000);
});
