/**
 * With the real routing service: what a client is told and allowed follows the current state,
 * not a stale copy — a visitor (re)subscribing learns their session, an operator subscribing
 * gets their assignments before live events, and authorization uses the account as it is now
 * (role and active flag) on every replica, REST and WebSocket alike.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoutingSession, http, ws as wsc } from '@parley/contracts';
import {
  api,
  createVisitor,
  loginOperator,
  startStack,
  waitFor,
  wsClient,
  type Stack,
} from '@parley/runtime/testing';

let stack: Stack;
let admin: http.LoginResponse;

beforeAll(async () => {
  stack = await startStack({
    services: ['chat', 'routing', 'gateway'],
    gateways: 2,
    buildApps: false,
  });
  admin = await loginOperator(stack);
});

afterAll(async () => {
  await stack?.stop();
});

async function newOperator(role: 'admin' | 'agent', maxChats = 10) {
  const email = `${role}-${randomUUID().slice(0, 8)}@parley.test`;
  const password = 'a long enough password';
  const created = await api<{ id: string }>(stack.gatewayUrl, 'POST', '/api/admin/operators', {
    token: admin.token,
    body: { email, name: `Op ${role}`, password, role, max_chats: maxChats },
  });
  expect(created.status).toBe(201);
  return loginOperator(stack, email, password);
}

/** A visitor whose chat holds one message (so routing opens a session for it). */
async function visitorAsking(content = 'hello') {
  const visitor = await createVisitor(stack);
  const sent = await api<http.SendMessageResponse>(
    stack.gatewayUrl,
    'POST',
    '/api/support_chat/messages',
    {
      token: visitor.token,
      body: { content, client_id: randomUUID() },
    },
  );
  expect(sent.status).toBe(201);
  return { ...visitor, chatId: sent.body.message.chat_id };
}

function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
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

const setStatus = (token: string, status: 'online' | 'away' | 'offline') =>
  api(stack.gatewayUrl, 'PUT', '/api/routing/status', { token, body: { status } });

describe('a visitor subscribing to their chat', () => {
  it('gets the session’s current state, and a reload while waiting shows the queue position again', async () => {
    // Nobody is online: the chats wait in the queue.
    const first = await visitorAsking('first in line');
    const second = await visitorAsking('second in line');
    const position = async () => {
      const res = await api<RoutingSession | null>(
        stack.gatewayUrl,
        'GET',
        '/api/support_chat/session',
        {
          token: second.token,
        },
      );
      return res.body;
    };
    const waiting = await waitFor(
      async () => {
        const s = await position();
        return s?.status === 'waiting' ? s : null;
      },
      { what: 'the second chat waiting' },
    );
    expect(waiting.queue_position).toBeGreaterThanOrEqual(2);

    for (const url of stack.gatewayUrls) {
      // A reload: a new connection, subscribing again (with the seq it has).
      const client = await wsClient(url, second.token);
      client.send({ type: 'subscribe', channel: 'chat', chat_id: second.chatId, after_seq: 1 });
      const status = await client.nextFrame<wsc.SessionStatusFrame>(
        (f) => f.type === 'session_status' && f.chat_id === second.chatId,
      );
      expect(status.session).toMatchObject({
        status: 'waiting',
        queue_position: waiting.queue_position,
      });
      await client.close();
    }
    expect(first.chatId).not.toBe(second.chatId);
  });
});

