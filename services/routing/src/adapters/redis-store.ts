import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRedis } from '@parley/runtime/redis';
import {
  AppError,
  ErrorCode,
  type ChatId,
  type OnlineVisitor,
  type Operator,
  type OperatorId,
  type OperatorPresence,
  type OperatorStatus,
  type PageInfo,
  type QueueEntry,
  type RoutingSession,
  type SessionId,
  type UserId,
} from '@parley/contracts';
import type { VisitorIdentity } from '@parley/contracts/nats';
import type {
  Assignment,
  Changes,
  Closing,
  Member,
  RoutingStore,
  Unassignment,
  VisitorConnectionInfo,
} from '../domain/ports.ts';

const SCRIPTS = [
  'open_session',
  'take',
  'transfer',
  'close',
  'set_status',
  'upsert_operator',
  'connection',
  'heartbeat',
  'gateway_alive',
  'tick',
  'invite',
  'page_view',
  'read',
  'outbox',
  'visitor_profile',
] as const;
type ScriptName = (typeof SCRIPTS)[number];
type ScriptCall = (...args: Array<string | number>) => Promise<unknown>;
type DefinedCommands = Record<string, ScriptCall | undefined>;

const luaDir = new URL('./lua/', import.meta.url);
const prelude = readFileSync(new URL('prelude.lua', luaDir), 'utf8');

/** Session hash as the Lua scripts store it (times in epoch milliseconds, '' for none). */
interface RawSession {
  id: string;
  chat_id: string;
  user_id: string;
  status: RoutingSession['status'];
  operator_id?: string;
  operator_name?: string;
  created_at: string;
  assigned_at?: string;
  closed_at?: string;
  queued_at?: string;
  user_name?: string;
  user_email?: string;
  preview?: string;
  queue_position?: number;
}

interface RawChanges {
  result: unknown;
  assigned: Array<{
    chat_id: string;
    operator_id: string;
    operator_name: string;
    reason: Assignment['reason'];
    from_operator_id: string | false;
    from_operator_name: string | false;
  }>;
  unassigned: Array<{
    chat_id: string;
    operator_id: string;
    operator_name: string;
    reason: Unassignment['reason'];
    to_queue: boolean;
  }>;
  closed: Array<{ chat_id: string; by_kind: Closing['byKind']; by_name: string }>;
  sessions: RawSession[];
  operators: RawPresence[];
  queue?: RawSession[];
  visitors_changed: boolean;
}

interface RawPresence {
  id: string;
  name: string;
  email: string;
  role: OperatorPresence['role'];
  status: OperatorStatus;
  active_chats: number;
  max_chats: number;
  connections: number;
}

interface RawVisitor {
  user_id: string;
  identity?: VisitorIdentity;
  user_agent?: string | null;
  country?: string | null;
  timezone?: string | null;
  first_seen_at: number;
  online_since: number;
  visits: number;
  current_page?: (PageInfo & { at: number }) | null;
  pages_seen: Array<PageInfo & { at: number }> | Record<string, never>;
  chat_id: string | false;
}

/** cjson encodes an empty Lua table as `{}`; every list comes back through this. */
function list<T>(value: T[] | Record<string, never> | undefined | null): T[] {
  return Array.isArray(value) ? value : [];
}

const iso = (ms: string | number | undefined): string | null =>
  ms === undefined || ms === '' ? null : new Date(Number(ms)).toISOString();
const orNull = (s: string | undefined): string | null => (s === undefined || s === '' ? null : s);

function toSession(raw: RawSession): RoutingSession {
  const operatorId = orNull(raw.operator_id);
  return {
    id: raw.id as SessionId,
    chat_id: raw.chat_id as ChatId,
    user_id: raw.user_id as UserId,
    status: raw.status,
    operator: operatorId ? { id: operatorId as OperatorId, name: raw.operator_name ?? '' } : null,
    queue_position: raw.status === 'waiting' && raw.queue_position ? raw.queue_position : null,
    created_at: iso(raw.created_at) ?? new Date(0).toISOString(),
    assigned_at: iso(raw.assigned_at),
    closed_at: iso(raw.closed_at),
  };
}

function toQueueEntry(raw: RawSession): QueueEntry {
  return {
    chat_id: raw.chat_id as ChatId,
    session_id: raw.id as SessionId,
    user_id: raw.user_id as UserId,
    user_name: orNull(raw.user_name),
    user_email: orNull(raw.user_email),
    position: raw.queue_position ?? 1,
    waiting_since: iso(raw.queued_at ?? raw.created_at) ?? new Date(0).toISOString(),
    last_message_preview: orNull(raw.preview),
  };
}

function toPresence(raw: RawPresence): OperatorPresence {
  return {
    id: raw.id as OperatorId,
    name: raw.name,
    email: raw.email,
    role: raw.role,
    status: raw.status,
    active_chats: raw.active_chats,
    max_chats: raw.max_chats,
    connections: raw.connections,
  };
}

