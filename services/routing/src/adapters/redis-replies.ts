import {
  type ChatId,
  type OnlineVisitor,
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
import type { Assignment, Changes, Closing, Unassignment } from '../domain/ports.ts';

/** What the rule scripts (src/rules/*.lua) answer, and its mapping to the domain's types. */

/** Session hash as the Lua scripts store it (times in epoch milliseconds, '' for none). */
export interface RawSession {
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
  visitor_left_at?: string;
  offline?: string;
}

export interface RawChanges {
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
  visitors: Array<{ user_id: string; online: boolean; visitor: RawVisitor | false }>;
  visitors_online: number;
}

export interface RawPresence {
  id: string;
  name: string;
  email: string;
  role: OperatorPresence['role'];
  status: OperatorStatus;
  active_chats: number;
  max_chats: number;
  connections: number;
}

export interface RawVisitor {
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
export function list<T>(value: T[] | Record<string, never> | undefined | null): T[] {
  return Array.isArray(value) ? value : [];
}

const iso = (ms: string | number | undefined): string | null =>
  ms === undefined || ms === '' ? null : new Date(Number(ms)).toISOString();
const orNull = (s: string | undefined): string | null => (s === undefined || s === '' ? null : s);

export function toSession(raw: RawSession): RoutingSession {
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
    visitor_left_at: raw.status === 'waiting' ? iso(raw.visitor_left_at) : null,
    offline_message: raw.offline === '1',
  };
}

export function toQueueEntry(raw: RawSession): QueueEntry {
  return {
    chat_id: raw.chat_id as ChatId,
    session_id: raw.id as SessionId,
    user_id: raw.user_id as UserId,
    user_name: orNull(raw.user_name),
    user_email: orNull(raw.user_email),
    position: raw.queue_position ?? 1,
    waiting_since: iso(raw.queued_at ?? raw.created_at) ?? new Date(0).toISOString(),
    last_message_preview: orNull(raw.preview),
    visitor_left_at: iso(raw.visitor_left_at),
    offline_message: raw.offline === '1',
  };
}

export function toPresence(raw: RawPresence): OperatorPresence {
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

export function toVisitor(raw: RawVisitor): OnlineVisitor {
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
    visitors: list(raw.visitors).map((v) => ({
      userId: v.user_id as UserId,
      visitor: v.online && v.visitor ? toVisitor(v.visitor) : null,
    })),
    visitorsOnline: raw.visitors_online ?? 0,
  };
}
