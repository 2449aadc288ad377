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
export const SenderType = /* @__PURE__ */ z.enum(['user', 'admin', 'system']);
export type SenderType = z.infer<typeof SenderType>;

export const AttachmentKind = /* @__PURE__ */ z.enum(['image', 'audio', 'file']);
export type AttachmentKind = z.infer<typeof AttachmentKind>;

export const Attachment = /* @__PURE__ */ z.object({
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
export const SystemEvent = /* @__PURE__ */ z.discriminatedUnion('kind', [
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
export const Label = /* @__PURE__ */ z.object({
  id: z.string(),
  name: z.string(),
  /** A CSS hex colour, #rgb or #rrggbb. */
  color: z.string(),
  created_at: IsoDate,
});
export type Label = z.infer<typeof Label>;

/** A message as clients see it (docs/PRODUCT.md, People and the model). */
export const SupportMessage = /* @__PURE__ */ z.object({
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
export const NoteMention = /* @__PURE__ */ z.object({
  chat_id: ChatId,
  note: SupportMessage,
  /** Null until the mentioned operator opened the chat (unread until then). */
  seen_at: z.nullable(IsoDate),
});
export type NoteMention = z.infer<typeof NoteMention>;

/** What a visitor gets from GET /api/support_chat: their one chat and its newest messages. */
export const SupportChat = /* @__PURE__ */ z.object({
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
export const SupportChatListItem = /* @__PURE__ */ z.object({
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
export const AdminSupportChat = /* @__PURE__ */ z.object({
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

export const VisitorProfile = /* @__PURE__ */ z.object({
  id: UserId,
  name: z.nullable(z.string()),
  email: z.nullable(z.string()),
  /** True when the host site vouched for this user with a valid user_hash. */
  identified: z.boolean(),
  unsubscribed: z.boolean(),
});
export type VisitorProfile = z.infer<typeof VisitorProfile>;

export const OperatorRole = /* @__PURE__ */ z.enum(['admin', 'agent']);
export type OperatorRole = z.infer<typeof OperatorRole>;

export const Operator = /* @__PURE__ */ z.object({
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
export const OperatorStatus = /* @__PURE__ */ z.enum(['online', 'away', 'offline']);
export type OperatorStatus = z.infer<typeof OperatorStatus>;

/** What colleagues and the transfer dialog see of an operator. */
export const OperatorPresence = /* @__PURE__ */ z.object({
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
export const SessionStatus = /* @__PURE__ */ z.enum(['waiting', 'active', 'closed']);
export type SessionStatus = z.infer<typeof SessionStatus>;

export const OperatorRef = /* @__PURE__ */ z.object({ id: OperatorId, name: z.string() });
export type OperatorRef = z.infer<typeof OperatorRef>;

// ---- rating (CSAT) ----
export const RatingScore = /* @__PURE__ */ z.enum(['good', 'bad']);
export type RatingScore = z.infer<typeof RatingScore>;

/** A visitor's rating of one closed session: once per session, the comment optional. */
export const SessionRating = /* @__PURE__ */ z.object({
  score: RatingScore,
  comment: /* @__PURE__ */ z.nullable(/* @__PURE__ */ z.string()),
  rated_at: IsoDate,
});
export type SessionRating = z.infer<typeof SessionRating>;

export const RoutingSession = /* @__PURE__ */ z.object({
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
  /**
   * The visitor wrote while the desk was closed or nobody was online: an offline message,
   * answered when operators return (the reply reaches them by email). Absent from older servers.
   */
  offline_message: z.optional(z.boolean()),
  /** The visitor's rating of this session once closed (absent from older servers). */
  rating: z.optional(z.nullable(SessionRating)),
});
export type RoutingSession = z.infer<typeof RoutingSession>;

export const QueueEntry = /* @__PURE__ */ z.object({
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
  /** See RoutingSession.offline_message. */
  offline_message: z.optional(z.boolean()),
});
export type QueueEntry = z.infer<typeof QueueEntry>;

/** What the widget reports about where the visitor is. */
export const PageInfo = /* @__PURE__ */ z.object({
  url: /* @__PURE__ */ z.string().check(wellFormed(), z.maxLength(2000)),
  title: z.optional(/* @__PURE__ */ z.string().check(wellFormed(), z.maxLength(300))),
  referrer: z.optional(/* @__PURE__ */ z.string().check(wellFormed(), z.maxLength(2000))),
});
export type PageInfo = z.infer<typeof PageInfo>;

/** A visitor browsing now, for the console's online list. */
export const OnlineVisitor = /* @__PURE__ */ z.object({
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

export const EmailRecord = /* @__PURE__ */ z.object({
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
export const MessageContent = /* @__PURE__ */ z.pipe(
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
export const contentOrAttachments = /* @__PURE__ */ z.refine<{
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
export const VisitorEmail = /* @__PURE__ */ z.pipe(
  /* @__PURE__ */ z.string().check(wellFormed(), z.trim(), z.maxLength(MAX_EMAIL_LENGTH)),
  z.email(),
);

export { AttachmentId, ChatId, ClientId, IsoDate, MessageId, OperatorId, SessionId, UserId };

// ---- business hours and availability ----
export const Weekday = /* @__PURE__ */ z.enum([
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
]);
export type Weekday = z.infer<typeof Weekday>;

/** A wall-clock time "HH:MM" (24-hour); "24:00" only as a closing time. */
const ClockTime = /* @__PURE__ */ z
  .string()
  .check(/* @__PURE__ */ z.regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/));

/** One opening stretch of a weekday, in the business time zone; open before close. */
export const OpeningInterval = /* @__PURE__ */ z
  .strictObject({ open: ClockTime, close: ClockTime })
  .check(
    /* @__PURE__ */ z.refine((i) => i.open < i.close && i.open !== '24:00', {
      message: 'open must be earlier than close',
    }),
  );
export type OpeningInterval = z.infer<typeof OpeningInterval>;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone name ("Europe/Berlin", "UTC"). */
export const TimeZone = /* @__PURE__ */ z
  .string()
  .check(
    /* @__PURE__ */ z.maxLength(64),
    /* @__PURE__ */ z.refine(isTimeZone, { message: 'not an IANA time zone' }),
  );

const DayHours = /* @__PURE__ */ z.array(OpeningInterval).check(/* @__PURE__ */ z.maxLength(6));

/**
 * When the support desk is open. `enabled: false` means no schedule (always open while an
 * operator is online). Holidays are local calendar dates in `time_zone`, closed all day.
 */
export const BusinessHours = /* @__PURE__ */ z.strictObject({
  enabled: /* @__PURE__ */ z.boolean(),
  time_zone: TimeZone,
  weekly: /* @__PURE__ */ z.strictObject({
    monday: DayHours,
    tuesday: DayHours,
    wednesday: DayHours,
    thursday: DayHours,
    friday: DayHours,
    saturday: DayHours,
    sunday: DayHours,
  }),
  holidays: /* @__PURE__ */ z
    .array(/* @__PURE__ */ z.iso.date())
    .check(/* @__PURE__ */ z.maxLength(400)),
});
export type BusinessHours = z.infer<typeof BusinessHours>;

/** `open`: within hours and an operator online; `closed`: outside hours; `nobody_online`: within hours, no operator online. */
export const AvailabilityState = /* @__PURE__ */ z.enum(['open', 'closed', 'nobody_online']);
export type AvailabilityState = z.infer<typeof AvailabilityState>;

export const Availability = /* @__PURE__ */ z.object({
  state: AvailabilityState,
  /** While closed: when the next opening stretch begins (null when none is scheduled within two weeks). */
  opens_at: /* @__PURE__ */ z.nullable(IsoDate),
  /** The business time zone, for showing `opens_at` as the desk's own wall-clock time. */
  time_zone: /* @__PURE__ */ z.string(),
});
export type Availability = z.infer<typeof Availability>;