function toVisitor(raw: RawVisitor): OnlineVisitor {
  const page = (p: PageInfo & { at: number }) => ({ ...p, at: new Date(p.at).toISOString() });
  const current = raw.current_page ?? null;
  return {
    user_id: raw.user_id as UserId,
    name: raw.identity?.name ?? null,
    email: raw.identity?.email ?? null,
    identified: raw.identity?.identified ?? false,
    current_page: current
      ? { url: current.url, title: current.title, referrer: current.referrer }
      : null,
    pages_seen: list(raw.pages_seen).map(page),
    first_seen_at: new Date(raw.first_seen_at).toISOString(),
    online_since: new Date(raw.online_since).toISOString(),
    returning: raw.visits > 1,
    country: raw.country ?? null,
    user_agent: raw.user_agent ?? null,
    timezone: raw.timezone ?? null,
    chat_id: raw.chat_id ? (raw.chat_id as ChatId) : null,
  };
}

function memberKey(m: Member): string {
  return `${m.kind === 'operator' ? 'o' : 'v'}|${m.id}|${m.connectionId}`;
}

/** Maps a Lua error reply ("conflict Some message") to the matching AppError. */
function toAppError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const match = /^(\w+) (.*)$/s.exec(err.message);
  const code = match ? ErrorCode.safeParse(match[1]) : undefined;
  if (match && code?.success) return new AppError(code.data, match[2] ?? '');
  return err;
}

/** Turns a script's JSON answer into typed changes. */
export function parseChanges<R>(encoded: string): Changes<R> {
  const raw = JSON.parse(encoded) as RawChanges;
  const sessionUsers = new Map<string, { name: string | null; email: string | null }>();
  for (const s of list(raw.sessions))
    sessionUsers.set(s.chat_id, { name: orNull(s.user_name), email: orNull(s.user_email) });
  return {
    result: raw.result as R,
    assigned: list(raw.assigned).map((a) => ({
      chatId: a.chat_id as ChatId,
      operatorId: a.operator_id as OperatorId,
      operatorName: a.operator_name,
      reason: a.reason,
      from: a.from_operator_id
        ? { id: a.from_operator_id as OperatorId, name: a.from_operator_name || '' }
        : null,
    })),
    unassigned: list(raw.unassigned).map((u) => ({
      chatId: u.chat_id as ChatId,
      operatorId: u.operator_id as OperatorId,
      operatorName: u.operator_name,
      reason: u.reason,
      toQueue: u.to_queue,
    })),
    closed: list(raw.closed).map((c) => ({
      chatId: c.chat_id as ChatId,
      byKind: c.by_kind,
      byName: c.by_name,
    })),
    sessions: list(raw.sessions).map(toSession),
    sessionUsers,
    operators: list(raw.operators).map(toPresence),
    queue: raw.queue === undefined ? null : list(raw.queue).map(toQueueEntry),
    visitorsChanged: raw.visitors_changed,
  };
}

