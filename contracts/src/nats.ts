import * as z from 'zod/mini';
import { ErrorBody } from './errors.ts';
import { AttachmentId, ChatId, ClientId, IsoDate, OperatorId, UserId } from './ids.ts';
import { int, intBetween, nonNegativeInt, positiveInt } from './int.ts';
import {
  AdminSupportChat,
  Attachment,
  Availability,
  BusinessHours,
  RatingScore,
  SessionRating,
  EmailRecord,
  Label,
  MessageContent,
  NoteMention,
  OnlineVisitor,
  Operator,
  OperatorPresence,
  OperatorRef,
  OperatorStatus,
  PageInfo,
  QueueEntry,
  RoutingSession,
  SenderType,
  SupportChat,
  SupportChatListItem,
  SupportMessage,
  SystemEvent,
  VisitorProfile,
} from './models.ts';
import {
  CreateLabelBody,
  CreateOperatorRequest,
  MessagesPage,
  OnlineVisitorsPage,
  OnlineVisitorsQuery,
  UpdateOperatorRequest,
  VisitorProfileUpdate,
} from './http.ts';
import { AssignmentReason, UnassignReason } from './ws.ts';
import { CannedResponse, CannedResponseId, CreateCannedBody, UpdateCannedBody } from './canned.ts';

/**
 * NATS subjects. Three kinds:
 * - `*.rpc.*`: request/reply, served by a queue group (any replica answers once).
 *   Reply payload is `RpcReply`: `{ ok: true, data }` or `{ ok: false, error }`.
 * - `*.evt.*`: facts published after they are durable. `chat.evt.>` and `routing.evt.>` go
 *   to JetStream streams (CHAT_EVENTS, ROUTING_EVENTS) so durable consumers (notify) lose
 *   nothing; every gateway also reads them with a plain subscription for live fan-out.
 * - `gateway.*`: ephemeral signals from gateways (typing, presence) on core NATS, except
 *   `gateway.token_revoked`, kept in the TOKEN_REVOCATIONS stream.
 */

export const rpcOk = <T extends z.core.$ZodType>(data: T) =>
  z.object({ ok: z.literal(true), data });
export const RpcError = z.object({ ok: z.literal(false), error: ErrorBody });
export const rpcReply = <T extends z.core.$ZodType>(data: T) =>
  z.discriminatedUnion('ok', [rpcOk(data), RpcError]);

/** Who is asking, carried on every RPC that acts for someone. */
export const Actor = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('visitor'), user_id: UserId }),
  z.object({
    kind: z.literal('operator'),
    operator_id: OperatorId,
    name: z.string(),
    role: z.enum(['admin', 'agent']),
  }),
  z.object({ kind: z.literal('system') }),
]);
export type Actor = z.infer<typeof Actor>;

export const VisitorIdentity = z.object({
  user_id: UserId,
  identified: z.boolean(),
  /** Only identified users' email/name are authoritative (from the host site). */
  email: z.nullable(z.string()),
  name: z.nullable(z.string()),
});
export type VisitorIdentity = z.infer<typeof VisitorIdentity>;

const ChatRef = z.object({ chat_id: ChatId });

/** Request/reply subjects: request schema and reply data schema. */
/** Why a notify claim took nothing: the email would be wrong or a repeat. */
export const NotifyClaimReason = z.enum([
  'not_found',
  'archived',
  'already_notified',
  'nothing_unread',
]);
export type NotifyClaimReason = z.infer<typeof NotifyClaimReason>;

