/**
 * The gateway against real NATS and the real chat service (two gateway replicas): identity,
 * channel authorization, hostile input, resume after reconnect, cross-replica fan-out, typing,
 * the REST endpoints (docs/PRODUCT.md), login limits and graceful shutdown.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, ws as wsc } from '@parley/contracts';
import { signUnsubscribeToken } from '@parley/runtime';
import {
  waitFor,
  startStack,
  type Stack,
  api,
  createVisitor,
  loginOperator,
  wsClient,
  type TestWsClient,
} from '@parley/runtime/testing';

let stack: Stack;
let admin: http.LoginResponse;

beforeAll(async () => {
  stack = await startStack({
    services: ['chat', 'gateway'],
    gateways: 2,
    buildApps: false,
    env: { LOGIN_FREE_ATTEMPTS_PER_ADDRESS: '3' },
  });
  admin = await loginOperator(stack);
});

afterAll(async () => {
  await stack?.stop();
});

const userHash = (userId: string) =>
  createHmac('sha256', stack.secrets.IDENTITY_HMAC_SECRET).update(userId).digest('hex');

/** A visitor with a chat that holds one message of theirs. */
async function visitorWithChat(content = 'hello') {
  const session = await createVisitor(stack);
  const chat = await api<http.SendMessageResponse>(
    stack.gatewayUrl,
    'POST',
    '/api/support_chat/messages',
    {
      token: session.token,
      body: { content, client_id: randomUUID() },
    },
  );
  expect(chat.status).toBe(201);
  return { ...session, chatId: chat.body.message.chat_id, firstMessage: chat.body.message };
}

async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('error', (err) => {
      if (!String(err).includes('Unexpected server response')) reject(err);
    });
  });
}

const wsUrl = (base: string, token?: string) =>
  `${base.replace(/^http/, 'ws')}/ws${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`;

describe('identity', () => {
  it('gives an anonymous visitor a random id and lets only its own token resume it', async () => {
    const first = await createVisitor(stack);
    expect(first.visitor.id).toMatch(/^v_/);
    expect(first.visitor.identified).toBe(false);

    const resumed = await createVisitor(stack, {
      visitor_id: first.visitor.id,
      token: first.token,
    });
    expect(resumed.visitor.id).toBe(first.visitor.id);

    const claimedWithoutProof = await createVisitor(stack, { visitor_id: first.visitor.id });
    expect(claimedWithoutProof.visitor.id).not.toBe(first.visitor.id);

    const forged = await new SignJWT({ kind: 'visitor', identified: false })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(first.visitor.id)
      .setJti(randomUUID())
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-secret-'.repeat(3)));
    const withForged = await createVisitor(stack, { visitor_id: first.visitor.id, token: forged });
    expect(withForged.visitor.id).not.toBe(first.visitor.id);
    const forgedRead = await api(stack.gatewayUrl, 'GET', '/api/support_chat', { token: forged });
    expect(forgedRead.status).toBe(401);
  });

  it('identifies a host user only with the right HMAC, and a wrong one sees nothing of theirs', async () => {
    const hostUser = `42-${randomUUID().slice(0, 8)}`;
    const owner = await createVisitor(stack, {
      user_id: hostUser,
      user_hash: userHash(hostUser),
      email: 'u42@example.com',
    });
    expect(owner.visitor).toMatchObject({ id: `u_${hostUser}`, identified: true });
    const sent = await api<http.SendMessageResponse>(
      stack.gatewayUrl,
      'POST',
      '/api/support_chat/messages',
      {
        token: owner.token,
        body: { content: 'my secret order number', client_id: randomUUID() },
      },
    );
    expect(sent.status).toBe(201);

    // Same user on another device, with the hash: the same chat.
    const otherDevice = await createVisitor(stack, {
      user_id: hostUser,
      user_hash: userHash(hostUser),
    });
    const again = await api<http.MessagesPage>(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: otherDevice.token,
    });
    expect(again.body.messages.map((m) => m.content)).toEqual(['my secret order number']);

    const attacker = await createVisitor(stack, {
      user_id: hostUser,
      user_hash: userHash('someone-else'),
    });
    expect(attacker.visitor.identified).toBe(false);
    expect(attacker.visitor.id).toMatch(/^v_/);
    const seen = await api<http.MessagesPage>(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: attacker.token,
    });
    expect(seen.status).toBe(200);
    expect(seen.body.messages).toEqual([]);
  });

  it('refuses REST calls without a token or with the wrong kind of token', async () => {
    expect((await api(stack.gatewayUrl, 'GET', '/api/support_chat')).status).toBe(401);
    expect(
      (await api(stack.gatewayUrl, 'GET', '/api/support_chat', { token: 'garbage' })).status,
    ).toBe(401);
    const visitor = await createVisitor(stack);
    const asVisitor = await api<{ code: string }>(stack.gatewayUrl, 'GET', '/api/admin/chats', {
      token: visitor.token,
    });
    expect(asVisitor.status).toBe(403);
    expect(asVisitor.body.code).toBe('forbidden');
  });
});