describe('authorization by the account as it is now', () => {
  it('stops a demoted admin from closing or force-transferring another agent’s chat, on every replica', async () => {
    const agent = await newOperator('agent');
    const formerAdmin = await newOperator('admin');
    const agentWs = await wsClient(stack.gatewayUrls[0]!, agent.token);
    try {
      expect((await setStatus(agent.token, 'online')).status).toBe(200);
      const visitor = await visitorAsking('help me');
      await waitFor(
        async () => {
          const me = await api<http.RoutingMeResponse>(stack.gatewayUrl, 'GET', '/api/routing/me', {
            token: agent.token,
          });
          return me.body.sessions.some((s) => s.chat_id === visitor.chatId);
        },
        { what: 'the chat assigned to the agent' },
      );
      // The former admin's account is known to both replicas before the change.
      for (const url of stack.gatewayUrls) {
        expect((await api(url, 'GET', '/api/auth/me', { token: formerAdmin.token })).status).toBe(
          200,
        );
      }

      const demoted = await api(
        stack.gatewayUrls[0]!,
        'PATCH',
        `/api/admin/operators/${formerAdmin.operator.id}`,
        {
          token: admin.token,
          body: { role: 'agent' },
        },
      );
      expect(demoted.status).toBe(200);
      for (const url of stack.gatewayUrls) {
        const close = await api(url, 'POST', `/api/routing/chats/${visitor.chatId}/close`, {
          token: formerAdmin.token,
        });
        expect(close.status).toBe(403);
        const transfer = await api(url, 'POST', `/api/routing/chats/${visitor.chatId}/transfer`, {
          token: formerAdmin.token,
          body: { to_operator_id: null, force: true },
        });
        expect(transfer.status).toBe(403);
        expect(
          (await api(url, 'GET', '/api/admin/operators', { token: formerAdmin.token })).status,
        ).toBe(403);
      }
      const session = await api<RoutingSession>(
        stack.gatewayUrl,
        'GET',
        `/api/routing/chats/${visitor.chatId}/session`,
        {
          token: agent.token,
        },
      );
      expect(session.body).toMatchObject({ status: 'active', operator: { id: agent.operator.id } });

      // Deactivated: refused by REST and WebSocket (token or ticket) on every replica.
      const ticket = await api<http.WsTicketResponse>(
        stack.gatewayUrls[1]!,
        'POST',
        '/api/ws_ticket',
        {
          token: formerAdmin.token,
        },
      );
      expect(ticket.status).toBe(200);
      const deactivated = await api(
        stack.gatewayUrls[0]!,
        'PATCH',
        `/api/admin/operators/${formerAdmin.operator.id}`,
        {
          token: admin.token,
          body: { active: false },
        },
      );
      expect(deactivated.status).toBe(200);
      for (const url of stack.gatewayUrls) {
        const ws = url.replace(/^http/, 'ws');
        expect(
          (await api(url, 'GET', '/api/routing/me', { token: formerAdmin.token })).status,
        ).toBe(401);
        expect(await upgradeStatus(`${ws}/ws?token=${encodeURIComponent(formerAdmin.token)}`)).toBe(
          401,
        );
      }
      const ws1 = stack.gatewayUrls[1]!.replace(/^http/, 'ws');
      expect(
        await upgradeStatus(`${ws1}/ws?ticket=${encodeURIComponent(ticket.body.ticket)}`),
      ).toBe(401);
    } finally {
      await setStatus(agent.token, 'offline');
      await agentWs.close();
    }
  });
});

describe('an operator subscribing to their channel', () => {
  it('gets the current assignments first, then live ones, even when assigned while connecting', async () => {
    const agent = await newOperator('agent', 20);
    // One connection keeps the agent present; the console's is the one under test.
    const presence = await wsClient(stack.gatewayUrls[0]!, agent.token);
    try {
      expect((await setStatus(agent.token, 'online')).status).toBe(200);
      const before = await Promise.all([visitorAsking('a'), visitorAsking('b')]);
      const mine = async () =>
        (
          await api<http.RoutingMeResponse>(stack.gatewayUrl, 'GET', '/api/routing/me', {
            token: agent.token,
          })
        ).body.sessions.map((s) => s.chat_id);
      await waitFor(
        async () => {
          const assigned = await mine();
          return before.every((v) => assigned.includes(v.chatId));
        },
        {
          what: 'the first chats assigned',
        },
      );
      // More chats arrive while the console connects and subscribes.
      const during = Promise.all([visitorAsking('c'), visitorAsking('d'), visitorAsking('e')]);
      const console = await wsClient(stack.gatewayUrls[1]!, agent.token);
      console.send({ type: 'subscribe', channel: 'operator' });
      const later = await during;
      const all = [...before, ...later].map((v) => v.chatId);
      await waitFor(
        async () => {
          const assigned = await mine();
          return all.every((id) => assigned.includes(id));
        },
        { what: 'every chat assigned to the agent' },
      );

      const subscribed = await console.nextFrame<wsc.SubscribedFrame>(
        (f) => f.type === 'subscribed' && f.channel === 'operator',
      );
      const known = new Set((subscribed.sessions ?? []).map((s) => s.chat_id));
      for (const id of before.map((v) => v.chatId)) expect(known.has(id)).toBe(true);
      for (const id of all) {
        if (known.has(id)) continue;
        await console.nextFrame((f) => f.type === 'chat_assigned' && f.chat_id === id);
      }
      // Nothing live came before the snapshot.
      const index = console.frames.indexOf(subscribed);
      expect(console.frames.slice(0, index).filter((f) => f.type === 'chat_assigned')).toEqual([]);
      await console.close();
    } finally {
      await setStatus(agent.token, 'offline');
      await presence.close();
    }
  });
});