export const rpcCatalog = {
  // ---- chat service: visitors ----
  'chat.rpc.visitor_chat': {
    request: z.object({
      visitor: VisitorIdentity,
      limit: z._default(intBetween(1, 200), 50),
    }),
    response: SupportChat,
  },
  'chat.rpc.update_visitor': {
    request: z.object({ user_id: UserId, update: VisitorProfileUpdate }),
    response: VisitorProfile,
  },
  'chat.rpc.visitor_profile': {
    request: z.object({ user_id: UserId }),
    response: z.nullable(VisitorProfile),
  },
  'chat.rpc.unsubscribe': {
    request: z.object({ user_id: UserId }),
    response: VisitorProfile,
  },
  /** Chat ownership, for channel authorization. */
  'chat.rpc.chat_owner': {
    request: ChatRef,
    response: z.nullable(z.object({ chat_id: ChatId, user_id: UserId })),
  },
  // ---- chat service: messages ----
  'chat.rpc.send_message': {
    request: z.object({
      chat_id: ChatId,
      content: MessageContent,
      client_id: z.nullable(ClientId),
      sender_type: SenderType,
      sender_id: z.nullable(z.string()),
      sender_name: z.nullable(z.string()),
      attachment_ids: z._default(z.array(AttachmentId), []),
      /** System messages only: the event the English `content` describes. */
      event: z.optional(SystemEvent),
      /** Operators only: store an internal note (never served to the visitor). */
      internal: z.optional(z.boolean()),
    }),
    response: z.object({ message: SupportMessage, duplicate: z.boolean() }),
  },
  'chat.rpc.mark_read': {
    request: ChatRef,
    response: z.object({
      chat_id: ChatId,
      read_at: z.nullable(IsoDate),
      count: nonNegativeInt(),
      up_to_seq: nonNegativeInt(),
    }),
  },
  'chat.rpc.messages_after': {
    request: z.extend(ChatRef, {
      after_seq: nonNegativeInt(),
      limit: intBetween(1, 1000),
      /** Operators' reads set it; without it internal notes are left out (the visitor's view). */
      include_internal: z.optional(z.boolean()),
    }),
    response: MessagesPage,
  },
  'chat.rpc.messages_before': {
    request: z.extend(ChatRef, {
      before_seq: positiveInt(),
      limit: intBetween(1, 200),
      /** As for messages_after. */
      include_internal: z.optional(z.boolean()),
    }),
    response: MessagesPage,
  },
  // ---- chat service: console ----
  'chat.rpc.list_chats': {
    request: z.object({
      archived: z.boolean(),
      cursor: z.nullable(/* @__PURE__ */ z.string().check(z.maxLength(200))),
      limit: intBetween(1, 200),
      /** Only chats carrying this label id. */
      label: z.optional(z.string()),
    }),
    response: z.object({
      items: z.array(SupportChatListItem),
      next_cursor: z.nullable(z.string()),
    }),
  },
  'chat.rpc.chat_summary': {
    request: ChatRef,
    response: z.nullable(SupportChatListItem),
  },
  'chat.rpc.admin_chat': {
    request: z.extend(ChatRef, {
      /** Set admin_viewed_at (opening the chat in the console). */
      viewer: z.nullable(OperatorId),
      limit: z._default(intBetween(1, 200), 50),
    }),
    response: AdminSupportChat,
  },
  /** The notes mentioning an operator, newest first (the Mentions view). */
  'chat.rpc.mentions': {
    request: z.object({ operator_id: OperatorId, limit: z._default(intBetween(1, 200), 50) }),
    response: z.array(NoteMention),
  },
  /** An operator is looking at the chat: newer visitor messages are no longer unread. */
  'chat.rpc.mark_viewed': {
    request: z.extend(ChatRef, { operator_id: OperatorId }),
    response: SupportChatListItem,
  },
  // ---- chat service: canned replies (the domain applies the team/personal rights) ----
  'chat.rpc.canned_list': {
    request: z.object({ actor: Actor }),
    response: z.array(CannedResponse),
  },
  'chat.rpc.canned_create': {
    request: z.object({ actor: Actor, body: CreateCannedBody }),
    response: CannedResponse,
  },
  'chat.rpc.canned_update': {
    request: z.object({ actor: Actor, id: CannedResponseId, update: UpdateCannedBody }),
    response: CannedResponse,
  },
  'chat.rpc.canned_delete': {
    request: z.object({ actor: Actor, id: CannedResponseId }),
    response: z.object({ deleted: z.literal(true) }),
  },
  // ---- chat service: labels ----
  'chat.rpc.label_list': { request: z.object({}), response: z.array(Label) },
  'chat.rpc.label_create': { request: CreateLabelBody, response: Label },
  'chat.rpc.label_delete': {
    request: z.object({ id: z.string() }),
    response: z.object({ deleted: z.literal(true) }),
  },
  'chat.rpc.set_chat_labels': {
    request: z.extend(ChatRef, { labels: z.array(z.string()) }),
    response: SupportChatListItem,
  },
  'chat.rpc.archive': { request: ChatRef, response: SupportChatListItem },
  'chat.rpc.unarchive': { request: ChatRef, response: SupportChatListItem },
  // ---- chat service: operators (accounts live in the store of record) ----
  'chat.rpc.operator_authenticate': {
    request: z.object({
      email: /* @__PURE__ */ z.string().check(z.maxLength(254)),
      password: /* @__PURE__ */ z.string().check(z.maxLength(1024)),
    }),
    response: z.nullable(Operator),
  },
  'chat.rpc.operator_get': {
    request: z.object({ id: OperatorId }),
    response: z.nullable(Operator),
  },
  'chat.rpc.operator_list': { request: z.object({}), response: z.array(Operator) },
  'chat.rpc.operator_create': { request: CreateOperatorRequest, response: Operator },
  'chat.rpc.operator_update': {
    request: z.object({ id: OperatorId, update: UpdateOperatorRequest }),
    response: Operator,
  },
  // ---- chat service: attachments metadata ----
  'chat.rpc.attachment_get': {
    request: z.object({ id: AttachmentId }),
    response: z.nullable(z.extend(Attachment, { chat_id: ChatId })),
  },
  // ---- chat service: the notify job's atomic claim (exactly-once email) ----
  'chat.rpc.notify_claim': {
    request: z.extend(ChatRef, {
      /** The newest operator message seq the job covers. */
      up_to_seq: positiveInt(),
    }),
    response: z.object({
      /** False when already notified up to that seq, or nothing is unread any more. */
      claimed: z.boolean(),
      reason: z.nullable(NotifyClaimReason),
      chat: z.nullable(SupportChatListItem),
      profile: z.nullable(VisitorProfile),
      /** The unread operator messages the email lists. */
      unread: z.array(SupportMessage),
    }),
  },
  // ---- routing service ----
  'routing.rpc.set_status': {
    request: z.object({ operator_id: OperatorId, status: OperatorStatus }),
    response: OperatorPresence,
  },
  'routing.rpc.me': {
    request: z.object({ operator_id: OperatorId }),
    response: z.object({ operator: OperatorPresence, sessions: z.array(RoutingSession) }),
  },
  'routing.rpc.queue': { request: z.object({}), response: z.array(QueueEntry) },
  'routing.rpc.operators': { request: z.object({}), response: z.array(OperatorPresence) },
  'routing.rpc.session': { request: ChatRef, response: z.nullable(RoutingSession) },
  'routing.rpc.visitor_sessions': {
    request: z.object({ user_id: UserId }),
    response: z.array(RoutingSession),
  },
  'routing.rpc.take': {
    request: z.extend(ChatRef, { operator_id: OperatorId }),
    response: RoutingSession,
  },
  'routing.rpc.transfer': {
    request: z.extend(ChatRef, {
      actor: Actor,
      to_operator_id: z.nullable(OperatorId),
      force: z._default(z.boolean(), false),
    }),
    response: RoutingSession,
  },
  'routing.rpc.close': {
    request: z.extend(ChatRef, { actor: Actor }),
    response: RoutingSession,
  },
  /** The whole list in one reply: kept for older gateways; it outgrows a NATS message. */
  'routing.rpc.online_visitors': { request: z.object({}), response: z.array(OnlineVisitor) },
  'routing.rpc.online_visitors_page': {
    request: OnlineVisitorsQuery,
    response: OnlineVisitorsPage,
  },
  'routing.rpc.online_visitor': {
    request: z.object({ user_id: UserId }),
    response: z.nullable(OnlineVisitor),
  },
  'routing.rpc.invite': {
    request: z.object({ operator_id: OperatorId, user_id: UserId, message: MessageContent }),
    response: z.object({ chat_id: ChatId, message: SupportMessage }),
  },
  'routing.rpc.operator_updated': {
    /** The operator's account changed (capacity, name, deactivated): re-read and reassign. */
    request: z.object({ operator: Operator }),
    response: OperatorPresence,
  },
  /** The visitor rates a closed session of their chat; once (409 conflict after). */
  'routing.rpc.rate': {
    request: z.extend(ChatRef, {
      session_id: z.string(),
      score: RatingScore,
      comment: z.nullable(z.string()),
    }),
    response: SessionRating,
  },
  'routing.rpc.business_hours': { request: z.object({}), response: BusinessHours },
  'routing.rpc.set_business_hours': {
    request: z.object({ hours: BusinessHours }),
    response: BusinessHours,
  },
  /** Open / closed / nobody online right now: reads only, never writes. */
  'routing.rpc.availability': { request: z.object({}), response: Availability },
  // ---- notify service ----
  /** Emails the chat's conversation (what the visitor saw) to `to`: one request, one email. */
  'notify.rpc.send_transcript': {
    request: z.object({ chat_id: ChatId, to: z.string(), visitor_name: z.nullable(z.string()) }),
    response: EmailRecord,
  },
  'notify.rpc.outbox_list': {
    request: z.object({ limit: z._default(intBetween(1, 500), 100) }),
    response: z.array(EmailRecord),
  },
} as const;
export type RpcCatalog = typeof rpcCatalog;
export type RpcSubject = keyof RpcCatalog;
export type RpcRequest<S extends RpcSubject> = z.input<RpcCatalog[S]['request']>;
export type RpcRequestParsed<S extends RpcSubject> = z.output<RpcCatalog[S]['request']>;
export type RpcResponse<S extends RpcSubject> = z.output<RpcCatalog[S]['response']>;