describe('channel authorization', () => {
  it('keeps a visitor out of another visitor’s chat on every path', async () => {
    const victim = await visitorWithChat('private words');
    const intruder = await createVisitor(stack);
    const client = await wsClient(stack.gatewayUrl, intruder.token);
    try {
      client.send({ type: 'subscribe', channel: 'chat', chat_id: victim.chatId, after_seq: 0 });
      const rejected = await client.nextFrame(
        (f) => f.type === 'rejected' && f.chat_id === victim.chatId,
      );
      expect(rejected).toMatchObject({ channel: 'chat' });

      // Enumerated ids get the same answer as the victim's.
      for (let i = 0; i < 5; i++) {
        const guess = randomUUID();
        client.send({ type: 'subscribe', channel: 'chat', chat_id: guess });
        await client.nextFrame((f) => f.type === 'rejected' && f.chat_id === guess);
      }

      const clientId = randomUUID();
      client.send({
        type: 'send_message',
        chat_id: victim.chatId,
        content: 'injected',
        client_id: clientId,
      });
      const error = await client.nextFrame<wsc.ErrorFrame>(
        (f) => f.type === 'error' && f.client_id === clientId,
      );
      expect(error.code).toBe('not_found');

      for (const channel of ['admin', 'operator'] as const) {
        client.send({ type: 'subscribe', channel });
        await client.nextFrame((f) => f.type === 'rejected' && f.channel === channel);
      }
      expect(client.frames.some((f) => f.type === 'new_message')).toBe(false);
    } finally {
      await client.close();
    }

    const read = await api(stack.gatewayUrl, 'GET', `/api/admin/chats/${victim.chatId}`, {
      token: intruder.token,
    });
    expect(read.status).toBe(403);
    const upload = await api(
      stack.gatewayUrl,
      'POST',
      `/api/attachments?chat_id=${victim.chatId}`,
      {
        token: intruder.token,
        headers: { 'content-type': 'text/plain' },
      },
    );
    expect(upload.status).toBe(404);

    // The victim's chat is untouched.
    const own = await api<http.MessagesPage>(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: victim.token,
    });
    expect(own.body.messages.map((m) => m.content)).toEqual(['private words']);
  });

  it('refuses a forbidden origin, a missing token and a bad token before the upgrade', async () => {
    const visitor = await createVisitor(stack);
    expect(
      await upgradeStatus(wsUrl(stack.gatewayUrl, visitor.token), {
        origin: 'https://evil.example',
      }),
    ).toBe(403);
    expect(await upgradeStatus(wsUrl(stack.gatewayUrl), { origin: stack.gatewayUrl })).toBe(401);
    expect(
      await upgradeStatus(wsUrl(stack.gatewayUrl, 'forged.token.value'), {
        origin: stack.gatewayUrl,
      }),
    ).toBe(401);
    expect(
      await upgradeStatus(wsUrl(stack.gatewayUrl, visitor.token), { origin: stack.gatewayUrl }),
    ).toBe(101);
    const cors = await api(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: visitor.token,
      headers: { origin: 'https://evil.example' },
    });
    expect(cors.status).toBe(403);
  });
});

