/**
 * The gateway with the real routing service: an operator's private channel gets assignments,
 * and the messages and typing of an assigned chat reach the operator without opening the chat;
 * the visitor sees the session status.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ws as wsc } from '@parley/contracts';
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
  stack = await startStack({
    services: ['chat', 'routing', 'gateway'],
    gateways: 2,
    buildApps: false,
  });
});

afterAll(async () => {
  await stack?.stop();
});

describe('operator channel with routing', () => {
  it('assigns a new chat to the online operator and relays its messages and typing there', async () => {
    const admin = await loginOperator(stack);
    const operatorWs = await wsClient(stack.gatewayUrls[1]!, admin.token);
    const visitor = await createVisitor(stack, { name: 'Queued Visitor' });
    const visitorWs = await wsClient(stack.gatewayUrls[0]!, visitor.token);
    try {
      operatorWs.send({ type: 'subscribe', channel: 'operator' });
      await operatorWs.nextFrame((f) => f.type === 'subscribed' && f.channel === 'operator');
      const online = await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
        token: admin.token,
        body: { status: 'online' },
      });
      expect(online.status).toBe(200);

      const chat = await api<{ id: string }>(stack.gatewayUrl, 'GET', '/api/support_chat', {
        token: visitor.token,
      });
      const chatId = chat.body.id;
      visitorWs.send({ type: 'subscribe', channel: 'chat', chat_id: chatId });
      await visitorWs.nextFrame((f) => f.type === 'subscribed');
      await visitorWs.sendMessage(chatId, 'I need help');

      const assigned = await operatorWs.nextFrame<wsc.ChatAssignedFrame>(
        (f) => f.type === 'chat_assigned' && f.chat_id === chatId,
      );
      expect(assigned.session.operator?.id).toBe(admin.operator.id);
      await visitorWs.nextFrame(
        (f) => f.type === 'session_status' && f.session.status === 'active' && f.chat_id === chatId,
      );

      // Not subscribed to the chat channel: the assignment alone brings the chat's traffic.
      const next = await visitorWs.sendMessage(chatId, 'are you there?');
      const onOperator = await operatorWs.nextFrame<wsc.NewMessageFrame>(
        (f) => f.type === 'new_message' && f.message.id === next.message.id,
      );
      expect(onOperator.chat_id).toBe(chatId);
      visitorWs.send({ type: 'typing', chat_id: chatId });
      await operatorWs.nextFrame(
        (f) => f.type === 'typing' && f.chat_id === chatId && f.sender_type === 'user',
      );

      const closed = await api(stack.gatewayUrl, 'POST', `/api/routing/chats/${chatId}/close`, {
        token: admin.token,
      });
      expect(closed.status).toBe(200);
      await operatorWs.nextFrame((f) => f.type === 'chat_unassigned' && f.chat_id === chatId);
      await visitorWs.nextFrame(
        (f) => f.type === 'session_status' && f.chat_id === chatId && f.session.status === 'closed',
      );
    } finally {
      await visitorWs.close();
      await operatorWs.close();
    }
  });

  it('moves the chat of an operator whose last connection closed to an online colleague', async () => {
    const admin = await loginOperator(stack);
    const email = `agent-${randomUUID().slice(0, 8)}@parley.test`;
    const password = 'agent password 123';
    const created = await api(stack.gatewayUrl, 'POST', '/api/admin/operators', {
      token: admin.token,
      body: { email, name: 'Leaving Agent', password, max_chats: 3 },
    });
    expect(created.status).toBe(201);
    const agent = await loginOperator(stack, email, password);

    const adminWs = await wsClient(stack.gatewayUrls[0]!, admin.token);
    const agentWs = await wsClient(stack.gatewayUrls[1]!, agent.token);
    adminWs.send({ type: 'subscribe', channel: 'operator' });
    agentWs.send({ type: 'subscribe', channel: 'operator' });
    await adminWs.nextFrame((f) => f.type === 'subscribed');
    await agentWs.nextFrame((f) => f.type === 'subscribed');
    await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
      token: admin.token,
      body: { status: 'away' },
    });
    await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
      token: agent.token,
      body: { status: 'online' },
    });

    const visitor = await createVisitor(stack, { name: 'Tove' });
    const chat = await api<{ id: string }>(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: visitor.token,
    });
    await api(stack.gatewayUrl, 'POST', '/api/support_chat/messages', {
      token: visitor.token,
      body: { content: 'hello', client_id: randomUUID() },
    });
    await agentWs.nextFrame((f) => f.type === 'chat_assigned' && f.chat_id === chat.body.id);

    await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
      token: admin.token,
      body: { status: 'online' },
    });
    await agentWs.close();
    const reassigned = await adminWs.nextFrame<wsc.ChatAssignedFrame>(
      (f) => f.type === 'chat_assigned' && f.chat_id === chat.body.id,
      20_000,
    );
    expect(reassigned.session.operator?.id).toBe(admin.operator.id);
    await adminWs.close();
  });
});
