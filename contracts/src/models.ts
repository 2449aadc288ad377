import * as z from 'zod/mini';
import {
  AttachmentId,
  ChatId,
  ClientId,
  IsoDate,
  MessageId,
  OperatorId,
  SessionId,
  UserId,
} from './ids.ts';
import { intBetween, nonNegativeInt, positiveInt } from './int.ts';
import { wellFormed } from './text.ts';

export const MAX_MESSAGE_LENGTH = 5000;
export const PREVIEW_LENGTH = 100;
export const MAX_NAME_LENGTH = 100;
export const MAX_EMAIL_LENGTH = 254;

/** 'system' records transfers, closes and joins in the history. */
export const SenderType = z.enum(['user', 'admin', 'system']);
export type SenderType = z.infer<typeof SenderType>;

export const AttachmentKind = z.enum(['image', 'audio', 'file']);
export type AttachmentKind = z.infer<typeof AttachmentKind>;

export const Attachment = z.object({
  id: AttachmentId,
  kind: AttachmentKind,
  content_type: z.string(),
  size: nonNegativeInt(),
  name: z.string(),
  /** Path under the gateway, e.g. /api/attachments/<id>; requires the participant's token. */
  url: z.string(),
});
export type Attachment = z.infer<typeof Attachment>;

/**
 * What a system line records, so each reader sees it in their own language; the message's
 * `content` keeps the English sentence for clients that do not know the event.
 */
export const SystemEvent = z.discriminatedUnion('kind', [
  /** An operator took the chat (from the queue or by picking it). */
  z.object({ kind: z.literal('joined'), operator_name: z.string() }),
  /** The operator went offline and the chat went back to the queue. */
  z.object({ kind: z.literal('left'), operator_name: z.string() }),
  z.object({ kind: z.literal('returned_to_queue'), operator_name: z.string() }),
  z.object({ kind: z.literal('transferred'), from_name: z.string(), to_name: z.string() }),
  /** operator_name is set when an operator closed it. */
  z.object({
    kind: z.literal('closed'),
    by: z.enum(['operator', 'visitor', 'system']),
    operator_name: z.nullable(z.string()),
  }),
]);
export type SystemEvent = z.infer<typeof SystemEvent>;

/** A label operators put on chats; admins manage the set. */
export const Label = z.object({
  id: z.string(),
  name: z.string(),
  /** A CSS hex colour, #rgb or #rrggbb. */
  color: z.string(),
  created_at: IsoDate,
});
export type Label = z.infer<typeof Label>;

/** A message as clients see it (docs/PRODUCT.md, People and the model). */
export const SupportMessage = z.object({
  id: MessageId,
  chat_id: ChatId,
  content: z.string(),
  sender_type: SenderType,
  sender_id: z.nullable(z.string()),
  sender_name: z.nullable(z.string()),
  read_at: z.nullable(IsoDate),
  created_at: IsoDate,
  /** Null only for system messages, which no client sent. */
  client_id: z.nullable(ClientId),
  /** 1, 2, 3… within the chat, gap-free, assigned by the chat service. */
  seq: positiveInt(),
  attachments: z.array(Attachment),
  /** Only on system messages written since events exist; older ones have only `content`. */
  event: z.optional(SystemEvent),
  /**
   * True on an internal note: an operator's message only operators see (sender_type 'admin').
   * Absent on every other message. Every reader that serves a visitor (REST, WebSocket,
   * emails, transcripts, exports) leaves these out; see docs/PRODUCT.md, Internal notes.
   */
  internal: z.optional(z.literal(true)),
  /** Notes only: the operators the note mentions with `@name`. */
  mentions: z.optional(z.array(OperatorId)),
});
export type SupportMessage = z.infer<typeof SupportMessage>;

/** A note that mentions the reader, for the console's Mentions view. */
export const NoteMention = z.object({
  chat_id: ChatId,
  note: SupportMessage,
  /** Null until the mentioned operator opened the chat (unread until then). */
  seen_at: z.nullable(IsoDate),
});
export type NoteMention = z.infer<typeof NoteMention>;

/** What a visitor gets from GET /api/support_chat: their one chat and its newest messages. */
export const SupportChat = z.object({
  id: ChatId,
  messages: z.array(SupportMessage),
  /** Older messages exist before the first one returned (page with messages_before). */
  has_more_before: z.boolean(),
  /** Highest seq in the chat (0 when empty): the client's resume point. */
  last_seq: nonNegativeInt(),
  user: z.lazy(() => VisitorProfile),
});
export type SupportChat = z.infer<typeof SupportChat>;