describe('hostile frames', () => {
  it('answers garbage, wrong types and operator injection with errors and stays up', async () => {
    const visitor = await visitorWithChat();
    const client = await wsClient(stack.gatewayUrl, visitor.token);
    try {
      const hostile: Array<string | Buffer> = [
        'not json at all',
        '[]',
        'null',
        '{"type":"launch_missiles"}',
        '{"type":"subscribe","channel":"chat","chat_id":{"$ne":null}}',
        JSON.stringify({
          type: 'send_message',
          chat_id: visitor.chatId,
          content: { $gt: '' },
          client_id: randomUUID(),
        }),
        JSON.stringify({
          type: 'send_message',
          chat_id: visitor.chatId,
          content: 42,
          client_id: 'not-a-uuid',
        }),
        JSON.stringify({
          type: 'send_message',
          chat_id: visitor.chatId,
          content: 'x'.repeat(5001),
          client_id: randomUUID(),
        }),
        JSON.stringify({
          type: 'subscribe',
          channel: 'chat',
          chat_id: visitor.chatId,
          after_seq: -1,
        }),
        Buffer.from([0xde, 0xad, 0xbe, 0xef]),
      ];
      for (const frame of hostile) client.sendRaw(frame);
      await client.nextFrame(
        () => client.frames.filter((f) => f.type === 'error').length === hostile.length,
      );
      expect(
        client.frames
          .filter((f) => f.type === 'error')
          .every((f) => f.type === 'error' && f.code === 'bad_request'),
      ).toBe(true);
      // Still connected and working.
      client.send({ type: 'ping' });
      await client.nextFrame((f) => f.type === 'pong');
      const ack = await client.sendMessage(visitor.chatId, 'still here');
      expect(ack.message.content).toBe('still here');
    } finally {
      await client.close();
    }
  });

  it('closes an oversized frame with 1009 and keeps serving others', async () => {
    const visitor = await createVisitor(stack);
    const client = await wsClient(stack.gatewayUrl, visitor.token);
    client.sendRaw('x'.repeat(wsc.MAX_CLIENT_FRAME_BYTES + 1));
    const closed = await client.closed;
    expect(closed.code).toBe(1009);
    expect((await fetch(`${stack.gatewayUrl}/healthz`)).status).toBe(200);
    const next = await wsClient(stack.gatewayUrl, visitor.token);
    next.send({ type: 'ping' });
    await next.nextFrame((f) => f.type === 'pong');
    await next.close();
  });
});

describe('resume after reconnect', () => {
  it('replays exactly the 50 messages sent while disconnected, in order, then continues live', async () => {
    const visitor = await visitorWithChat('before the gap');
    const first = await wsClient(stack.gatewayUrl, visitor.token);
    first.send({ type: 'subscribe', channel: 'chat', chat_id: visitor.chatId, after_seq: 0 });
    const subscribed = await first.nextFrame<wsc.SubscribedFrame>((f) => f.type === 'subscribed');
    expect(subscribed.recovered).toBe(true);
    await first.nextFrame(
      (f) => f.type === 'new_message' && f.message.seq === visitor.firstMessage.seq,
    );
    await first.close();

    const lastSeen = visitor.firstMessage.seq;
    const sentSeqs: number[] = [];
    for (let i = 1; i <= 50; i++) {
      const res = await api<http.SendMessageResponse>(
        stack.gatewayUrl,
        'POST',
        `/api/admin/chats/${visitor.chatId}/messages`,
        {
          token: admin.token,
          body: { content: `reply ${i}`, client_id: randomUUID() },
        },
      );
      expect(res.status).toBe(201);
      sentSeqs.push(res.body.message.seq);
    }

    const second = await wsClient(stack.gatewayUrls[1]!, visitor.token);
    try {
      second.send({
        type: 'subscribe',
        channel: 'chat',
        chat_id: visitor.chatId,
        after_seq: lastSeen,
      });
      const resumed = await second.nextFrame<wsc.SubscribedFrame>((f) => f.type === 'subscribed');
      expect(resumed.recovered).toBe(true);
      await second.nextFrame((f) => f.type === 'new_message' && f.message.seq === sentSeqs.at(-1));
      const ack = await second.sendMessage(visitor.chatId, 'after the gap');
      await second.nextFrame((f) => f.type === 'new_message' && f.message.seq === ack.message.seq);
      const delivered = second.frames.flatMap((f) => (f.type === 'new_message' ? [f.message] : []));
      expect(delivered.map((m) => m.seq)).toEqual([...sentSeqs, ack.message.seq]);
      expect(delivered.slice(0, 50).map((m) => m.content)).toEqual(
        sentSeqs.map((_, i) => `reply ${i + 1}`),
      );
    } finally {
      await second.close();
    }
  });

  it('tells the client to reload when more was missed than the gateway replays', async () => {
    const gateway = await stack.addReplica('gateway', { WS_REPLAY_MAX_MESSAGES: '5' });
    const visitor = await visitorWithChat('one');
    for (let i = 0; i < 7; i++) {
      await api(stack.gatewayUrl, 'POST', '/api/support_chat/messages', {
        token: visitor.token,
        body: { content: `more ${i}`, client_id: randomUUID() },
      });
    }
    const client = await wsClient(gateway.url, visitor.token);
    try {
      client.send({ type: 'subscribe', channel: 'chat', chat_id: visitor.chatId, after_seq: 0 });
      const subscribed = await client.nextFrame<wsc.SubscribedFrame>(
        (f) => f.type === 'subscribed',
      );
      expect(subscribed).toMatchObject({ recovered: false, last_seq: 8 });
      // A client claiming seqs the chat never had must reload too.
      const ahead = await wsClient(stack.gatewayUrl, visitor.token);
      ahead.send({ type: 'subscribe', channel: 'chat', chat_id: visitor.chatId, after_seq: 999 });
      expect(await ahead.nextFrame((f) => f.type === 'subscribed')).toMatchObject({
        recovered: false,
        last_seq: 8,
      });
      await ahead.close();
      const ack = await client.sendMessage(visitor.chatId, 'live again');
      await client.nextFrame((f) => f.type === 'new_message' && f.message.seq === ack.message.seq);
      expect(
        client.frames
          .filter((f) => f.type === 'new_message')
          .map((f) => (f.type === 'new_message' ? f.message.seq : 0)),
      ).toEqual([9]);
    } finally {
      await client.close();
    }
  });
});

