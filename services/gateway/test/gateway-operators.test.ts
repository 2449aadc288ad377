/**
 * The gateway against real NATS and the real chat service (two gateway replicas): operator login
 * limits, graceful shutdown, attachments, the unsubscribe link, abuse limits, static apps,
 * heartbeats and operator deactivation.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, ws as wsc } from '@parley/contracts';
import { signUnsubscribeToken } from '@parley/runtime';
import {
  api,
  createVisitor,
  loginOperator,
  waitFor,
  wsClient,
  type Stack,
} from '@parley/runtime/testing';
import { upgradeStatus, wsUrl, startGatewayStack, stackHelpers } from './gateway-stack.ts';

let stack: Stack;
let admin: http.LoginResponse;

beforeAll(async () => {
  ({ stack, admin } = await startGatewayStack());
});

afterAll(async () => {
  await stack?.stop();
});

const { visitorWithChat } = stackHelpers(() => stack);

describe('operator login', () => {
  it('limits failed logins per account and revokes tokens on logout on every replica', async () => {
    const email = `agent-${randomUUID().slice(0, 8)}@parley.test`;
    const password = 'correct horse battery';
    const created = await api(stack.gatewayUrl, 'POST', '/api/admin/operators', {
      token: admin.token,
      body: { email, name: 'Agent Smith', password, role: 'agent' },
    });
    expect(created.status).toBe(201);

    const agent = await loginOperator(stack, email, password);
    expect(agent.operator.role).toBe('agent');
    const forbidden = await api(stack.gatewayUrl, 'GET', '/api/admin/operators', {
      token: agent.token,
    });
    expect(forbidden.status).toBe(403);

    const logout = await api(stack.gatewayUrls[0]!, 'POST', '/api/auth/logout', {
      token: agent.token,
    });
    expect(logout.status).toBe(204);
    expect(
      (await api(stack.gatewayUrls[0]!, 'GET', '/api/auth/me', { token: agent.token })).status,
    ).toBe(401);
    // The other replica learns the revocation over NATS.
    const otherReplica = async () =>
      (await api(stack.gatewayUrls[1]!, 'GET', '/api/auth/me', { token: agent.token })).status;
    await waitFor(async () => (await otherReplica()) === 401, {
      what: 'the revocation on the other replica',
    });
    // A replica that starts after the logout replays it before serving anyone.
    const late = await stack.addReplica('gateway');
    try {
      expect((await api(late.url, 'GET', '/api/auth/me', { token: agent.token })).status).toBe(401);
      expect((await api(late.url, 'GET', '/api/auth/me', { token: admin.token })).status).toBe(200);
    } finally {
      await late.stop();
    }

    for (let i = 0; i < 3; i++) {
      const wrong = await api(stack.gatewayUrl, 'POST', '/api/auth/login', {
        body: { email, password: 'wrong password' },
      });
      expect(wrong.status).toBe(401);
    }
    const limited = await api(stack.gatewayUrl, 'POST', '/api/auth/login', {
      body: { email, password },
    });
    expect(limited.status).toBe(429);
  });
});

describe('graceful shutdown', () => {
  it('tells connected clients to reconnect elsewhere and closes with 1012', async () => {
    const gateway = await stack.addReplica('gateway');
    const visitor = await createVisitor(stack);
    const client = await wsClient(gateway.url, visitor.token);
    await client.nextFrame((f) => f.type === 'welcome');
    const stopped = gateway.stop();
    const reconnect = await client.nextFrame((f) => f.type === 'reconnect');
    expect(reconnect.type).toBe('reconnect');
    expect((await client.closed).code).toBe(1012);
    await stopped;
  });

  it('exposes its gateway metrics', async () => {
    const visitor = await createVisitor(stack);
    const client = await wsClient(stack.gatewayUrl, visitor.token);
    client.send({ type: 'ping' });
    await client.nextFrame((f) => f.type === 'pong');
    const metrics = await (await fetch(`${stack.gatewayUrl}/metrics`)).text();
    expect(metrics).toMatch(/parley_gateway_ws_connections\{[^}]*role="visitor"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/parley_gateway_ws_frames_in_total\{[^}]*type="ping"/);
    expect(metrics).toContain('parley_gateway_fanout_seconds_bucket');
    await client.close();
  });
});

describe('attachments', () => {
  /** A real 1×1 PNG: the chat service checks content, not names. */
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64',
  );

  it('stores an upload for a participant and serves it only to that chat’s participants', async () => {
    const visitor = await visitorWithChat('see the screenshot');
    const upload = await fetch(`${stack.gatewayUrl}/api/attachments`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${visitor.token}`,
        'content-type': 'image/png',
        'x-chat-id': visitor.chatId,
        'x-filename': encodeURIComponent('screen shot é.png'),
      },
      body: png,
    });
    expect(upload.status).toBe(201);
    const attachment = (await upload.json()) as {
      id: string;
      url: string;
      kind: string;
      size: number;
      name: string;
    };
    expect(attachment).toMatchObject({
      kind: 'image',
      size: png.length,
      name: 'screen shot é.png',
    });
    expect(attachment.url).toBe(`/api/attachments/${attachment.id}`);

    const sent = await api<http.SendMessageResponse>(
      stack.gatewayUrl,
      'POST',
      '/api/support_chat/messages',
      {
        token: visitor.token,
        body: { content: '', client_id: randomUUID(), attachment_ids: [attachment.id] },
      },
    );
    expect(sent.status).toBe(201);
    expect(sent.body.message.attachments.map((a) => a.id)).toEqual([attachment.id]);

    // <img src> cannot send headers: the token travels in the query string.
    const asOperator = await fetch(
      `${stack.gatewayUrl}${attachment.url}?token=${encodeURIComponent(admin.token)}`,
    );
    expect(asOperator.status).toBe(200);
    expect(asOperator.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await asOperator.arrayBuffer())).toEqual(png);

    // Byte ranges pass through (Safari streams <audio> only from servers that honour them).
    const partial = await fetch(`${stack.gatewayUrl}${attachment.url}`, {
      headers: { authorization: `Bearer ${visitor.token}`, range: 'bytes=0-7' },
    });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 0-7/${png.length}`);
    expect(Buffer.from(await partial.arrayBuffer())).toEqual(png.subarray(0, 8));

    const stranger = await createVisitor(stack);
    const denied = await fetch(`${stack.gatewayUrl}${attachment.url}`, {
      headers: { authorization: `Bearer ${stranger.token}` },
    });
    expect(denied.status).toBe(404);
    expect((await fetch(`${stack.gatewayUrl}${attachment.url}`)).status).toBe(401);
  });

  it('accepts multipart uploads from the console and refuses oversized ones', async () => {
    const visitor = await visitorWithChat();
    const form = new FormData();
    form.set(http.ATTACHMENT_CHAT_FIELD, visitor.chatId);
    form.set(http.ATTACHMENT_FILE_FIELD, new Blob([png], { type: 'image/png' }), 'reply.png');
    const upload = await fetch(`${stack.gatewayUrl}/api/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}` },
      body: form,
    });
    expect(upload.status).toBe(201);
    expect(await upload.json()).toMatchObject({ name: 'reply.png', kind: 'image' });

    const tooBig = await fetch(`${stack.gatewayUrl}/api/attachments`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${visitor.token}`,
        'content-type': 'application/octet-stream',
        'x-chat-id': visitor.chatId,
      },
      body: Buffer.alloc(http.MAX_ATTACHMENT_BYTES + 1),
    });
    expect(tooBig.status).toBe(413);
  });
});

describe('unsubscribe link', () => {
  it('asks on GET, unsubscribes on POST (the page’s button) and refuses a forged link', async () => {
    const visitor = await visitorWithChat();
    const token = await signUnsubscribeToken(stack.secrets.UNSUBSCRIBE_SECRET, visitor.visitor.id);
    const url = `${stack.gatewayUrl}/api/unsubscribe?token=${encodeURIComponent(token)}`;
    const unsubscribed = async () =>
      (
        await api<{ user: { unsubscribed: boolean } }>(
          stack.gatewayUrl,
          'GET',
          '/api/support_chat',
          {
            token: visitor.token,
          },
        )
      ).body.user.unsubscribed;
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('Unsubscribe from reply emails?');
    expect(await unsubscribed()).toBe(false);
    // The confirmation page's form, as the browser submits it (same origin).
    const done = await fetch(url, {
      method: 'POST',
      headers: {
        origin: stack.gatewayUrl,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Unsubscribed');
    expect(await unsubscribed()).toBe(true);

    const forged = await signUnsubscribeToken(
      'another-secret-entirely-0123456789',
      visitor.visitor.id,
    );
    expect(
      (await fetch(`${stack.gatewayUrl}/api/unsubscribe?token=${encodeURIComponent(forged)}`))
        .status,
    ).toBe(400);
  });
});

describe('abuse limits', () => {
  it('limits REST requests and new visitor sessions per address, with Retry-After', async () => {
    const gateway = await stack.addReplica('gateway', {
      HTTP_MAX_REQUESTS_PER_IP: '8',
      VISITOR_SESSIONS_PER_IP: '2',
    });
    const session = async () => api(gateway.url, 'POST', '/api/visitor/session', { body: {} });
    expect((await session()).status).toBe(200);
    expect((await session()).status).toBe(200);
    const third = await session();
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ code: 'rate_limited' });
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);

    const visitor = await createVisitor(stack);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push(
        (await api(gateway.url, 'GET', '/api/support_chat', { token: visitor.token })).status,
      );
    }
    // 3 session calls + 5 reads fill the 8 allowed; the rest are refused, not served.
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    // A replica with other settings counts apart (its limits are other keys in Redis).
    expect(
      (await api(stack.gatewayUrl, 'GET', '/api/support_chat', { token: visitor.token })).status,
    ).toBe(200);
    await gateway.stop();
  });

  it('limits frames per connection and connections per address, with clear errors', async () => {
    const gateway = await stack.addReplica('gateway', {
      WS_MAX_MESSAGES_PER_SECOND: '5',
      WS_MAX_CONNECTIONS_PER_IP: '2',
    });
    const visitor = await createVisitor(stack);
    const first = await wsClient(gateway.url, visitor.token);
    const second = await wsClient(gateway.url, visitor.token);
    try {
      expect(await upgradeStatus(wsUrl(gateway.url, visitor.token), { origin: gateway.url })).toBe(
        429,
      );
      for (let i = 0; i < 20; i++) first.send({ type: 'ping' });
      const limited = await first.nextFrame<wsc.ErrorFrame>(
        (f) => f.type === 'error' && f.code === 'rate_limited',
      );
      expect(limited.message).toMatch(/slow down/i);
      expect(first.frames.filter((f) => f.type === 'pong').length).toBeLessThan(20);
    } finally {
      await first.close();
      await second.close();
    }
    // Closed connections free their slots.
    await waitFor(
      async () =>
        (await upgradeStatus(wsUrl(gateway.url, visitor.token), { origin: gateway.url })) === 101,
      {
        what: 'a free connection slot',
      },
    );
  });
});

describe('static apps', () => {
  it('serves a built app under its path with the SPA fallback to index.html', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-widget-build-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>widget</title>');
    writeFileSync(path.join(dir, 'loader.js'), 'console.log("loader")');
    const consoleDir = mkdtempSync(path.join(os.tmpdir(), 'parley-admin-build-'));
    writeFileSync(path.join(consoleDir, 'index.html'), '<!doctype html><title>console</title>');
    const gateway = await stack.addReplica('gateway', { WIDGET_DIST: dir, ADMIN_DIST: consoleDir });
    const loader = await fetch(`${gateway.url}/widget/loader.js`);
    expect(loader.status).toBe(200);
    expect(await loader.text()).toContain('loader');
    for (const page of ['/widget', '/widget/', '/widget/chat/123']) {
      const res = await fetch(`${gateway.url}${page}`, { redirect: 'manual' });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<title>widget</title>');
    }
    expect((await fetch(`${gateway.url}/widget/_app/missing.js`)).status).toBe(404);
    // The widget may be framed by host sites; the console never.
    expect((await fetch(`${gateway.url}/widget/`)).headers.get('x-frame-options')).toBeNull();
    const consolePage = await fetch(`${gateway.url}/admin/chats`);
    expect(await consolePage.text()).toContain('<title>console</title>');
    expect(consolePage.headers.get('x-frame-options')).toBe('DENY');
  });
});

describe('heartbeats', () => {
  it('terminates a connection that stops answering pings and keeps the ones that answer', async () => {
    const gateway = await stack.addReplica('gateway', { WS_HEARTBEAT_INTERVAL: '300ms' });
    const visitor = await createVisitor(stack);
    const healthy = await wsClient(gateway.url, visitor.token);
    let pingsAnswered = 0;
    healthy.socket.on('ping', () => pingsAnswered++);
    const silent = new WebSocket(wsUrl(gateway.url, visitor.token), { autoPong: false });
    const silentClosed = new Promise<number>((resolve) =>
      silent.on('close', (code) => resolve(code)),
    );
    await new Promise((resolve) => silent.once('open', resolve));

    expect(await silentClosed).toBe(1006);
    await waitFor(() => pingsAnswered >= 2, { what: 'two pings on the healthy connection' });
    expect(healthy.socket.readyState).toBe(WebSocket.OPEN);
    await healthy.close();
  });
});

describe('operator deactivation', () => {
  it('closes the operator’s connections on every replica and refuses the token everywhere', async () => {
    const email = `leaver-${randomUUID().slice(0, 8)}@parley.test`;
    const password = 'a long enough password';
    const created = await api<{ id: string }>(stack.gatewayUrl, 'POST', '/api/admin/operators', {
      token: admin.token,
      body: { email, name: 'Leaving Agent', password },
    });
    expect(created.status).toBe(201);
    const agent = await loginOperator(stack, email, password);
    const onFirst = await wsClient(stack.gatewayUrls[0]!, agent.token);
    const onSecond = await wsClient(stack.gatewayUrls[1]!, agent.token);

    const deactivated = await api(
      stack.gatewayUrl,
      'PATCH',
      `/api/admin/operators/${created.body.id}`,
      {
        token: admin.token,
        body: { active: false },
      },
    );
    expect(deactivated.status).toBe(200);
    expect((await onFirst.closed).code).toBe(4003);
    expect((await onSecond.closed).code).toBe(4003);
    expect(
      (await api(stack.gatewayUrls[1]!, 'GET', '/api/auth/me', { token: agent.token })).status,
    ).toBe(401);
    expect(
      (await api(stack.gatewayUrl, 'POST', '/api/auth/login', { body: { email, password } }))
        .status,
    ).toBe(401);

    const selfDemotion = await api<{ code: string }>(
      stack.gatewayUrl,
      'PATCH',
      `/api/admin/operators/${admin.operator.id}`,
      {
        token: admin.token,
        body: { role: 'agent' },
      },
    );
    expect(selfDemotion.status).toBe(409);
  });
});