export function createRedisStore(opts: {
  url: string;
  prefix: string;
  operatorGraceMs: number;
  visitorGraceMs: number;
  gatewayTimeoutMs: number;
  /** Every client this store opens reports its connection errors here. */
  onClient?: (client: Redis) => void;
}): RoutingStore & { redis: Redis } {
  const redis = createRedis(opts.url, { maxRetriesPerRequest: 3, lazyConnect: false });
  opts.onClient?.(redis);
  const commands = {} as Record<ScriptName, ScriptCall>;
  for (const name of SCRIPTS) {
    const body = readFileSync(new URL(`${name}.lua`, luaDir), 'utf8');
    redis.defineCommand(`routing_${name}`, { numberOfKeys: 0, lua: `${prelude}\n${body}` });
    const fn = (redis as unknown as DefinedCommands)[`routing_${name}`]?.bind(redis);
    if (!fn) throw new Error(`Redis script ${name} was not defined`);
    commands[name] = (...args) => fn(opts.prefix, ...args);
  }

  async function run<R>(name: ScriptName, ...args: Array<string | number>): Promise<Changes<R>> {
    let encoded: string;
    try {
      encoded = String(await commands[name](...args));
    } catch (err) {
      throw toAppError(err);
    }
    return parseChanges<R>(encoded);
  }

  // XREAD BLOCK holds its connection, so the relay reads on its own one.
  let blocking: Redis | undefined;
  const outboxKey = `${opts.prefix}outbox`;

  async function read<T>(what: string, arg = ''): Promise<T> {
    return JSON.parse(String(await commands.read(what, arg))) as T;
  }

  const grace = () => [opts.operatorGraceMs, opts.visitorGraceMs] as const;

  return {
    redis,
    openSession: (i) =>
      run(
        'open_session',
        i.chatId,
        i.userId,
        i.userName ?? '',
        i.userEmail ?? '',
        i.preview ?? '',
        i.seq,
        randomUUID(),
        i.writtenAt.getTime(),
      ),
    take: (chatId, operatorId) => run('take', chatId, operatorId),
    transfer: (i) =>
      run(
        'transfer',
        i.chatId,
        i.actorOperatorId ?? '',
        i.actorIsAdmin ? '1' : '0',
        i.to ?? '',
        i.force ? '1' : '0',
      ),
    close: (chatId, actor) =>
      run('close', chatId, actor.kind, actor.id, actor.isAdmin ? '1' : '0', actor.name),
    setStatus: (operatorId, status) => run('set_status', operatorId, status, opts.operatorGraceMs),
    upsertOperator: (op: Operator) =>
      run(
        'upsert_operator',
        op.id,
        op.name,
        op.email,
        op.role,
        op.max_chats,
        op.active ? '1' : '0',
      ),
    hasOperator: async (operatorId) => (await redis.exists(`${opts.prefix}op:${operatorId}`)) === 1,
    connection: (gatewayId, member, connected, visitor: VisitorConnectionInfo | null, at) =>
      run(
        'connection',
        gatewayId,
        memberKey(member),
        connected ? '1' : '0',
        visitor
          ? JSON.stringify({
              identity: visitor.identity,
              user_agent: visitor.userAgent,
              country: visitor.country,
            })
          : '',
        ...grace(),
        at.getTime(),
      ),
    heartbeat: (gatewayId, members, at) =>
      run('heartbeat', gatewayId, JSON.stringify(members.map(memberKey)), ...grace(), at.getTime()),
    gatewayAlive: async (gatewayId) => {
      await run('gateway_alive', gatewayId);
    },
    tick: () => run('tick', opts.gatewayTimeoutMs, ...grace()),
    invite: (i) =>
      run(
        'invite',
        i.chatId,
        i.userId,
        i.operatorId,
        randomUUID(),
        i.userName ?? '',
        i.userEmail ?? '',
      ),
    visitorProfile: (profile) =>
      run(
        'visitor_profile',
        profile.id,
        profile.name ?? '',
        profile.email ?? '',
        profile.identified ? '1' : '0',
      ),
    pageView: (userId, page, timezone, at) =>
      run('page_view', userId, JSON.stringify(page), timezone ?? '', at.getTime()),
    async session(chatId) {
      const r = await read<{ session: RawSession | false }>('session', chatId);
      return r.session ? toSession(r.session) : null;
    },
    async queue() {
      return list((await read<{ queue: RawSession[] }>('queue')).queue).map(toQueueEntry);
    },
    async operators() {
      return list((await read<{ operators: RawPresence[] }>('operators')).operators).map(
        toPresence,
      );
    },
    async operator(operatorId) {
      const r = await read<{ operator: RawPresence | false; sessions: RawSession[] }>(
        'operator',
        operatorId,
      );
      return {
        operator: r.operator ? toPresence(r.operator) : null,
        sessions: list(r.sessions).map(toSession),
      };
    },
    async onlineVisitors() {
      const r = await read<{ visitors: RawVisitor[] }>('visitors');
      return list(r.visitors)
        .map(toVisitor)
        .sort((a, b) => a.online_since.localeCompare(b.online_since));
    },
    async visitor(userId) {
      const r = await read<{ chat_id: string | false; visitor: RawVisitor | false }>(
        'user_chat',
        userId,
      );
      return {
        chatId: r.chat_id ? (r.chat_id as ChatId) : null,
        identity: r.visitor && r.visitor.identity ? r.visitor.identity : null,
      };
    },
    outbox: {
      async lease(holder, ttlMs) {
        return (await commands.outbox('lease', holder, ttlMs, '')) === 1;
      },
      async release(holder) {
        await commands.outbox('release', holder, 0, '');
      },
      async advance(holder, entryId, ttlMs) {
        return (await commands.outbox('advance', holder, ttlMs, entryId)) === 1;
      },
      cursor: async () => String(await commands.outbox('cursor', '', 0, '')),
      async read(after, blockMs) {
        if (!blocking) {
          blocking = redis.duplicate();
          opts.onClient?.(blocking);
        }
        const reply = (await blocking.xread(
          'COUNT',
          50,
          'BLOCK',
          blockMs,
          'STREAMS',
          outboxKey,
          after,
        )) as Array<[string, Array<[string, string[]]>]> | null;
        const entries = reply?.[0]?.[1] ?? [];
        return entries.map(([id, fields]) => ({
          id,
          changes: parseChanges<unknown>(fields[1] ?? '{}'),
        }));
      },
    },
    async disconnect() {
      blocking?.disconnect();
      await redis.quit();
    },
  };
}