describe('live chat across two gateway replicas', () => {
  let visitorWs: TestWsClient;
  let operatorWs: TestWsClient;
  let chatId: string;

  beforeAll(async () => {
    const visitor = await visitorWithChat('hi there');
    chatId = visitor.chatId;
    visitorWs = await wsClient(stack.gatewayUrls[0]!, visitor.token);
    operatorWs = await wsClient(stack.gatewayUrls[1]!, admin.token);
    visitorWs.send({ type: 'subscribe', channel: 'chat', chat_id: chatId });
    await visitorWs.nextFrame((f) => f.type === 'subscribed');
    operatorWs.send({ type: 'subscribe', channel: 'admin' });
    operatorWs.send({ type: 'subscribe', channel: 'chat', chat_id: chatId });
    await operatorWs.nextFrame((f) => f.type === 'subscribed' && f.channel === 'chat');
  });

  afterAll(async () => {
    await visitorWs?.close();
    await operatorWs?.close();
  });

  it('delivers messages both ways, once each, with the admin notification', async () => {
    const ack = await visitorWs.sendMessage(chatId, 'my order is late');
    const onOperator = await operatorWs.nextFrame<wsc.NewMessageFrame>(
      (f) => f.type === 'new_message' && f.message.id === ack.message.id,
    );
    expect(onOperator.message).toMatchObject({ content: 'my order is late', sender_type: 'user' });
    const notification = await operatorWs.nextFrame<wsc.NewUserMessageFrame>(
      (f) => f.type === 'new_user_message' && f.message.id === ack.message.id,
    );
    expect(notification.chat.id).toBe(chatId);

    const reply = await operatorWs.sendMessage(chatId, 'looking into it');
    const onVisitor = await visitorWs.nextFrame<wsc.NewMessageFrame>(
      (f) => f.type === 'new_message' && f.message.id === reply.message.id,
    );
    expect(onVisitor.message).toMatchObject({
      content: 'looking into it',
      sender_type: 'admin',
      sender_name: 'Ada Admin',
    });

    // A resend with the same client_id is acknowledged as a duplicate and not broadcast again.
    visitorWs.send({
      type: 'send_message',
      chat_id: chatId,
      content: 'my order is late',
      client_id: ack.client_id,
    });
    const acksOf = () =>
      visitorWs.frames.filter((f) => f.type === 'ack' && f.client_id === ack.client_id);
    await visitorWs.nextFrame(() => acksOf().length === 2);
    expect(acksOf()[1]).toMatchObject({ duplicate: true, message: { id: ack.message.id } });
    const marker = await visitorWs.sendMessage(chatId, 'marker');
    await operatorWs.nextFrame(
      (f) => f.type === 'new_message' && f.message.id === marker.message.id,
    );
    expect(
      operatorWs.frames.filter((f) => f.type === 'new_message' && f.message.id === ack.message.id),
    ).toHaveLength(1);
  });

  it('relays typing to the other side only, throttled, with its expiry', async () => {
    visitorWs.send({ type: 'typing', chat_id: chatId });
    visitorWs.send({ type: 'typing', chat_id: chatId });
    visitorWs.send({ type: 'typing', chat_id: chatId });
    const typing = await operatorWs.nextFrame<wsc.ServerTypingFrame>(
      (f) => f.type === 'typing' && f.chat_id === chatId,
    );
    expect(typing).toMatchObject({ sender_type: 'user', expires_in_ms: 3000 });

    operatorWs.send({ type: 'typing', chat_id: chatId });
    const back = await visitorWs.nextFrame<wsc.ServerTypingFrame>((f) => f.type === 'typing');
    expect(back).toMatchObject({
      sender_type: 'admin',
      sender_name: 'Ada Admin',
      expires_in_ms: 3000,
    });

    // The throttled repeats never arrive: after a message that follows them, still one typing frame.
    const ack = await visitorWs.sendMessage(chatId, 'after typing');
    await operatorWs.nextFrame((f) => f.type === 'new_message' && f.message.id === ack.message.id);
    expect(operatorWs.frames.filter((f) => f.type === 'typing')).toHaveLength(1);
    expect(visitorWs.frames.filter((f) => f.type === 'typing')).toHaveLength(1);
  });
});

