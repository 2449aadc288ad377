/**
 * Internal notes end to end (chat, routing, notify, gateway over real NATS): an operator's note
 * reaches operators and never the visitor by any path (their REST reads, polling, WebSocket
 * frames live and replayed, the unread-reply email, the list's count), and its `@name` mention
 * reaches the colleague's operator channel and Mentions list.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  EmailRecord,
  NoteMention,
  SupportChat,
  SupportChatListItem,
  http,
  ws as wsc,
} from '@parley/contracts';
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

let stack: Stack;
let admin: http.LoginResponse;
let bea: http.LoginResponse;
let visitor: http.VisitorSessionResponse;
let chatId: string;
let adminWs: TestWsClient;
let beaWs: TestWsClient;
let visitorWs: TestWsClient;
const secret = `refund-${randomUUID().slice(0, 8)}`;
const restNote = `@bea the ${secret} is approved, please confirm`;
const wsNote = `ws note ${secret}`;
const reply = 'Your refund is on its way.';
let restResult: http.SendMessageResponse;

beforeAll(async () => {
  stack = await startStack({ buildApps: false, env: { NOTIFY_DELAY: '1s' } });
  admin = await loginOperator(stack);
  const created = await api(stack.gatewayUrl, 'POST', '/api/admin/operators', {
    token: admin.token,
    body: { email: 'bea@parley.test', name: 'Bea Colleague', password: 'correct horse battery' },
  });
  expect(created.status).toBe(201);
  bea = await loginOperator(stack, 'bea@parley.test', 'correct horse battery');
  beaWs = await wsClient(stack.gatewayUrl, bea.token);
  beaWs.send({ type: 'subscribe', channel: 'operator' });
  adminWs = await wsClient(stack.gatewayUrl, admin.token);
  adminWs.send({ type: 'subscribe', channel: 'operator' });
  await beaWs.nextFrame((f) => f.type === 'subscribed');
  await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
    token: admin.token,
    body: { status: 'online' },
  });
  // Bea only watches: the chat goes to the admin, who writes the notes.
  await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
    token: bea.token,
    body: { status: 'away' },
  });

  visitor = await createVisitor(stack, { name: 'Vera', email: 'vera@example.com' });
  const chat = await api<SupportChat>(stack.gatewayUrl, 'GET', '/api/support_chat', {
    token: visitor.token,
  });
  chatId = chat.body.id;
  visitorWs = await wsClient(stack.gatewayUrl, visitor.token);
  visitorWs.send({ type: 'subscribe', channel: 'chat', chat_id: chatId, after_seq: 0 });
  await visitorWs.nextFrame((f) => f.type === 'subscribed');
  await visitorWs.sendMessage(chatId, 'Where is my refund?');
  await adminWs.nextFrame((f) => f.type === 'chat_assigned' && f.chat_id === chatId);
  adminWs.send({ type: 'subscribe', channel: 'chat', chat_id: chatId, after_seq: 0 });

  const res = await api<http.SendMessageResponse>(
    stack.gatewayUrl,
    'POST',
    `/api/admin/chats/${chatId}/notes`,
    { token: admin.token, body: { content: restNote, client_id: randomUUID() } },
  );
  expect(res.status).toBe(201);
  restResult = res.body;
  const clientId = randomUUID();
  adminWs.send({
    type: 'send_message',
    chat_id: chatId,
    content: wsNote,
    client_id: clientId,
    internal: true,
  });
  const ack = await adminWs.nextFrame<wsc.AckFrame>(
    (f) => f.type === 'ack' && f.client_id === clientId,
  );
  expect(ack.message).toMatchObject({ internal: true, content: wsNote });
  await adminWs.sendMessage(chatId, reply);
  // The visitor's socket has the reply: everything before it was delivered or skipped.
  await visitorWs.nextFrame((f) => f.type === 'new_message' && f.message.content === reply);
}, 240_000);

afterAll(async () => {
  for (const c of [adminWs, beaWs, visitorWs]) await c?.close();
  await stack?.stop();
});

const hasSecret = (value: unknown) => JSON.stringify(value).includes(secret);

describe('internal notes', () => {
  it('are stored as notes with their mention, in the operators history in seq order', async () => {
    expect(restResult.message).toMatchObject({
      internal: true,
      sender_type: 'admin',
      mentions: [bea.operator.id],
    });
    const page = await api<http.MessagesPage>(
      stack.gatewayUrl,
      'GET',
      `/api/admin/chats/${chatId}/messages?after_seq=0`,
      { token: admin.token },
    );
    const said = page.body.messages.filter((m) => m.sender_type !== 'system');
    expect(said.map((m) => [m.content, m.internal ?? false])).toEqual([
      ['Where is my refund?', false],
      [restNote, true],
      [wsNote, true],
      [reply, false],
    ]);
    // The operator's own chat channel carried them live.
    await adminWs.nextFrame((f) => f.type === 'new_message' && f.message.content === wsNote);
  });

  it('never reach the visitor over the socket, live or replayed', async () => {
    expect(visitorWs.frames.some(hasSecret)).toBe(false);
    const again = await wsClient(stack.gatewayUrl, visitor.token);
    again.send({ type: 'subscribe', channel: 'chat', chat_id: chatId, after_seq: 0 });
    await again.nextFrame((f) => f.type === 'new_message' && f.message.content === reply);
    expect(again.frames.some(hasSecret)).toBe(false);
    await again.close();
  });

  it("never reach the visitor's REST reads, polling or unread state", async () => {
    const chat = await api<SupportChat>(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: visitor.token,
    });
    const said = chat.body.messages.filter((m) => m.sender_type !== 'system');
    expect(said.map((m) => m.content)).toEqual(['Where is my refund?', reply]);
    expect(hasSecret(chat.body)).toBe(false);
    const polled = await api(stack.gatewayUrl, 'GET', '/api/support_chat/messages?after_seq=0', {
      token: visitor.token,
    });
    const older = await api(
      stack.gatewayUrl,
      'GET',
      `/api/support_chat/messages?before_seq=${chat.body.last_seq + 1}`,
      { token: visitor.token },
    );
    expect(polled.status).toBe(200);
    expect(older.status).toBe(200);
    expect([polled.body, older.body].some(hasSecret)).toBe(false);
    const list = await api<SupportChatListItem[]>(stack.gatewayUrl, 'GET', '/api/admin/chats', {
      token: admin.token,
    });
    expect(list.body.find((c) => c.id === chatId)).toMatchObject({
      message_count: 2,
      last_message_preview: reply,
    });
  });

  it('are refused from a visitor, over the socket', async () => {
    const clientId = randomUUID();
    visitorWs.send({
      type: 'send_message',
      chat_id: chatId,
      content: 'let me in',
      client_id: clientId,
      internal: true,
    });
    const error = await visitorWs.nextFrame<wsc.ErrorFrame>(
      (f) => f.type === 'error' && f.client_id === clientId,
    );
    expect(error.code).toBe('forbidden');
  });

  it('stay out of the unread-reply email', async () => {
    const email = await waitFor(
      async () => {
        const outbox = await api<EmailRecord[]>(stack.gatewayUrl, 'GET', '/api/admin/outbox', {
          token: admin.token,
        });
        return outbox.body.find((e) => e.chat_id === chatId);
      },
      { timeoutMs: 30_000, what: 'the unread-reply email' },
    );
    expect(email.text).toContain(reply);
    expect(hasSecret(email)).toBe(false);
  });

  it('tell the mentioned colleague: a mention frame, then the Mentions list until opened', async () => {
    const frame = await beaWs.nextFrame<wsc.MentionFrame>((f) => f.type === 'mention');
    expect(frame).toMatchObject({
      chat_id: chatId,
      note: { id: restResult.message.id, content: restNote },
      author: { id: admin.operator.id },
    });
    expect(adminWs.frames.some((f) => f.type === 'mention')).toBe(false);
    const mentions = () =>
      api<NoteMention[]>(stack.gatewayUrl, 'GET', '/api/admin/mentions', { token: bea.token });
    expect((await mentions()).body).toEqual([
      { chat_id: chatId, note: restResult.message, seen_at: null },
    ]);
    expect(
      (await api(stack.gatewayUrl, 'GET', `/api/admin/chats/${chatId}`, { token: bea.token }))
        .status,
    ).toBe(200);
    expect((await mentions()).body[0]?.seen_at).not.toBeNull();
  });

  it('reject a blank note or unknown fields with 400', async () => {
    for (const body of [
      { content: '   ', client_id: randomUUID() },
      { content: 'x', client_id: randomUUID(), internal: false },
    ]) {
      const res = await api(stack.gatewayUrl, 'POST', `/api/admin/chats/${chatId}/notes`, {
        token: admin.token,
        body,
      });
      expect(res.status).toBe(400);
    }
  });
});
