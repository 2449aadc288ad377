/**
 * Test bed for the routing service: real nats-server and redis-server, two routing replicas as
 * processes, a recorder of routing.evt.*, and helpers that speak as the gateway and chat service.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type {
  ChatId,
  ClientId,
  MessageId,
  Operator,
  OperatorId,
  SupportChat,
  SupportMessage,
  UserId,
} from '@parley/contracts';
import type {
  EventPayload,
  EventSubject,
  RpcRequest,
  RpcResponse,
  RpcSubject,
  VisitorIdentity,
} from '@parley/contracts/nats';
import { connectBus, createLogger, presenceReport, type Bus } from '@parley/runtime';
import {
  startNatsServer,
  startRedisServer,
  startService,
  type ManagedProcess,
} from '@parley/runtime/testing';

export const GRACE_MS = 400;
/** How long a chat returned to the queue keeps away from the operator who returned it. */
export const RETURN_GRACE_MS = 1500;

type Recorded = { [S in EventSubject]: { subject: S; payload: EventPayload<S> } }[EventSubject];

/** Every routing.evt.* seen, with a way to wait for the next (or an earlier) matching one. */
export class EventLog {
  readonly events: Recorded[] = [];
  private waiters: Array<{ match: (e: Recorded) => boolean; resolve: (e: Recorded) => void }> = [];

