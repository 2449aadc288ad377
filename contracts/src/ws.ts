import * as z from 'zod/mini';
import { ErrorCode } from './errors.ts';
import { nonNegativeInt, positiveInt } from './int.ts';
import { wellFormed } from './text.ts';
import { ChatId, ClientId, IsoDate, UserId } from './ids.ts';
import {
  contentOrAttachments,
  sendMessageFields,
  OnlineVisitor,
  OperatorPresence,
  OperatorRef,
  PageInfo,
  QueueEntry,
  RoutingSession,
  SenderType,
  SupportChatListItem,
  SupportMessage,
} from './models.ts';

/**
 * WebSocket protocol at `/ws?token=<token>`: one JSON object per text frame, each with `type`.
 * Channels: `chat` (one chat: its visitor and operators), `admin` (all operators),
 * `operator` (one operator's private channel: assignments).
 * A visitor connection also receives `invitation` frames addressed to it without subscribing.
 */

export const MAX_CLIENT_FRAME_BYTES = 16 * 1024;

// ---------------------------------------------------------------- client → server

const ChatChannelRef = /* @__PURE__ */ z.object({
  channel: z.literal('chat'),
  chat_id: ChatId,
});
const SubscribeChat = /* @__PURE__ */ z.extend(ChatChannelRef, {
  type: z.literal('subscribe'),
  /** Resume point: the gateway replays messages with seq > after_seq, then continues live. */
  after_seq: z.optional(nonNegativeInt()),
});
const SubscribeAdmin = /* @__PURE__ */ z.object({
  type: z.literal('subscribe'),
  channel: z.literal('admin'),
});
const SubscribeOperator = /* @__PURE__ */ z.object({
  type: z.literal('subscribe'),
  channel: z.literal('operator'),
});
export const SubscribeFrame = /* @__PURE__ */ z.discriminatedUnion('channel', [
  SubscribeChat,
  SubscribeAdmin,
  SubscribeOperator,
]);
export type SubscribeFrame = z.infer<typeof SubscribeFrame>;

export const UnsubscribeFrame = /* @__PURE__ */ z.discriminatedUnion('channel', [
  z.extend(ChatChannelRef, { type: z.literal('unsubscribe') }),
  z.object({ type: z.literal('unsubscribe'), channel: z.literal('admin') }),
  z.object({ type: z.literal('unsubscribe'), channel: z.literal('operator') }),
]);
export type UnsubscribeFrame = z.infer<typeof UnsubscribeFrame>;

/**
 * A send over the socket: SendMessageBody plus the frame's type and chat. An operator sets
 * `internal: true` to write an internal note instead (visitors are refused: forbidden).
 */
export const SendMessageFrame = /* @__PURE__ */ z
  .object({
    type: z.literal('send_message'),
    chat_id: ChatId,
    ...sendMessageFields,
    internal: z.optional(z.boolean()),
  })
  .check(contentOrAttachments);
export type SendMessageFrame = z.infer<typeof SendMessageFrame>;

export const TypingFrame = /* @__PURE__ */ z.object({ type: z.literal('typing'), chat_id: ChatId });
export type TypingFrame = z.infer<typeof TypingFrame>;

/** Widget tells where the visitor is. */
export const PageViewFrame = /* @__PURE__ */ z.extend(PageInfo, {
  type: z.literal('page_view'),
  timezone: z.optional(/* @__PURE__ */ z.string().check(wellFormed(), z.maxLength(100))),
});
export type PageViewFrame = z.infer<typeof PageViewFrame>;

/** Application-level ping: browsers cannot see protocol pings. */
export const PingFrame = /* @__PURE__ */ z.object({ type: z.literal('ping') });