/** Event subjects and their payloads. */
export const eventCatalog = {
  // ---- chat service (JetStream stream CHAT_EVENTS) ----
  'chat.evt.message_created': z.object({ message: SupportMessage, chat: SupportChatListItem }),
  'chat.evt.chat_read': z.object({
    chat_id: ChatId,
    user_id: UserId,
    read_at: IsoDate,
    up_to_seq: nonNegativeInt(),
    chat: SupportChatListItem,
  }),
  'chat.evt.chat_viewed': z.object({
    chat_id: ChatId,
    operator_id: OperatorId,
    viewed_at: IsoDate,
    chat: SupportChatListItem,
  }),
  'chat.evt.chat_archived': z.object({ chat: SupportChatListItem }),
  /** A chat's labels changed. */
  'chat.evt.chat_labels_changed': z.object({ chat: SupportChatListItem }),
  'chat.evt.chat_unarchived': z.object({ chat: SupportChatListItem }),
  'chat.evt.visitor_updated': z.object({ profile: VisitorProfile }),
  'chat.evt.operator_changed': z.object({ operator: Operator }),
  // ---- routing service (JetStream stream ROUTING_EVENTS) ----
  'routing.evt.session_changed': z.object({ session: RoutingSession }),
  'routing.evt.assigned': z.object({
    session: RoutingSession,
    operator_id: OperatorId,
    reason: AssignmentReason,
    from_operator: z.nullable(OperatorRef),
    user_name: z.nullable(z.string()),
    user_email: z.nullable(z.string()),
  }),
  'routing.evt.unassigned': z.object({
    chat_id: ChatId,
    operator_id: OperatorId,
    reason: UnassignReason,
  }),
  'routing.evt.queue_changed': z.object({ queue: z.array(QueueEntry) }),
  'routing.evt.operator_changed': z.object({ operator: OperatorPresence }),
  /** The whole list: no longer published (see routing.presence.visitor); kept for older gateways. */
  'routing.evt.visitors_changed': z.object({ visitors: z.array(OnlineVisitor) }),
  'routing.evt.invitation': z.object({
    user_id: UserId,
    chat_id: ChatId,
    operator: OperatorRef,
    message: SupportMessage,
  }),
  /**
   * One online visitor changed or left (`visitor: null`). Core NATS, outside ROUTING_EVENTS:
   * presence is ephemeral and must never queue behind (or stall) routing's events; a console
   * that missed one reloads its page of the list.
   */
  'routing.presence.visitor': z.object({
    user_id: UserId,
    visitor: z.nullable(OnlineVisitor),
    /** How many visitors browse now, this change included. */
    online: nonNegativeInt(),
    at: IsoDate,
  }),
  // ---- gateways (core NATS, ephemeral) ----
  'gateway.typing': z.object({
    chat_id: ChatId,
    sender_type: SenderType,
    sender_id: z.string(),
    sender_name: z.nullable(z.string()),
  }),
  /** A connection opened or closed. Routing derives operator presence and online visitors. */
  'gateway.evt.connection': z.object({
    gateway_id: z.string(),
    connection_id: z.string(),
    connected: z.boolean(),
    at: IsoDate,
    who: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('operator'), operator_id: OperatorId }),
      z.object({
        kind: z.literal('visitor'),
        visitor: VisitorIdentity,
        user_agent: z.nullable(z.string()),
        country: z.nullable(z.string()),
      }),
    ]),
  }),
  'gateway.evt.page_view': z.object({
    user_id: UserId,
    page: PageInfo,
    timezone: z.nullable(z.string()),
    at: IsoDate,
  }),
  /**
   * A token was logged out: every gateway refuses it until it would have expired. Stored in the
   * TOKEN_REVOCATIONS stream so gateways that start later learn it too.
   */
  'gateway.token_revoked': z.object({ jti: z.string(), exp: int() }),
  /** A WebSocket ticket was redeemed (msgId = ticket id: a second redemption is a duplicate). */
  'gateway.ws_ticket_spent': z.object({ ticket_id: z.string() }),
  /**
   * Every gateway says it is alive periodically, so routing expires the connections of a gateway
   * that died without saying so. Every few heartbeats (`full` absent or true) it lists all its
   * live connections, so routing can rebuild presence after a restart or a lost event; in the
   * others (`full: false`) the lists are empty and mean nothing. A full list too long for one
   * NATS message goes in `report.parts` heartbeats sharing `report.id` and `at`; routing
   * reconciles once it has every part.
   */
  'gateway.evt.heartbeat': z.object({
    gateway_id: z.string(),
    at: IsoDate,
    full: z.optional(z.boolean()),
    report: z.optional(z.object({ id: z.string(), part: nonNegativeInt(), parts: positiveInt() })),
    operators: z.array(z.object({ operator_id: OperatorId, connection_id: z.string() })),
    visitors: z.array(z.object({ user_id: UserId, connection_id: z.string() })),
  }),
} as const;
export type EventCatalog = typeof eventCatalog;
export type EventSubject = keyof EventCatalog;
export type EventPayload<S extends EventSubject> = z.output<EventCatalog[S]>;

