/**
 * Routing behind the real gateway and chat service, two replicas of each backend: what an
 * operator console and a visitor widget receive over their WebSockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatId, OnlineVisitor, SupportChat } from '@parley/contracts';
import { waitFor } from '@parley/runtime/testing';
import type { ws } from '@parley/contracts';
import {
  startStack,
  type Stack,
  api,
  createVisitor,
  loginOperator,
  wsClient,
} from '@parley/runtime/testing';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ replicas: 2, services: ['chat', 'routing', 'gateway'] });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

async function onlineOperator() {
  const { token, operator } = await loginOperator(stack);
  const console_ = await wsClient(stack.gatewayUrl, token);
  console_.send({ type: 'subscribe', channel: 'operator' });
  console_.send({ type: 'subscribe', channel: 'admin' });
  const status = await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
    token,
    body: { status: 'online' },
  });
  expect(status.status).toBe(200);
  return { token, operator, console: console_ };
}

describe('routing through the gateway', () => {
  it('assigns a visitor message to the online operator and tells both sides', async () => {
    const op = await onlineOperator();
    const visitor = await createVisitor(stack, { name: 'Vera' });
    const chat = await api<SupportChat>(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: visitor.token,
    });
    const chatId = chat.body.id as ChatId;
    const widget = await wsClient(stack.gatewayUrl, visitor.token);
    widget.send({ type: 'subscribe', channel: 'chat', chat_id: chatId });
    await widget.sendMessage(chatId, 'Hello, anyone there?');

    const assigned = await op.console.nextFrame<ws.ChatAssignedFrame>(
      (f) => f.type === 'chat_assigned' && f.chat_id === chatId,
    );
    expect(assigned).toMatchObject({ reason: 'auto', user_name: 'Vera' });
    const joined = await widget.nextFrame<ws.SessionStatusFrame>(
      (f) => f.type === 'session_status' && f.session.status === 'active',
    );
    expect(joined.session.operator?.id).toBe(op.operator.id);
    await widget.nextFrame(
      (f) =>
        f.type === 'new_message' && f.message.content === `${op.operator.name} joined the chat`,
    );

    const closed = await api(stack.gatewayUrl, 'POST', `/api/routing/chats/${chatId}/close`, {
      token: op.token,
    });
    expect(closed.status).toBe(200);
    await widget.nextFrame((f) => f.type === 'session_status' && f.session.status === 'closed');
    await op.console.nextFrame((f) => f.type === 'chat_unassigned' && f.chat_id === chatId);
    await widget.close();
    await op.console.close();
  });

  it('delivers an invitation to a browsing visitor’s widget', async () => {
    const op = await onlineOperator();
    const visitor = await createVisitor(stack);
    const widget = await wsClient(stack.gatewayUrl, visitor.token);
    widget.send({
      type: 'page_view',
      url: 'https://shop.example/pricing',
      title: 'Pricing',
      referrer: 'https://search.example/',
      timezone: 'Europe/Berlin',
    });
    const listed = await op.console.nextFrame<ws.VisitorPresenceFrame>(
      (f) =>
        f.type === 'visitor_presence' &&
        f.user_id === visitor.visitor.id &&
        f.visitor?.current_page?.url === 'https://shop.example/pricing',
    );
    expect(listed.online).toBeGreaterThanOrEqual(1);
    expect(listed.visitor).toMatchObject({
      timezone: 'Europe/Berlin',
      returning: false,
    });

    const invite = await api<{ chat_id: string }>(
      stack.gatewayUrl,
      'POST',
      `/api/visitors/${visitor.visitor.id}/invite`,
      { token: op.token, body: { message: 'Hi! Can I help you choose a plan?' } },
    );
    expect(invite.status).toBe(200);
    const invitation = await widget.nextFrame<ws.InvitationFrame>((f) => f.type === 'invitation');
    expect(invitation).toMatchObject({
      chat_id: invite.body.chat_id,
      operator: { id: op.operator.id },
      message: { sender_type: 'admin', content: 'Hi! Can I help you choose a plan?' },
    });
    const assigned = await op.console.nextFrame<ws.ChatAssignedFrame>(
      (f) => f.type === 'chat_assigned' && f.chat_id === invite.body.chat_id,
    );
    expect(assigned.reason).toBe('invitation');
    await widget.close();
    await op.console.close();
  });

  it('lists a visitor whose name and page carry lone UTF-16 surrogates (made well formed)', async () => {
    const { token } = await loginOperator(stack);
    // JSON.stringify keeps the lone surrogate as the escape "\ud800" on the wire.
    const visitor = await createVisitor(stack, { name: 'Eve \ud800 x' });
    expect(visitor.visitor.name).toBe('Eve \ufffd x');
    const widget = await wsClient(stack.gatewayUrl, visitor.token);
    widget.send({ type: 'page_view', url: 'https://shop.example/\udc00', title: 'Caf\ud83d' });
    const listed = await waitFor(
      async () => {
        const online = await api<OnlineVisitor[]>(stack.gatewayUrl, 'GET', '/api/visitors/online', {
          token,
        });
        return online.body.find((v) => v.user_id === visitor.visitor.id && v.current_page !== null);
      },
      { what: 'the visitor in the online list, with its page' },
    );
    expect(listed.name).toBe('Eve \ufffd x');
    expect(listed.current_page).toMatchObject({
      url: 'https://shop.example/\ufffd',
      title: 'Caf\ufffd',
    });
    await widget.close();
  });
});
