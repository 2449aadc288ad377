/**
 * Presence with more visitors than one NATS message can describe: the server's max_payload is
 * set small, so a few hundred widget connections outgrow a whole online list and a gateway's
 * whole connection report. Consoles must still see every visitor (as changes, and in pages),
 * and a visitor who writes must still be queued and assigned.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatId, SupportChat, ws } from '@parley/contracts';
import type { http } from '@parley/contracts';
import {
  api,
  createVisitor,
  loginOperator,
  startStack,
  waitFor,
  wsClient,
  type Stack,
  type TestWsClient,
} from '@parley/runtime/testing';

const MAX_PAYLOAD = 16 * 1024;
/** ~107 bytes each in a connection report: about 21 KB, more than one message holds. */
const VISITORS = 200;

let stack: Stack;
const widgets: TestWsClient[] = [];

beforeAll(async () => {
  stack = await startStack({
    services: ['chat', 'routing', 'gateway'],
    buildApps: false,
    natsMaxPayload: MAX_PAYLOAD,
    env: {
      // Every heartbeat lists all connections, so the split report runs during the test.
      PRESENCE_HEARTBEAT_INTERVAL: '500ms',
      PRESENCE_FULL_LIST_EVERY: '1',
      WS_MAX_CONNECTIONS_PER_IP: String(VISITORS + 20),
      WS_MAX_MESSAGES_PER_SECOND_PER_IP: String(VISITORS * 10),
      WS_UPGRADES_PER_IP: String(VISITORS * 2),
      VISITOR_SESSIONS_PER_IP: String(VISITORS * 2),
      HTTP_MAX_REQUESTS_PER_IP: String(VISITORS * 20),
    },
  });
}, 120_000);
afterAll(async () => {
  await Promise.all(widgets.map((w) => w.close()));
  await stack?.stop();
});

describe('presence past the NATS message size, through the gateway', () => {
  it('shows every visitor to the console and still routes a new chat at once', async () => {
    const { token } = await loginOperator(stack);
    const console_ = await wsClient(stack.gatewayUrl, token);
    console_.send({ type: 'subscribe', channel: 'operator' });
    console_.send({ type: 'subscribe', channel: 'admin' });
    const status = await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
      token,
      body: { status: 'online' },
    });
    expect(status.status).toBe(200);

    const ids: string[] = [];
    for (let i = 0; i < VISITORS; i++) {
      const visitor = await createVisitor(stack, {
        name: `Visitor ${i} with a fairly long display name`,
        email: `visitor-${i}@customer-with-a-long-domain.example.com`,
      });
      ids.push(visitor.visitor.id);
      const widget = await wsClient(stack.gatewayUrl, visitor.token);
      widgets.push(widget);
      widget.send({ type: 'page_view', url: `https://shop.example/products/${i}`, title: `P${i}` });
    }

    // Each visitor reaches the console as its own change.
    const seen = new Set<string>();
    await waitFor(
      () => {
        for (const f of console_.frames)
          if (f.type === 'visitor_presence' && f.visitor?.current_page) seen.add(f.user_id);
        return ids.every((id) => seen.has(id));
      },
      { timeoutMs: 60_000, what: 'every visitor shown to the console' },
    );
    expect(console_.frames.some((f) => (f.type as string) === 'visitors_online')).toBe(false);

    // The list, a page at a time.
    const first = await api<http.OnlineVisitorsPage>(
      stack.gatewayUrl,
      'GET',
      '/api/visitors/page?sort=name&limit=20&q=customer-with-a-long-domain',
      { token },
    );
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(VISITORS);
    expect(first.body.visitors).toHaveLength(20);
    const bad = await api(stack.gatewayUrl, 'GET', '/api/visitors/page?limit=100000', { token });
    expect(bad.status).toBe(400);

    // A visitor writing now is queued and assigned: routing's events do not wait behind presence.
    const newcomer = await createVisitor(stack, { name: 'Newcomer' });
    const chat = await api<SupportChat>(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: newcomer.token,
    });
    const chatId = chat.body.id as ChatId;
    const widget = await wsClient(stack.gatewayUrl, newcomer.token);
    widgets.push(widget);
    widget.send({ type: 'subscribe', channel: 'chat', chat_id: chatId });
    await widget.sendMessage(chatId, 'Hello, anyone there?');
    await widget.nextFrame<ws.SessionStatusFrame>(
      (f) => f.type === 'session_status' && f.session.status === 'active',
    );
    await console_.nextFrame((f) => f.type === 'chat_assigned' && f.chat_id === chatId);

    // Split reports ran all along (every 500 ms); none of them dropped anyone.
    expect(
      console_.frames.filter((f) => f.type === 'visitor_presence' && f.visitor === null),
    ).toEqual([]);
    const everyone = await api<http.OnlineVisitorsPage>(
      stack.gatewayUrl,
      'GET',
      '/api/visitors/page?limit=1',
      { token },
    );
    expect(everyone.body.online).toBe(VISITORS + 1);
    for (const gateway of stack.services.gateway) {
      const logs = 'logs' in gateway && typeof gateway.logs === 'function' ? gateway.logs() : '';
      expect(String(logs)).not.toMatch(/max_payload/);
    }
    for (const routing of stack.services.routing) {
      const logs = 'logs' in routing && typeof routing.logs === 'function' ? routing.logs() : '';
      expect(String(logs)).not.toMatch(/max_payload/);
    }
    await console_.close();
  }, 180_000);
});
