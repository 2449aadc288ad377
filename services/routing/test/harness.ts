/**
 * Test bed for the routing service: real nats-server and redis-server, two routing replicas as
 * processes, a recorder of routing.evt.*, and helpers that speak as the gateway and chat service.
 */
import { randomUUID } from 'node:crypto';
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
} from '@parley/contracts/nats';
import { connectBus, createLogger, type Bus } from '@parley/runtime';
import {
  startNatsServer,
  startRedisServer,
  startService,
  type ManagedProcess,
} from '@parley/runtime/testing';

export const GRACE_MS = 400;

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
  visitorWrites(opts?: {
    chatId?: ChatId;
    userId?: UserId;
    name?: string;
    text?: string;
  }): Promise<{ chatId: ChatId; userId: UserId }>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBed(): Promise<Bed> {
  const nats = await startNatsServer();
  const redisServer = await startRedisServer();
  const env = {
    NATS_URL: nats.url,
    REDIS_URL: redisServer.url,
    OPERATOR_OFFLINE_GRACE: `${GRACE_MS}ms`,
    VISITOR_OFFLINE_GRACE: `${GRACE_MS}ms`,
    GATEWAY_HEARTBEAT_TIMEOUT: '1s',
    TICK_INTERVAL: '50ms',
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
    bus.nc.subscribe('routing.evt.>', {
      callback: (_err, msg) => log.push({ subject: msg.subject, payload: msg.json() } as Recorded),
    }),
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
      bus.publish('gateway.evt.connection', {
        gateway_id: gateway,
        connection_id: connectionId,
        connected: false,
        at: new Date().toISOString(),
        who: { kind: 'operator', operator_id: op.id },
      });
    },
    async visitorWrites(opts = {}) {
      const chatId = opts.chatId ?? (randomUUID() as ChatId);
      const userId = opts.userId ?? (`v_${randomUUID()}` as UserId);
      const seq = (seqs.get(chatId) ?? 0) + 1;
      seqs.set(chatId, seq);
      const now = new Date().toISOString();
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
          user_email: null,
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
    async reset() {
      await redis.flushall();
      log.clear();
    },
    async stop() {
      for (const s of subs) s.unsubscribe();
      await Promise.all(replicas.map((r) => r.stop()));
      await bus.drain();
      redis.disconnect();
      await redisServer.stop();
      await nats.stop();
    },
  };
  return bed;
}