/** Longest token lifetime a gateway accepts; revocations are kept at least this long. */
export const MAX_TOKEN_TTL_MS = 365 * 24 * 3_600_000;

/**
 * JetStream streams, created idempotently by every service that uses them at start.
 * Events are kept 7 days unless a stream says otherwise.
 */
export const streams: Record<
  'CHAT_EVENTS' | 'ROUTING_EVENTS' | 'TOKEN_REVOCATIONS' | 'WS_TICKETS',
  { subjects: readonly string[]; max_age_ms?: number; max_bytes?: number }
> = {
  CHAT_EVENTS: { subjects: ['chat.evt.>'] },
  ROUTING_EVENTS: { subjects: ['routing.evt.>'] },
  /**
   * Logouts. A gateway that starts replays them before it accepts connections, so a logged-out
   * token stays refused by replicas that were not running at the time of the logout.
   */
  TOKEN_REVOCATIONS: {
    subjects: ['gateway.token_revoked'],
    max_age_ms: MAX_TOKEN_TTL_MS + 24 * 3_600_000,
    max_bytes: 256 * 1024 * 1024,
  },
  /**
   * Redeemed WebSocket tickets: JetStream's duplicate window (2 min, longer than a ticket
   * lives) makes the second redemption of a ticket on any replica a duplicate, so it is refused.
   */
  WS_TICKETS: {
    subjects: ['gateway.ws_ticket_spent'],
    max_age_ms: 5 * 60_000,
    max_bytes: 64 * 1024 * 1024,
  },
};

/**
 * NATS KV buckets (each is the JetStream stream `KV_<bucket>`), created at first use by the
 * service that owns them.
 */
export const kvBuckets = {
  /**
   * Spent "Open the conversation" email links: create-if-absent is atomic, so a link works once
   * across gateway replicas. Kept longer than any link lives (EMAIL_LINK_TTL is at most 30 days).
   */
  parley_email_links: { ttl_ms: 31 * 24 * 3_600_000 },
} as const;
export type KvBucket = keyof typeof kvBuckets;
