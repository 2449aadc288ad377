/**
 * Routing with the real chat service: system lines land in the chat history, invitations create
 * the visitor's chat and post the operator's first message.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatId, ClientId, Operator, UserId } from '@parley/contracts';
import type { EventPayload, EventSubject, VisitorIdentity } from '@parley/contracts/nats';
import { connectBus, createLogger, type Bus } from '@parley/runtime';
import {
  startNatsServer,
  startRedisServer,
  startService,
  type ManagedProcess,
} from '@parley/runtime/testing';
import { EventLog } from './harness.ts';

let nats: ManagedProcess;
let redis: ManagedProcess;
let dataDir: string;
const services: ManagedProcess[] = [];
let bus: Bus;
const log = new EventLog();
let anna: Operator;

const systemLine = (chatId: ChatId, text: string) =>
  log.wait(
    'chat.evt.message_created',
    (e) =>
      e.message.chat_id === chatId &&
      e.message.sender_type === 'system' &&
      e.message.content === text,
  );

async function visitorWrites(visitor: VisitorIdentity, text: string): Promise<ChatId> {
  const chat = await bus.request('chat.rpc.visitor_chat', { visitor, limit: 1 });
  await bus.request('chat.rpc.send_message', {
    chat_id: chat.id,
    content: text,
    client_id: randomUUID() as ClientId,
    sender_type: 'user',
    sender_id: visitor.user_id,
    sender_name: visitor.name,
    attachment_ids: [],
  });
  return chat.id;
}

const anonymous = (): VisitorIdentity => ({
  user_id: `v_${randomUUID()}` as UserId,
  identified: false,
  email: null,
  name: null,
});

beforeAll(async () => {
  nats = await startNatsServer();
  redis = await startRedisServer();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-routing-chat-'));
  bus = await connectBus({
    servers: nats.url,
    name: 'routing-chat-test',
    logger: createLogger('test', 'silent'),
  });
  await bus.ensureStreams();
  for (const subject of ['routing.evt.>', 'routing.presence.>', 'chat.evt.message_created']) {
    bus.nc.subscribe(subject, {
      callback: (_err, msg) =>
        log.push({
          subject: msg.subject as EventSubject,
          payload: msg.json() as EventPayload<EventSubject>,
        } as never),
    });
  }
  services.push(await startService('chat', { NATS_URL: nats.url, DATA_DIR: dataDir }));
  const routingEnv = { NATS_URL: nats.url, REDIS_URL: redis.url, OPERATOR_OFFLINE_GRACE: '2s' };
  services.push(
    ...(await Promise.all([
      startService('routing', routingEnv),
      startService('routing', routingEnv),
    ])),
  );

  anna = await bus.request('chat.rpc.operator_create', {
    email: 'anna@example.com',
    name: 'Anna',
    password: 'correct horse battery',
    role: 'agent',
    max_chats: 5,
  });
  const connected = log.mark();
  bus.publish('gateway.evt.connection', {
    gateway_id: 'gw-1',
    connection_id: randomUUID(),
    connected: true,
    at: new Date().toISOString(),
    who: { kind: 'operator', operator_id: anna.id },
  });
  await log.wait(
    'routing.evt.operator_changed',
    (e) => e.operator.id === anna.id && e.operator.status === 'online',
    {
      after: connected,
    },
  );
});

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await bus?.drain();
  await redis?.stop();
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('routing with the chat service', () => {
  it('routes a visitor message, records the join and the close in the history, and reopens on a new message', async () => {
    const visitor = anonymous();
    const chatId = await visitorWrites(visitor, 'Hello?');
    const assigned = await log.wait('routing.evt.assigned', (e) => e.session.chat_id === chatId);
    expect(assigned).toMatchObject({ operator_id: anna.id, reason: 'auto' });
    await systemLine(chatId, 'Anna joined the chat');

    await bus.request('routing.rpc.close', {
      chat_id: chatId,
      actor: { kind: 'operator', operator_id: anna.id, name: 'Anna', role: 'agent' },
    });
    await systemLine(chatId, 'Chat closed by Anna');
    const page = await bus.request('chat.rpc.messages_after', {
      chat_id: chatId,
      after_seq: 0,
      limit: 10,
    });
    expect(page.messages.map((m) => `${m.sender_type}: ${m.content}`)).toEqual([
      'user: Hello?',
      'system: Anna joined the chat',
      'system: Chat closed by Anna',
    ]);

    await visitorWrites(visitor, 'One more question');
    const again = await log.wait(
      'routing.evt.assigned',
      (e) => e.session.chat_id === chatId && e.session.id !== assigned.session.id,
    );
    expect(again.session.status).toBe('active');
  });

  it('invites a browsing visitor: their chat gets the operator message and is assigned to the inviter', async () => {
    const visitor: VisitorIdentity = {
      user_id: `u_${randomUUID()}` as UserId,
      identified: true,
      email: 'kim@example.com',
      name: 'Kim',
    };
    bus.publish('gateway.evt.connection', {
      gateway_id: 'gw-1',
      connection_id: randomUUID(),
      connected: true,
      at: new Date().toISOString(),
      who: { kind: 'visitor', visitor, user_agent: 'test', country: null },
    });
    await log.wait(
      'routing.presence.visitor',
      (e) => e.user_id === visitor.user_id && e.visitor !== null,
    );

    const invited = await bus.request('routing.rpc.invite', {
      operator_id: anna.id,
      user_id: visitor.user_id,
      message: 'Hi Kim, can I help?',
    });
    const invitation = await log.wait(
      'routing.evt.invitation',
      (e) => e.chat_id === invited.chat_id,
    );
    expect(invitation).toMatchObject({
      user_id: visitor.user_id,
      operator: { id: anna.id, name: 'Anna' },
    });
    expect(invitation.message).toMatchObject({
      sender_type: 'admin',
      content: 'Hi Kim, can I help?',
    });
    const assigned = await log.wait(
      'routing.evt.assigned',
      (e) => e.session.chat_id === invited.chat_id,
    );
    expect(assigned).toMatchObject({
      operator_id: anna.id,
      reason: 'invitation',
      user_name: 'Kim',
    });

    // The visitor's own chat is the invited one, and holds the operator's message first.
    const own = await bus.request('chat.rpc.visitor_chat', { visitor, limit: 10 });
    expect(own.id).toBe(invited.chat_id);
    expect(own.messages.map((m) => [m.sender_type, m.sender_name, m.content])).toEqual([
      ['admin', 'Anna', 'Hi Kim, can I help?'],
    ]);
    const sessions = await bus.request('routing.rpc.visitor_sessions', {
      user_id: visitor.user_id,
    });
    expect(sessions).toMatchObject([
      { chat_id: invited.chat_id, status: 'active', operator: { id: anna.id } },
    ]);
  });
});

describe('online visitors with the chat service', () => {
  it('shows the name a visitor gave in the widget, in the online list and the queue', async () => {
    const visitor = anonymous();
    bus.publish('gateway.evt.connection', {
      gateway_id: 'gw-1',
      connection_id: randomUUID(),
      connected: true,
      at: new Date().toISOString(),
      who: { kind: 'visitor', visitor, user_agent: 'test', country: null },
    });
    await log.wait(
      'routing.presence.visitor',
      (e) => e.user_id === visitor.user_id && e.visitor?.name === null,
    );
    await bus.request('chat.rpc.update_visitor', {
      user_id: visitor.user_id,
      update: { name: 'Vera', email: 'vera@example.com' },
    });
    const renamed = await log.wait(
      'routing.presence.visitor',
      (e) => e.user_id === visitor.user_id && e.visitor?.name === 'Vera',
    );
    expect(renamed.visitor).toMatchObject({
      name: 'Vera',
      email: 'vera@example.com',
      identified: false,
    });
  });
});
