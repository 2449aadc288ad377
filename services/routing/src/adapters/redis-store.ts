import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRedis } from '@parley/runtime/redis';
import {
  AppError,
  BusinessHours,
  ErrorCode,
  SessionRating,
  type ChatId,
  type Operator,
} from '@parley/contracts';
import type { Changes, Member, RoutingStore, VisitorConnectionInfo } from '../domain/ports.ts';
import {
  list,
  parseChanges,
  toPresence,
  toQueueEntry,
  toSession,
  toVisitor,
  type RawPresence,
  type RawSession,
  type RawVisitor,
} from './redis-replies.ts';

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

const luaDir = new URL('../rules/', import.meta.url);
const prelude = readFileSync(new URL('prelude.lua', luaDir), 'utf8');

function memberKey(m: Member): string {
  return `${m.kind === 'operator' ? 'o' : 'v'}|${m.id}|${m.connectionId}`;
}

/** Replies Redis gives while it cannot serve yet (loading its data after a restart, ...). */
const REDIS_BUSY = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * Maps a Lua error reply ("conflict Some message") to the matching AppError, and anything that
 * is not a reply from Redis (refused, reset, closed, out of retries) to `unavailable`.
 */
function toAppError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  if (err.name !== 'ReplyError' || REDIS_BUSY.test(err.message))
    return new AppError('unavailable', 'Routing store (Redis) is unreachable; try again shortly');
  const match = /^(\w+) (.*)$/s.exec(err.message);
  const code = match ? ErrorCode.safeParse(match[1]) : undefined;
  if (match && code?.success) return new AppError(code.data, match[2] ?? '');
  return err;
}

/** Every Redis call of the store goes through here, so callers only ever see AppErrors. */
async function guard<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw toAppError(err);
  }
}

/** The read-only views, each one consistent snapshot read by read.lua. */
function readQueries(
  read: <T>(what: string, arg?: string) => Promise<T>,
): Pick<
  RoutingStore,
  'session' | 'queue' | 'operators' | 'operator' | 'onlineVisitors' | 'onlineVisitor' | 'visitor'
> {
  return {
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
    async onlineVisitor(userId) {
      const r = await read<{ visitor: RawVisitor | false }>('online_visitor', userId);
      return r.visitor ? toVisitor(r.visitor) : null;
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
  };
}

/** The outbox the relay drains; XREAD BLOCK holds its connection, so it reads on its own one. */
function outboxOf(
  commands: Record<ScriptName, ScriptCall>,
  outboxKey: string,
  blockingClient: () => Redis,
): RoutingStore['outbox'] {
  return {
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
      const reply = (await guard(
        blockingClient().xread('COUNT', 50, 'BLOCK', blockMs, 'STREAMS', outboxKey, after),
      )) as Array<[string, Array<[string, string[]]>]> | null;
      const entries = reply?.[0]?.[1] ?? [];
      return entries.map(([id, fields]) => ({
        id,
        changes: parseChanges<unknown>(fields[1] ?? '{}'),
      }));
    },
  };
}

export function createRedisStore(opts: {
  url: string;
  prefix: string;
  operatorGraceMs: number;
  visitorGraceMs: number;
  /** How long a chat returned to the queue keeps away from the operator who returned it. */
  returnGraceMs: number;
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
    commands[name] = (...args) => guard(fn(opts.prefix, ...args));
  }

  async function run<R>(name: ScriptName, ...args: Array<string | number>): Promise<Changes<R>> {
    const encoded = String(await commands[name](...args));
    return parseChanges<R>(encoded);
  }

  // XREAD BLOCK holds its connection, so the relay reads on its own one.
  let blocking: Redis | undefined;
  const outboxKey = `${opts.prefix}outbox`;
  const settingsKey = `${opts.prefix}settings:business_hours`;
  // Kept for good: a session's rating outlives the session (the next one replaces it).
  const ratingKey = (sessionId: string) => `${opts.prefix}rating:${sessionId}`;

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
        i.offline ? '1' : '0',
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
        opts.returnGraceMs,
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
    hasOperator: async (operatorId) =>
      (await guard(redis.exists(`${opts.prefix}op:${operatorId}`))) === 1,
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
    heartbeat: (gatewayId, members, at, report) =>
      run(
        'heartbeat',
        gatewayId,
        JSON.stringify(members.map(memberKey)),
        ...grace(),
        at.getTime(),
        report?.id ?? '',
        report?.parts ?? 1,
      ),
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
    ...readQueries(read),
    async businessHours() {
      const raw = await guard(redis.get(settingsKey));
      if (raw === null) return null;
      const parsed = BusinessHours.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : null;
    },
    async setBusinessHours(hours) {
      await guard(redis.set(settingsKey, JSON.stringify(hours)));
    },
    async rate(sessionId, rating) {
      return (await guard(redis.set(ratingKey(sessionId), JSON.stringify(rating), 'NX'))) === 'OK';
    },
    async rating(sessionId) {
      const raw = await guard(redis.get(ratingKey(sessionId)));
      if (raw === null) return null;
      const parsed = SessionRating.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : null;
    },
    outbox: outboxOf(commands, outboxKey, () => {
      if (!blocking) {
        blocking = redis.duplicate();
        opts.onClient?.(blocking);
      }
      return blocking;
    }),
    async disconnect() {
      blocking?.disconnect();
      await redis.quit();
    },
  };
}