describe('REST endpoints', () => {
  it('stores a message once per client_id and reads, marks read, archives and auto-unarchives', async () => {
    const visitor = await createVisitor(stack, { name: 'Rest Visitor' });
    const empty = await api<http.MessagesPage & { id: string; last_seq: number }>(
      stack.gatewayUrl,
      'GET',
      '/api/support_chat',
      {
        token: visitor.token,
      },
    );
    expect(empty.status).toBe(200);
    const chatId = empty.body.id;

    const clientId = randomUUID();
    const once = await api<http.SendMessageResponse>(
      stack.gatewayUrl,
      'POST',
      '/api/support_chat/messages',
      {
        token: visitor.token,
        body: { content: 'question', client_id: clientId },
      },
    );
    const twice = await api<http.SendMessageResponse>(
      stack.gatewayUrl,
      'POST',
      '/api/support_chat/messages',
      {
        token: visitor.token,
        body: { content: 'question', client_id: clientId },
      },
    );
    expect(once.status).toBe(201);
    expect(twice.body).toMatchObject({ duplicate: true, message: { id: once.body.message.id } });
    const chat = await api<http.MessagesPage>(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: visitor.token,
    });
    expect(chat.body.messages.map((m) => m.content)).toEqual(['question']);

    const bad = await api<{ code: string; details: Record<string, string> }>(
      stack.gatewayUrl,
      'POST',
      '/api/support_chat/messages',
      {
        token: visitor.token,
        body: { content: '   ', client_id: randomUUID() },
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('bad_request');

    const reply = await api<http.SendMessageResponse>(
      stack.gatewayUrl,
      'POST',
      `/api/admin/chats/${chatId}/messages`,
      {
        token: admin.token,
        body: { content: 'answer', client_id: randomUUID() },
      },
    );
    expect(reply.status).toBe(201);
    const polled = await api<http.MessagesPage>(
      stack.gatewayUrl,
      'GET',
      `/api/support_chat/messages?after_seq=${once.body.message.seq}`,
      {
        token: visitor.token,
      },
    );
    expect(polled.body.messages.map((m) => m.content)).toEqual(['answer']);
    const read = await api<http.MarkReadResponse>(
      stack.gatewayUrl,
      'PATCH',
      '/api/support_chat/mark_read',
      {
        token: visitor.token,
      },
    );
    expect(read.body).toMatchObject({
      chat_id: chatId,
      count: 1,
      up_to_seq: reply.body.message.seq,
    });

    const detail = await api<{ id: string; admin_viewed_at: string | null; messages: unknown[] }>(
      stack.gatewayUrl,
      'GET',
      `/api/admin/chats/${chatId}`,
      { token: admin.token },
    );
    expect(detail.status).toBe(200);
    expect(detail.body.messages).toHaveLength(2);
    const listed = await api<Array<{ id: string; unread: boolean }>>(
      stack.gatewayUrl,
      'GET',
      '/api/admin/chats?limit=200',
      {
        token: admin.token,
      },
    );
    expect(listed.body.find((c) => c.id === chatId)).toBeDefined();

    const archived = await api<{ archived: boolean }>(
      stack.gatewayUrl,
      'POST',
      `/api/admin/chats/${chatId}/archive`,
      {
        token: admin.token,
      },
    );
    expect(archived.body.archived).toBe(true);
    const archivedList = await api<Array<{ id: string }>>(
      stack.gatewayUrl,
      'GET',
      '/api/admin/chats?archived=true&limit=200',
      {
        token: admin.token,
      },
    );
    expect(archivedList.body.map((c) => c.id)).toContain(chatId);

    // A new visitor message brings the chat back from the archive.
    await api(stack.gatewayUrl, 'POST', '/api/support_chat/messages', {
      token: visitor.token,
      body: { content: 'one more thing', client_id: randomUUID() },
    });
    const active = await api<Array<{ id: string; archived: boolean }>>(
      stack.gatewayUrl,
      'GET',
      '/api/admin/chats?limit=200',
      {
        token: admin.token,
      },
    );
    expect(active.body.find((c) => c.id === chatId)?.archived).toBe(false);
    // The new visitor message is unread until an operator looks at the chat.
    const unreadNow = await api<Array<{ id: string; unread: boolean }>>(
      stack.gatewayUrl,
      'GET',
      '/api/admin/chats?limit=200',
      { token: admin.token },
    );
    expect(unreadNow.body.find((c) => c.id === chatId)?.unread).toBe(true);
    const viewed = await api<{ id: string; unread: boolean }>(
      stack.gatewayUrl,
      'POST',
      `/api/admin/chats/${chatId}/viewed`,
      { token: admin.token },
    );
    expect(viewed.status).toBe(200);
    expect(viewed.body).toMatchObject({ id: chatId, unread: false });
    const notAVisitorAction = await api(
      stack.gatewayUrl,
      'POST',
      `/api/admin/chats/${chatId}/viewed`,
      { token: visitor.token },
    );
    expect(notAVisitorAction.status).toBe(403);

    const unarchived = await api<{ archived: boolean }>(
      stack.gatewayUrl,
      'POST',
      `/api/admin/chats/${chatId}/unarchive`,
      {
        token: admin.token,
      },
    );
    expect(unarchived.status).toBe(200);
    expect(unarchived.body.archived).toBe(false);
  });

  it('pages the chat list with X-Next-Cursor', async () => {
    for (let i = 0; i < 3; i++) await visitorWithChat(`paging ${i}`);
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: Array<{ id: string }>; headers: Headers } = await api<
        Array<{ id: string }>
      >(
        stack.gatewayUrl,
        'GET',
        `/api/admin/chats?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: admin.token },
      );
      expect(res.status).toBe(200);
      expect(res.body.length).toBeLessThanOrEqual(2);
      for (const c of res.body) {
        expect(seen.has(c.id)).toBe(false);
        seen.add(c.id);
      }
      cursor = res.headers.get(http.NEXT_CURSOR_HEADER);
      pages++;
    } while (cursor && pages < 100);
    expect(pages).toBeGreaterThan(1);
    expect(seen.size).toBeGreaterThanOrEqual(3);
  });

  it('rejects malformed ids and queries with 400', async () => {
    const notUuid = await api<{ code: string }>(
      stack.gatewayUrl,
      'GET',
      '/api/admin/chats/not-a-uuid',
      { token: admin.token },
    );
    expect(notUuid.status).toBe(400);
    const badQuery = await api(stack.gatewayUrl, 'GET', '/api/admin/chats?archived=maybe', {
      token: admin.token,
    });
    expect(badQuery.status).toBe(400);
    const badJson = await fetch(`${stack.gatewayUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email":',
    });
    expect(badJson.status).toBe(400);
  });
});

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