/** A chat in the console list (docs/PRODUCT.md, Chats and messages). */
export const SupportChatListItem = z.object({
  id: ChatId,
  user_id: UserId,
  user_email: z.nullable(z.string()),
  user_name: z.nullable(z.string()),
  last_message_at: z.nullable(IsoDate),
  last_message_preview: z.nullable(z.string()),
  last_message_sender: z.nullable(SenderType),
  message_count: nonNegativeInt(),
  unread: z.boolean(),
  archived: z.boolean(),
  last_seq: nonNegativeInt(),
  created_at: IsoDate,
  /** Ids of the chat's labels (GET /api/admin/labels names them); absent from older servers. */
  labels: z.optional(z.array(z.string())),
});
export type SupportChatListItem = z.infer<typeof SupportChatListItem>;

/** A chat as the console opens it: visitor details and the newest messages, paged. */
export const AdminSupportChat = z.object({
  id: ChatId,
  user_id: UserId,
  user_email: z.nullable(z.string()),
  user_name: z.nullable(z.string()),
  identified: z.boolean(),
  archived: z.boolean(),
  admin_viewed_at: z.nullable(IsoDate),
  created_at: IsoDate,
  last_seq: nonNegativeInt(),
  has_more_before: z.boolean(),
  messages: z.array(SupportMessage),
});
export type AdminSupportChat = z.infer<typeof AdminSupportChat>;

export const VisitorProfile = z.object({
  id: UserId,
  name: z.nullable(z.string()),
  email: z.nullable(z.string()),
  /** True when the host site vouched for this user with a valid user_hash. */
  identified: z.boolean(),
  unsubscribed: z.boolean(),
});
export type VisitorProfile = z.infer<typeof VisitorProfile>;

export const OperatorRole = z.enum(['admin', 'agent']);
export type OperatorRole = z.infer<typeof OperatorRole>;

export const Operator = z.object({
  id: OperatorId,
  email: z.string(),
  name: z.string(),
  role: OperatorRole,
  max_chats: intBetween(1, 100),
  active: z.boolean(),
  created_at: IsoDate,
});
export type Operator = z.infer<typeof Operator>;

/** Operator availability (docs/PRODUCT.md, Operators and routing). */
export const OperatorStatus = z.enum(['online', 'away', 'offline']);
export type OperatorStatus = z.infer<typeof OperatorStatus>;

/** What colleagues and the transfer dialog see of an operator. */
export const OperatorPresence = z.object({
  id: OperatorId,
  name: z.string(),
  email: z.string(),
  role: OperatorRole,
  status: OperatorStatus,
  active_chats: nonNegativeInt(),
  max_chats: intBetween(1),
  /** Number of open WebSocket connections across all gateways. */
  connections: nonNegativeInt(),
});
export type OperatorPresence = z.infer<typeof OperatorPresence>;

/** Routing session of a chat: one stretch from a visitor's message to its close. */
export const SessionStatus = z.enum(['waiting', 'active', 'closed']);
export type SessionStatus = z.infer<typeof SessionStatus>;

export const OperatorRef = z.object({ id: OperatorId, name: z.string() });
export type OperatorRef = z.infer<typeof OperatorRef>;

export const RoutingSession = z.object({
  id: SessionId,
  chat_id: ChatId,
  user_id: UserId,
  status: SessionStatus,
  operator: z.nullable(OperatorRef),
  /** 1-based position in the wait queue while waiting, else null. */
  queue_position: z.nullable(positiveInt()),
  created_at: IsoDate,
  assigned_at: z.nullable(IsoDate),
  closed_at: z.nullable(IsoDate),
  /**
   * Set while a waiting visitor has been gone past the visitor grace period: not handed out
   * automatically; taken by hand only when they left an email. Absent from older servers.
   */
  visitor_left_at: z.optional(z.nullable(IsoDate)),
});
export type RoutingSession = z.infer<typeof RoutingSession>;

export const QueueEntry = z.object({
  chat_id: ChatId,
  session_id: SessionId,
  user_id: UserId,
  user_name: z.nullable(z.string()),
  user_email: z.nullable(z.string()),
  position: positiveInt(),
  waiting_since: IsoDate,
  last_message_preview: z.nullable(z.string()),
  /** The visitor left while waiting (see RoutingSession.visitor_left_at). */
  visitor_left_at: z.optional(z.nullable(IsoDate)),
});
export type QueueEntry = z.infer<typeof QueueEntry>;