export const ClientFrame = /* @__PURE__ */ z.discriminatedUnion('type', [
  SubscribeFrame,
  UnsubscribeFrame,
  SendMessageFrame,
  TypingFrame,
  PageViewFrame,
  PingFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

// ---------------------------------------------------------------- server → client

export const ChannelName = /* @__PURE__ */ z.enum(['chat', 'admin', 'operator']);

export const SubscribedFrame = /* @__PURE__ */ z.object({
  type: z.literal('subscribed'),
  channel: ChannelName,
  chat_id: z.optional(ChatId),
  /**
   * Only with after_seq: true when every missed message was replayed (in order, before this
   * frame's successors); false when too many were missed and the client must reload the chat.
   */
  recovered: z.optional(z.boolean()),
  /** Highest seq of the chat at subscribe time. */
  last_seq: z.optional(nonNegativeInt()),
  /**
   * Operator channel: the operator's active sessions at subscribe time. Live chat_assigned and
   * chat_unassigned frames follow it, so an assignment made while connecting is never missed.
   */
  sessions: z.optional(z.array(RoutingSession)),
});
export type SubscribedFrame = z.infer<typeof SubscribedFrame>;

export const RejectedFrame = /* @__PURE__ */ z.object({
  type: z.literal('rejected'),
  channel: ChannelName,
  chat_id: z.optional(ChatId),
  reason: z.string(),
});
export type RejectedFrame = z.infer<typeof RejectedFrame>;

export const AckFrame = /* @__PURE__ */ z.object({
  type: z.literal('ack'),
  client_id: ClientId,
  message: SupportMessage,
  /** True when this client_id had already been stored (a resend); nothing was broadcast again. */
  duplicate: z.boolean(),
});
export type AckFrame = z.infer<typeof AckFrame>;

export const ErrorFrame = /* @__PURE__ */ z.object({
  type: z.literal('error'),
  client_id: z.optional(z.string()),
  code: ErrorCode,
  message: z.string(),
});
export type ErrorFrame = z.infer<typeof ErrorFrame>;

/** A new message on a chat channel. */
export const NewMessageFrame = /* @__PURE__ */ z.object({
  type: z.literal('new_message'),
  chat_id: ChatId,
  message: SupportMessage,
});
export type NewMessageFrame = z.infer<typeof NewMessageFrame>;

/** Admin channel: a new message, with the chat list item for live list updates. */
export const NewUserMessageFrame = /* @__PURE__ */ z.object({
  type: z.literal('new_user_message'),
  chat_id: ChatId,
  user_email: z.nullable(z.string()),
  message: SupportMessage,
  chat: SupportChatListItem,
});
export type NewUserMessageFrame = z.infer<typeof NewUserMessageFrame>;

export const ServerTypingFrame = /* @__PURE__ */ z.object({
  type: z.literal('typing'),
  chat_id: ChatId,
  sender_type: SenderType,
  sender_name: z.nullable(z.string()),
  /** The indicator expires this many ms after the frame unless refreshed. */
  expires_in_ms: positiveInt(),
});
export type ServerTypingFrame = z.infer<typeof ServerTypingFrame>;

/** Admin channel: a chat's list item changed (archived, unarchived, viewed, read, new admin message). */
export const ChatUpdatedFrame = /* @__PURE__ */ z.object({
  type: z.literal('chat_updated'),
  chat: SupportChatListItem,
});
export type ChatUpdatedFrame = z.infer<typeof ChatUpdatedFrame>;

/** Chat channel: the visitor read operator messages up to seq. */
export const MessagesReadFrame = /* @__PURE__ */ z.object({
  type: z.literal('messages_read'),
  chat_id: ChatId,
  read_at: IsoDate,
  up_to_seq: nonNegativeInt(),
});
export type MessagesReadFrame = z.infer<typeof MessagesReadFrame>;

/** Chat channel: the routing session changed (queued with position, operator joined, closed). */
export const SessionStatusFrame = /* @__PURE__ */ z.object({
  type: z.literal('session_status'),
  chat_id: ChatId,
  session: RoutingSession,
});
export type SessionStatusFrame = z.infer<typeof SessionStatusFrame>;

export const AssignmentReason = /* @__PURE__ */ z.enum([
  'auto',
  'manual',
  'transfer',
  'invitation',
  'requeue',
]);
export type AssignmentReason = z.infer<typeof AssignmentReason>;

/** Why a chat left an operator: handed on, closed, back to the queue, or the operator went offline. */
export const UnassignReason = /* @__PURE__ */ z.enum([
  'transferred',
  'closed',
  'requeued',
  'offline',
]);
export type UnassignReason = z.infer<typeof UnassignReason>;

/** Operator channel: a chat was assigned to you. */
export const ChatAssignedFrame = /* @__PURE__ */ z.object({
  type: z.literal('chat_assigned'),
  chat_id: ChatId,
  session: RoutingSession,
  reason: AssignmentReason,
  user_name: z.nullable(z.string()),
  user_email: z.nullable(z.string()),
  from_operator: z.nullable(OperatorRef),
});
export type ChatAssignedFrame = z.infer<typeof ChatAssignedFrame>;

/** Operator channel: a chat is no longer yours (transferred, closed, requeued). */
export const ChatUnassignedFrame = /* @__PURE__ */ z.object({
  type: z.literal('chat_unassigned'),
  chat_id: ChatId,
  reason: UnassignReason,
});
export type ChatUnassignedFrame = z.infer<typeof ChatUnassignedFrame>;

/** Operator channel: a colleague mentioned you with `@name` in an internal note. */
export const MentionFrame = /* @__PURE__ */ z.object({
  type: z.literal('mention'),
  chat_id: ChatId,
  note: SupportMessage,
  author: OperatorRef,
});
export type MentionFrame = z.infer<typeof MentionFrame>;

/** Admin channel: the wait queue changed. */
export const QueueUpdatedFrame = /* @__PURE__ */ z.object({
  type: z.literal('queue_updated'),
  queue: z.array(QueueEntry),
});
export type QueueUpdatedFrame = z.infer<typeof QueueUpdatedFrame>;

/** Admin channel: an operator's status or load changed. */
export const OperatorStateFrame = /* @__PURE__ */ z.object({
  type: z.literal('operator_state'),
  operator: OperatorPresence,
});
export type OperatorStateFrame = z.infer<typeof OperatorStateFrame>;

/**
 * The whole list of visitors browsing now: no longer sent (see VisitorPresenceFrame), so not in
 * ServerFrame; the schema stays for older clients' code.
 */
export const VisitorsOnlineFrame = /* @__PURE__ */ z.object({
  type: z.literal('visitors_online'),
  visitors: z.array(OnlineVisitor),
});
export type VisitorsOnlineFrame = z.infer<typeof VisitorsOnlineFrame>;

/**
 * Admin channel: one visitor browsing now changed (arrived, page, name, chat), or left
 * (`visitor: null`). The console loads a page of the list over REST and applies these.
 */
export const VisitorPresenceFrame = /* @__PURE__ */ z.object({
  type: z.literal('visitor_presence'),
  user_id: UserId,
  visitor: z.nullable(OnlineVisitor),
  /** How many visitors browse now, this change included. */
  online: nonNegativeInt(),
});
export type VisitorPresenceFrame = z.infer<typeof VisitorPresenceFrame>;

/** Visitor connection: an operator invites this visitor; the widget opens. */
export const InvitationFrame = /* @__PURE__ */ z.object({
  type: z.literal('invitation'),
  chat_id: ChatId,
  operator: OperatorRef,
  message: SupportMessage,
});
export type InvitationFrame = z.infer<typeof InvitationFrame>;

/** Sent before the server closes with 1012 on shutdown: reconnect (to another replica). */
export const ReconnectFrame = /* @__PURE__ */ z.object({
  type: z.literal('reconnect'),
  reason: z.string(),
});

export const PongFrame = /* @__PURE__ */ z.object({ type: z.literal('pong') });

/** The identity the server sees for this connection, sent right after connecting. */
export const WelcomeFrame = /* @__PURE__ */ z.object({
  type: z.literal('welcome'),
  connection_id: z.string(),
  role: z.enum(['visitor', 'operator']),
  user_id: z.optional(UserId),
  heartbeat_ms: positiveInt(),
});

export const ServerFrame = /* @__PURE__ */ z.discriminatedUnion('type', [
  WelcomeFrame,
  SubscribedFrame,
  RejectedFrame,
  AckFrame,
  ErrorFrame,
  NewMessageFrame,
  NewUserMessageFrame,
  ServerTypingFrame,
  ChatUpdatedFrame,
  MessagesReadFrame,
  SessionStatusFrame,
  ChatAssignedFrame,
  ChatUnassignedFrame,
  MentionFrame,
  QueueUpdatedFrame,
  OperatorStateFrame,
  VisitorPresenceFrame,
  InvitationFrame,
  ReconnectFrame,
  PongFrame,
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/**
 * The frames a visitor's socket can receive: what the widget parses, so its first load does not
 * carry the console's frames (online-visitor lists, queue, operator states, mentions…).
 * A frame outside it is ignored by the widget.
 */
export const VisitorServerFrame = /* @__PURE__ */ z.discriminatedUnion('type', [
  WelcomeFrame,
  SubscribedFrame,
  RejectedFrame,
  AckFrame,
  ErrorFrame,
  NewMessageFrame,
  ServerTypingFrame,
  MessagesReadFrame,
  SessionStatusFrame,
  InvitationFrame,
  ReconnectFrame,
  PongFrame,
]);
export type VisitorServerFrame = z.infer<typeof VisitorServerFrame>;
