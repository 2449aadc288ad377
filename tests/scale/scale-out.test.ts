/**
 * Scale-out on one machine: the cross-service scenarios run against one replica of every
 * service and against two of every service (and two gateways) sharing one NATS and one Redis,
 * and must give the same result both times: every message delivered once, every chat assigned
 * once, every unread reply emailed once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ws as wsc } from '@parley/contracts';
import type { EmailRecord, MessageId, SupportChat } from '@parley/contracts/models';
import {
  type ManagedProcess,
  waitFor,
  startStack,
  type Stack,
  api,
  createVisitor,
  loginOperator,
  wsClient,
  type TestWsClient,
} from '@parley/runtime/testing';

// Short delays so the email scenario finishes quickly; the behaviour is the same as with 5m.
const NOTIFY_DELAY = '1s';
const JOB_POLL_INTERVAL = '200ms';

/** Sum of a Prometheus counter (optionally filtered by labels) over live processes. */
async function counterSum(
  procs: ManagedProcess[],
  name: string,
  labels: Record<string, string> = {},
) {
  let total = 0;
  for (const p of procs) {
    if (p.proc.exitCode !== null || p.proc.signalCode !== null) continue;
    const text = await (await fetch(`${p.url}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
        total += Number(line.split(' ').at(-1));
      }
    }
  }
  return total;
}

/** A visitor with a chat, connected to one gateway and subscribed to its chat channel. */
async function connectedVisitor(
  stack: Stack,
  gatewayUrl: string,
  profile: { name: string; email?: string },
) {
  const session = await createVisitor({ gatewayUrl }, profile);
  const chat = await api<SupportChat>(gatewayUrl, 'GET', '/api/support_chat', {
    token: session.token,
  });
  expect(chat.status).toBe(200);
  const socket = await wsClient(gatewayUrl, session.token);
  socket.send({ type: 'subscribe', channel: 'chat', chat_id: chat.body.id });
  await socket.nextFrame((f) => f.type === 'subscribed' && f.channel === 'chat');
  return { session, chatId: chat.body.id, socket };
}

/** An operator logged in through one gateway, listening on its private channel, online. */
async function onlineOperator(stack: Stack, gatewayUrl: string, email: string, password: string) {
  const login = await loginOperator({ ...stack, gatewayUrl }, email, password);
  const socket = await wsClient(gatewayUrl, login.token);
  socket.send({ type: 'subscribe', channel: 'operator' });
  await socket.nextFrame((f) => f.type === 'subscribed' && f.channel === 'operator');
  const status = await api(gatewayUrl, 'PUT', '/api/routing/status', {
    token: login.token,
    body: { status: 'online' },
  });
  expect(status.status).toBe(200);
  return { login, socket };
}

const framesOfType = <F extends wsc.ServerFrame>(client: TestWsClient, type: F['type']) =>
  client.frames.filter((f): f is F => f.type === type);

describe.each([
  { replicas: 1, gateways: 1 },
  { replicas: 2, gateways: 2 },
])(
  'with $replicas replica(s) of every service and $gateways gateway(s)',
  ({ replicas, gateways }) => {
    let stack: Stack;
    const sockets: TestWsClient[] = [];
    /** The last gateway: with two gateways, operators and visitors sit on different ones. */
    const operatorGateway = () => stack.gatewayUrls.at(-1)!;

    beforeAll(async () => {
      stack = await startStack({
        replicas,
        gateways,
        buildApps: false,
        env: { NOTIFY_DELAY, JOB_POLL_INTERVAL },
      });
      expect(stack.services.chat).toHaveLength(replicas);
      expect(stack.services.routing).toHaveLength(replicas);
      expect(stack.services.notify).toHaveLength(replicas);
      expect(stack.services.gateway).toHaveLength(gateways);
    });

    afterAll(async () => {
      await Promise.all(sockets.map((s) => s.close()));
      await stack?.stop();
    });

    it('a visitor and an operator on different gateways chat live, each message delivered once', async () => {
      const operator = await onlineOperator(
        stack,
        operatorGateway(),
        stack.adminEmail,
        stack.adminPassword,
      );
      const visitor = await connectedVisitor(stack, stack.gatewayUrl, { name: 'Vera Visitor' });
      sockets.push(operator.socket, visitor.socket);
      const { chatId } = visitor;

      const first = await visitor.socket.sendMessage(chatId, 'Hello, anyone there?');
      await operator.socket.nextFrame<wsc.ChatAssignedFrame>(
        (f) => f.type === 'chat_assigned' && f.chat_id === chatId,
      );

      const sent: MessageId[] = [first.message.id];
      for (let i = 1; i <= 3; i++) {
        const fromVisitor = await visitor.socket.sendMessage(chatId, `visitor line ${i}`);
        sent.push(fromVisitor.message.id);
        const fromOperator = await operator.socket.sendMessage(chatId, `operator line ${i}`);
        sent.push(fromOperator.message.id);
      }
      // Each side sees every message of the other live; the last one marks the end of the stream.
      const lastId = sent.at(-1)!;
      await visitor.socket.nextFrame((f) => f.type === 'new_message' && f.message.id === lastId);
      const sentinel = await visitor.socket.sendMessage(chatId, 'thanks, bye');
      await operator.socket.nextFrame(
        (f) => f.type === 'new_message' && f.message.id === sentinel.message.id,
      );
      await visitor.socket.nextFrame(
        (f) => f.type === 'new_message' && f.message.id === sentinel.message.id,
      );
      sent.push(sentinel.message.id);

      for (const side of [visitor.socket, operator.socket]) {
        const received = framesOfType<wsc.NewMessageFrame>(side, 'new_message').filter(
          (f) => f.chat_id === chatId,
        );
        const receivedIds = received.map((f) => f.message.id);
        expect(new Set(receivedIds).size, 'no message delivered twice').toBe(receivedIds.length);
        // Besides what the two wrote, only system notes (e.g. "Ada joined") appear.
        const foreign = received.filter((f) => !sent.includes(f.message.id));
        expect(foreign.map((f) => f.message.sender_type)).toEqual(foreign.map(() => 'system'));
        // Only the operator may miss the very first message, when it was stored before the
        // assignment reached the operator's gateway.
        const missing = sent.filter((id) => !receivedIds.includes(id));
        expect(missing, 'messages lost').toEqual(
          side === operator.socket ? missing.filter((id) => id === sent[0]) : [],
        );
        // seq is gap-free and increasing in the order the frames arrived.
        const seqs = received.map((f) => f.message.seq);
        expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
      }
      const assigned = framesOfType<wsc.ChatAssignedFrame>(operator.socket, 'chat_assigned').filter(
        (f) => f.chat_id === chatId,
      );
      expect(assigned).toHaveLength(1);

      const closed = await api(operatorGateway(), 'POST', `/api/routing/chats/${chatId}/close`, {
        token: operator.login.token,
      });
      expect(closed.status).toBe(200);
      await visitor.socket.nextFrame(
        (f) => f.type === 'session_status' && f.chat_id === chatId && f.session.status === 'closed',
      );
      const offline = await api(operatorGateway(), 'PUT', '/api/routing/status', {
        token: operator.login.token,
        body: { status: 'offline' },
      });
      expect(offline.status).toBe(200);
    });

    it('a burst of new chats is assigned, each exactly once, none lost', async () => {
      const admin = await loginOperator(stack);
      const capacity = 8;
      const operators: Array<Awaited<ReturnType<typeof onlineOperator>>> = [];
      for (const name of ['Olga', 'Omar']) {
        const email = `${name.toLowerCase()}.${randomUUID().slice(0, 8)}@parley.test`;
        const password = `pw-${randomUUID()}`;
        const created = await api(stack.gatewayUrl, 'POST', '/api/admin/operators', {
          token: admin.token,
          body: { email, name, password, role: 'agent', max_chats: capacity },
        });
        expect(created.status, JSON.stringify(created.body)).toBeLessThan(300);
        // One operator per gateway, so assignments cross gateways too.
        const gw = stack.gatewayUrls[operators.length % stack.gatewayUrls.length]!;
        operators.push(await onlineOperator(stack, gw, email, password));
      }
      sockets.push(...operators.map((o) => o.socket));

      const burst = 2 * capacity - 2;
      const visitors = await Promise.all(
        Array.from({ length: burst }, (_, i) =>
          connectedVisitor(stack, stack.gatewayUrls[i % stack.gatewayUrls.length]!, {
            name: `Burst ${i}`,
          }),
        ),
      );
      sockets.push(...visitors.map((v) => v.socket));
      // Every visitor writes at the same moment.
      await Promise.all(visitors.map((v) => v.socket.sendMessage(v.chatId, 'I need help too')));

      const chatIds = new Set(visitors.map((v) => v.chatId));
      const assignedChats = () =>
        operators.flatMap((o) =>
          framesOfType<wsc.ChatAssignedFrame>(o.socket, 'chat_assigned')
            .filter((f) => chatIds.has(f.chat_id))
            .map((f) => ({
              chatId: f.chat_id,
              operatorId: f.session.operator?.id,
              to: o.login.operator.id,
            })),
        );
      await waitFor(() => new Set(assignedChats().map((a) => a.chatId)).size === burst, {
        timeoutMs: 20_000,
        what: `all ${burst} chats assigned`,
      });

      // Each visitor learns who joined, and it is the operator who got the assignment.
      for (const v of visitors) {
        const active = await v.socket.nextFrame<wsc.SessionStatusFrame>(
          (f) =>
            f.type === 'session_status' && f.chat_id === v.chatId && f.session.status === 'active',
        );
        const holder = assignedChats().find((a) => a.chatId === v.chatId);
        expect(active.session.operator?.id).toBe(holder?.to);
      }
      // No chat assigned twice (to the same operator or to both), none assigned to the wrong one,
      // no operator beyond capacity, nothing left waiting.
      const assigned = assignedChats();
      expect(assigned).toHaveLength(burst);
      for (const a of assigned) expect(a.operatorId).toBe(a.to);
      for (const o of operators) {
        expect(assigned.filter((a) => a.to === o.login.operator.id).length).toBeLessThanOrEqual(
          capacity,
        );
      }
      const queue = await api<unknown[]>(stack.gatewayUrl, 'GET', '/api/routing/queue', {
        token: admin.token,
      });
      expect(queue.body).toEqual([]);
      for (const v of visitors) {
        const session = await api<{ status: string; operator: { id: string } | null }>(
          stack.gatewayUrl,
          'GET',
          `/api/routing/chats/${v.chatId}/session`,
          { token: admin.token },
        );
        expect(session.body.status).toBe('active');
        expect(session.body.operator?.id).toBe(assigned.find((a) => a.chatId === v.chatId)?.to);
      }

      for (const o of operators) {
        const offline = await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
          token: o.login.token,
          body: { status: 'offline' },
        });
        expect(offline.status).toBe(200);
      }
    });

    it('spreads the work over every chat replica (the runs above exercised all of them)', async () => {
      // NATS queue groups pick a replica per request; after dozens of requests each replica has
      // served some, so "same result" above was reached with both replicas taking part.
      for (const replica of stack.services.chat) {
        expect(
          await counterSum([replica], 'parley_chat_rpc_duration_seconds_count'),
        ).toBeGreaterThan(0);
      }
    });

    it('an unread operator reply is emailed exactly once per chat', async () => {
      const admin = await loginOperator(stack);
      const sentBefore = await counterSum(stack.services.notify, 'notify_jobs_completed_total', {
        outcome: 'sent',
      });
      const count = 6;
      const visitors = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          connectedVisitor(stack, stack.gatewayUrls[i % stack.gatewayUrls.length]!, {
            name: `Mailed ${i}`,
            email: `mailed.${i}.${randomUUID().slice(0, 8)}@example.com`,
          }),
        ),
      );
      sockets.push(...visitors.map((v) => v.socket));
      await Promise.all(
        visitors.map((v) => v.socket.sendMessage(v.chatId, 'Please get back to me')),
      );
      await Promise.all(
        visitors.map(async (v) => {
          const reply = await api(
            operatorGateway(),
            'POST',
            `/api/admin/chats/${v.chatId}/messages`,
            {
              token: admin.token,
              body: { content: 'We are looking into it.', client_id: randomUUID() },
            },
          );
          expect(reply.status, JSON.stringify(reply.body)).toBe(201);
        }),
      );

      // Every job has run and decided "sent" (a duplicate would count twice).
      await waitFor(
        async () =>
          (await counterSum(stack.services.notify, 'notify_jobs_completed_total', {
            outcome: 'sent',
          })) >=
          sentBefore + count,
        { timeoutMs: 30_000, what: `${count} emails sent` },
      );
      const outbox = await api<EmailRecord[]>(stack.gatewayUrl, 'GET', '/api/admin/outbox', {
        token: admin.token,
      });
      expect(outbox.status).toBe(200);
      for (const v of visitors) {
        const emails = outbox.body.filter((e) => e.chat_id === v.chatId);
        expect(emails, `emails for ${v.chatId}`).toHaveLength(1);
        expect(emails[0]!.to).toBe(v.session.visitor.email);
        expect(emails[0]!.text).toContain('We are looking into it.');
      }
      expect(
        await counterSum(stack.services.notify, 'notify_jobs_completed_total', { outcome: 'sent' }),
      ).toBe(sentBefore + count);
    });
  },
);