/** What the widget reports about where the visitor is. */
export const PageInfo = z.object({
  url: /* @__PURE__ */ z.string().check(wellFormed(), z.maxLength(2000)),
  title: z.optional(/* @__PURE__ */ z.string().check(wellFormed(), z.maxLength(300))),
  referrer: z.optional(/* @__PURE__ */ z.string().check(wellFormed(), z.maxLength(2000))),
});
export type PageInfo = z.infer<typeof PageInfo>;

/** A visitor browsing now, for the console's online list. */
export const OnlineVisitor = z.object({
  user_id: UserId,
  name: z.nullable(z.string()),
  email: z.nullable(z.string()),
  identified: z.boolean(),
  current_page: z.nullable(PageInfo),
  pages_seen: z.array(z.extend(PageInfo, { at: IsoDate })),
  first_seen_at: IsoDate,
  online_since: IsoDate,
  returning: z.boolean(),
  country: z.nullable(z.string()),
  user_agent: z.nullable(z.string()),
  timezone: z.nullable(z.string()),
  chat_id: z.nullable(ChatId),
});
export type OnlineVisitor = z.infer<typeof OnlineVisitor>;

export const EmailRecord = z.object({
  id: z.string(),
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  html: z.string(),
  chat_id: ChatId,
  created_at: IsoDate,
  /** 'outbox' = kept locally (no SendGrid key); 'sent' = accepted by SendGrid; 'failed'. */
  status: z.enum(['outbox', 'sent', 'failed']),
  error: z.nullable(z.string()),
  /** Extra headers sent with it (e.g. List-Unsubscribe); absent on older records. */
  headers: z.optional(z.record(z.string(), z.string())),
});
export type EmailRecord = z.infer<typeof EmailRecord>;

// ---- Inputs that reach a store: only checked strings/numbers (no operator injection) ----

/** Message text as typed: trimmed; may be empty only when attachments are present. */
export const MessageContent = z.pipe(
  z.pipe(
    /* @__PURE__ */ z.string().check(wellFormed()),
    z.transform((s: string) => s.trim()),
  ),
  /* @__PURE__ */ z
    .string()
    .check(z.maxLength(MAX_MESSAGE_LENGTH, `at most ${MAX_MESSAGE_LENGTH} characters`)),
);

/** Attachments one message may carry. */
export const MAX_MESSAGE_ATTACHMENTS = 10;

/** The fields of a send, the same in the `send_message` frame and POST …/messages. */
export const sendMessageFields = {
  content: MessageContent,
  client_id: ClientId,
  attachment_ids: z._default(
    /* @__PURE__ */ z.array(AttachmentId).check(z.maxLength(MAX_MESSAGE_ATTACHMENTS)),
    [],
  ),
};
/** A message is text, attachments or both: never neither. */
export const contentOrAttachments = z.refine<{
  content: string;
  attachment_ids: readonly unknown[];
}>((f) => f.content.length > 0 || f.attachment_ids.length > 0, {
  message: 'content must not be blank',
  path: ['content'],
});

/**
 * What a client sends to post a message. REST takes it as the body (strict: unknown keys are a
 * bad request); the WebSocket frame adds `type` and `chat_id` to the same fields and rule.
 */
export const SendMessageBody = /* @__PURE__ */ z
  .strictObject(sendMessageFields)
  .check(contentOrAttachments);
export type SendMessageBody = z.infer<typeof SendMessageBody>;

/** POST /api/admin/chats/:chat_id/notes: an internal note (text only). */
export const SendNoteBody = /* @__PURE__ */ z
  .strictObject({ content: MessageContent, client_id: ClientId })
  .check(
    z.refine((f: { content: string }) => f.content.length > 0, {
      message: 'content must not be blank',
      path: ['content'],
    }),
  );
export type SendNoteBody = z.infer<typeof SendNoteBody>;

export const VisitorName = /* @__PURE__ */ z
  .string()
  .check(wellFormed(), z.trim(), z.minLength(1), z.maxLength(MAX_NAME_LENGTH));
export const VisitorEmail = z.pipe(
  /* @__PURE__ */ z.string().check(wellFormed(), z.trim(), z.maxLength(MAX_EMAIL_LENGTH)),
  z.email(),
);

export { AttachmentId, ChatId, ClientId, IsoDate, MessageId, OperatorId, SessionId, UserId };