  push(e: Recorded) {
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(e)) return true;
      w.resolve(e);
      return false;
    });
  }

  of<S extends EventSubject>(subject: S): Array<EventPayload<S>> {
    return this.events
      .filter((e) => e.subject === subject)
      .map((e) => e.payload as EventPayload<S>);
  }

  /** A point in the log: `wait(..., { after })` ignores everything recorded before it. */
  mark(): number {
    return this.events.length;
  }

  /** Resolves with the first event (already seen or future) that matches. */
  wait<S extends EventSubject>(
    subject: S,
    match: (p: EventPayload<S>) => boolean = () => true,
    opts: { after?: number; timeoutMs?: number } = {},
  ): Promise<EventPayload<S>> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const m = (e: Recorded) => e.subject === subject && match(e.payload as EventPayload<S>);
    const seen = this.events.slice(opts.after ?? 0).find(m);
    if (seen) return Promise.resolve(seen.payload as EventPayload<S>);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`no ${subject} event matched within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        match: m,
        resolve: (e) => {
          clearTimeout(t);
          resolve(e.payload as EventPayload<S>);
        },
      });
    });
  }

  clear() {
    this.events.length = 0;
  }
}

/**
 * Plays the chat service's part that routing calls (operator accounts, visitor chats, message
 * store), recording what routing wrote into each chat's history.
 */
export class ChatStandIn {
  readonly operators = new Map<string, Operator>();
  readonly messages = new Map<string, SupportMessage[]>();
  readonly visitorChats = new Map<string, ChatId>();

  private waiters: Array<() => void> = [];

  history(chatId: string): string[] {
    return (this.messages.get(chatId) ?? []).map((m) => `${m.sender_type}: ${m.content}`);
  }

  /** Resolves with the chat's history once it holds `count` messages (system lines arrive after events). */
  historyOf(chatId: string, count: number, timeoutMs = 10_000): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const lines = this.history(chatId);
        if (lines.length < count) return false;
        resolve(lines);
        return true;
      };
      if (check()) return;
      const t = setTimeout(
        () =>
          reject(
            new Error(`chat ${chatId} has ${this.history(chatId).length} of ${count} messages`),
          ),
        timeoutMs,
      );
      const waiter = () => {
        if (check()) {
          clearTimeout(t);
          this.waiters = this.waiters.filter((w) => w !== waiter);
        }
      };
      this.waiters.push(waiter);
    });
  }

  store(
    chatId: ChatId,
    m: Omit<SupportMessage, 'id' | 'seq' | 'created_at' | 'read_at' | 'attachments' | 'chat_id'>,
  ) {
    const list = this.messages.get(chatId) ?? [];
    const message: SupportMessage = {
      ...m,
      id: randomUUID() as MessageId,
      chat_id: chatId,
      seq: list.length + 1,
      created_at: new Date().toISOString(),
      read_at: null,
      attachments: [],
    };
    list.push(message);
    this.messages.set(chatId, list);
    for (const w of [...this.waiters]) w();
    return message;
  }
}

export interface Bed {
  bus: Bus;
  redis: Redis;
  log: EventLog;
  chat: ChatStandIn;
  replicas: Array<ManagedProcess & { logs: () => string }>;
  request<S extends RpcSubject>(subject: S, payload: RpcRequest<S>): Promise<RpcResponse<S>>;
  operator(
    name: string,
    opts?: { max_chats?: number; role?: 'admin' | 'agent' },
  ): Promise<Operator>;
  connect(op: Operator, gateway?: string): Promise<string>;
  disconnect(op: Operator, connectionId: string, gateway?: string): void;
  /** A visitor's widget connects to (or leaves) gateway gw-1. */
  visitorConnection(
    visitor: VisitorIdentity,
    connectionId: string,
    connected: boolean,
    extra?: { userAgent?: string | null; country?: string | null },
  ): void;
  visitorWrites(opts?: {
    chatId?: ChatId;
    userId?: UserId;
    name?: string;
    email?: string;
    text?: string;
    /** When the chat service stored it (default now). */
    writtenAt?: Date;
  }): Promise<{ chatId: ChatId; userId: UserId }>;
  reset(): Promise<void>;
  /** Kills replica `index` with SIGKILL and starts a fresh one in its place. */
  crashReplica(index: number, beforeRestart?: () => Promise<void>): Promise<void>;
  /** Stops redis-server and starts it again on the same port and AOF directory. */
  restartRedis(): Promise<void>;
  stop(): Promise<void>;
}

/** `natsConfig`: nats.conf text, e.g. a small `max_payload`. */
export async function startBed(opts: { natsConfig?: string } = {}): Promise<Bed> {
  const nats = await startNatsServer(
    opts.natsConfig === undefined ? {} : { config: opts.natsConfig },
  );
  const redisDir = mkdtempSync(path.join(os.tmpdir(), 'parley-routing-redis-'));
  let redisServer = await startRedisServer({ dir: redisDir });
  const env = {
    NATS_URL: nats.url,
    REDIS_URL: redisServer.url,
    OPERATOR_OFFLINE_GRACE: `${GRACE_MS}ms`,
    VISITOR_OFFLINE_GRACE: `${GRACE_MS}ms`,
    RETURN_TO_QUEUE_GRACE: `${RETURN_GRACE_MS}ms`,
    GATEWAY_HEARTBEAT_TIMEOUT: '3s',
    TICK_INTERVAL: '50ms',
    OUTBOX_LEASE: '2s',
    CONSUMER_ACK_WAIT: '2s',
  };
  const bus = await connectBus({
    servers: nats.url,
    name: 'routing-test',
    logger: createLogger('routing-test', 'silent'),
  });
  await bus.ensureStreams();
  const redis = new Redis(redisServer.url);
  const log = new EventLog();
  const chat = new ChatStandIn();
  const subs = [
    ...['routing.evt.>', 'routing.presence.>'].map((subject) =>
      bus.nc.subscribe(subject, {
        callback: (_err, msg) =>
          log.push({ subject: msg.subject, payload: msg.json() } as Recorded),
      }),
    ),
    bus.serve('chat.rpc.operator_get', async (r) => chat.operators.get(r.id) ?? null),
    bus.serve('chat.rpc.send_message', async (r) => ({
      message: chat.store(r.chat_id, {
        content: r.content,
        sender_type: r.sender_type,
        sender_id: r.sender_id,
        sender_name: r.sender_name,
        client_id: r.client_id,
      }),
      duplicate: false,
    })),
    bus.serve('chat.rpc.visitor_chat', async (r): Promise<SupportChat> => {
      const id = chat.visitorChats.get(r.visitor.user_id) ?? (randomUUID() as ChatId);
      chat.visitorChats.set(r.visitor.user_id, id);
      return {
        id,
        messages: [],
        has_more_before: false,
        last_seq: 0,
        user: {
          id: r.visitor.user_id,
          name: r.visitor.name,
          email: r.visitor.email,
          identified: r.visitor.identified,
          unsubscribed: false,
        },
      };
    }),
  ];
  const replicas = await Promise.all([startService('routing', env), startService('routing', env)]);
  const seqs = new Map<string, number>();
  // gw-1 heartbeats like a real gateway, listing the connections the tests opened on it.
  const live = {
    operators: new Map<string, OperatorId>(),
    visitors: new Map<string, UserId>(),
  };
  const heartbeat = setInterval(() => {
    const parts = presenceReport(
      'gw-1',
      new Date().toISOString(),
      [...live.operators].map(([connection_id, operator_id]) => ({ operator_id, connection_id })),
      [...live.visitors].map(([connection_id, user_id]) => ({ user_id, connection_id })),
      bus.nc.info?.max_payload ?? 1024 * 1024,
    );
    for (const part of parts) bus.publish('gateway.evt.heartbeat', part);
  }, 250);

  const bed: Bed = {
    bus,
    redis,
    log,
    chat,
    replicas,
    request: (subject, payload) => bus.request(subject, payload, { timeoutMs: 10_000 }),
    async operator(name, opts = {}) {
      const op: Operator = {
        id: randomUUID() as OperatorId,
        email: `${name.toLowerCase()}@example.com`,
        name,
        role: opts.role ?? 'agent',
        max_chats: opts.max_chats ?? 5,
        active: true,
        created_at: new Date().toISOString(),
      };
      chat.operators.set(op.id, op);
      await bed.request('routing.rpc.operator_updated', { operator: op });
      return op;
    },
    async connect(op, gateway = 'gw-1') {
      const connectionId = randomUUID();
      const seen = log.wait(
        'routing.evt.operator_changed',
        (e) => e.operator.id === op.id && e.operator.connections > 0,
        { after: log.mark() },
      );
      if (gateway === 'gw-1') live.operators.set(connectionId, op.id);
      bus.publish('gateway.evt.connection', {
        gateway_id: gateway,
        connection_id: connectionId,
        connected: true,
        at: new Date().toISOString(),
        who: { kind: 'operator', operator_id: op.id },
      });
      await seen;
      return connectionId;
    },
    disconnect(op, connectionId, gateway = 'gw-1') {
      if (gateway === 'gw-1') live.operators.delete(connectionId);
      bus.publish('gateway.evt.connection', {
        gateway_id: gateway,
        connection_id: connectionId,
        connected: false,
        at: new Date().toISOString(),
        who: { kind: 'operator', operator_id: op.id },
      });
    },
    visitorConnection(visitor, connectionId, connected, extra = {}) {
      if (connected) live.visitors.set(connectionId, visitor.user_id);
      else live.visitors.delete(connectionId);
      bus.publish('gateway.evt.connection', {
        gateway_id: 'gw-1',
        connection_id: connectionId,
        connected,
        at: new Date().toISOString(),
        who: {
          kind: 'visitor',
          visitor,
          user_agent: extra.userAgent ?? null,
          country: extra.country ?? null,
        },
      });
    },
    async visitorWrites(opts = {}) {
      const chatId = opts.chatId ?? (randomUUID() as ChatId);
      const userId = opts.userId ?? (`v_${randomUUID()}` as UserId);
      const seq = (seqs.get(chatId) ?? 0) + 1;
      seqs.set(chatId, seq);
      const now = (opts.writtenAt ?? new Date()).toISOString();
      await bus.publishDurable('chat.evt.message_created', {
        message: {
          id: randomUUID() as MessageId,
          chat_id: chatId,
          content: opts.text ?? 'Hello, I need help',
          sender_type: 'user',
          sender_id: userId,
          sender_name: opts.name ?? null,
          read_at: null,
          created_at: now,
          client_id: randomUUID() as ClientId,
          seq,
          attachments: [],
        },
        chat: {
          id: chatId,
          user_id: userId,
          user_email: opts.email ?? null,
          user_name: opts.name ?? null,
          last_message_at: now,
          last_message_preview: opts.text ?? 'Hello, I need help',
          last_message_sender: 'user',
          message_count: seq,
          unread: true,
          archived: false,
          last_seq: seq,
          created_at: now,
        },
      });
      return { chatId, userId };
    },
    async crashReplica(index, beforeRestart) {
      await replicas[index]?.kill();
      await beforeRestart?.();
      replicas[index] = await startService('routing', env);
    },
    async restartRedis() {
      const port = redisServer.port;
      await redisServer.stop();
      redisServer = await startRedisServer({ port, dir: redisDir });
    },
    async reset() {
      live.operators.clear();
      live.visitors.clear();
      // A heartbeat or connection event of the previous test still in flight is handled after
      // the flush: with the account gone, routing skips it instead of recreating that operator
      // (online, connected) who would then take this test's chats.
      chat.operators.clear();
      await redis.flushall();
      log.clear();
    },
    async stop() {
      clearInterval(heartbeat);
      for (const s of subs) s.unsubscribe();
      await Promise.all(replicas.map((r) => r.stop()));
      await bus.drain();
      redis.disconnect();
      await redisServer.stop();
      rmSync(redisDir, { recursive: true, force: true });
      await nats.stop();
    },
  };
  return bed;
}
