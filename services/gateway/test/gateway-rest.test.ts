/**
 * The gateway against real NATS and the real chat service (two gateway replicas): cross-replica
 * fan-out and typing, and the REST endpoints (docs/PRODUCT.md).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, ws as wsc } from '@parley/contracts';
import {
  api,
  createVisitor,
  wsClient,
  type Stack,
  type TestWsClient,
} from '@parley/runtime/testing';
import { startGatewayStack, stackHelpers } from './gateway-stack.ts';

let stack: Stack;
let admin: http.LoginResponse;

beforeAll(async () => {
  ({ stack, admin } = await startGatewayStack());
});

afterAll(async () => {
  await stack?.stop();
});

const { visitorWithChat } = stackHelpers(() => stack);

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

describe('REST endpoints: the visitor’s messages', () => {
  it('stores a message once per client_id, refuses a blank one, polls the reply and marks it read', async () => {
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
  });
});

/** A visitor's chat with their question and an operator's answer. */
async function answeredChat() {
  const visitor = await createVisitor(stack, { name: 'Rest Visitor' });
  const question = await api<http.SendMessageResponse>(
    stack.gatewayUrl,
    'POST',
    '/api/support_chat/messages',
    { token: visitor.token, body: { content: 'question', client_id: randomUUID() } },
  );
  expect(question.status).toBe(201);
  const chatId = question.body.message.chat_id;
  const reply = await api(stack.gatewayUrl, 'POST', `/api/admin/chats/${chatId}/messages`, {
    token: admin.token,
    body: { content: 'answer', client_id: randomUUID() },
  });
  expect(reply.status).toBe(201);
  return { visitor, chatId };
}

describe('REST endpoints: the console’s chats', () => {
  it('shows and lists a chat, archives it, brings it back on a visitor message, marks it viewed and unarchives', async () => {
    const { visitor, chatId } = await answeredChat();
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
