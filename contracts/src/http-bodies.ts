import * as z from 'zod/mini';
import { IsoDate, OperatorId } from './ids.ts';
import {
  CannedListResponse,
  CannedResponse,
  CreateCannedBody,
  UpdateCannedBody,
} from './canned.ts';
import { int, intBetween, nonNegativeInt, positiveInt } from './int.ts';
import { wellFormed } from './text.ts';
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
  SendMessageBody,
  SendNoteBody,
  NoteMention,
  OnlineVisitor,
  Operator,
  OperatorPresence,
  OperatorRole,
  OperatorStatus,
  QueueEntry,
  RoutingSession,
  SupportChat,
  SupportChatListItem,
  SupportMessage,
  VisitorEmail,
  VisitorName,
  VisitorProfile,
} from './models.ts';
/**
 * REST under /api on the gateway. JSON bodies; auth by `Authorization: Bearer <token>`.
 * Errors: `ErrorBody` with the status from `httpStatusByErrorCode`.
 * Each entry: method, path, request body / query schema, response schema.
 */

// ---- visitor identity ----
export const VisitorSessionRequest = /* @__PURE__ */ z.strictObject({
  /** A returning anonymous visitor resumes its id (only if `token` proves it, see below). */
  visitor_id: z.optional(/* @__PURE__ */ z.string().check(wellFormed(), z.maxLength(200))),
  /** The previous token: proves ownership of visitor_id. */
  token: z.optional(/* @__PURE__ */ z.string().check(z.maxLength(4000))),
  name: z.optional(VisitorName),
  email: z.optional(VisitorEmail),
  /** Identified users (host site's logged-in user): all three, user_hash = HMAC-SHA256(secret, user_id) hex. */
  user_id: z.optional(
    /* @__PURE__ */ z.string().check(wellFormed(), z.minLength(1), z.maxLength(190)),
  ),
  user_hash: z.optional(/* @__PURE__ */ z.string().check(z.maxLength(128))),
});
export type VisitorSessionRequest = z.infer<typeof VisitorSessionRequest>;

export const VisitorSessionResponse = /* @__PURE__ */ z.object({
  token: z.string(),
  expires_at: IsoDate,
  visitor: z.object({
    id: z.string(),
    name: z.nullable(z.string()),
    email: z.nullable(z.string()),
    identified: z.boolean(),
  }),
});
export type VisitorSessionResponse = z.infer<typeof VisitorSessionResponse>;

/** POST /api/visitor/email_link: the token from the email's "Open the conversation" link. */
export const EmailLinkRequest = /* @__PURE__ */ z.strictObject({
  token: /* @__PURE__ */ z.string().check(z.minLength(1), z.maxLength(4000)),
});
export type EmailLinkRequest = z.infer<typeof EmailLinkRequest>;
/**
 * A visitor session for the visitor the email went to, and their chat. A link works once:
 * a spent one is 409 `conflict`, an expired or forged one 401 `unauthorized`, with
 * `details.reason` = `spent` | `expired` | `invalid` for the widget to explain.
 */
export const EmailLinkResponse = /* @__PURE__ */ z.extend(VisitorSessionResponse, {
  chat_id: z.string(),
});
export type EmailLinkResponse = z.infer<typeof EmailLinkResponse>;

/**
 * GET /api/widget/config (no token): what the widget needs before the visitor writes. Read-only on
 * the server (no visitor, chat or session is created).
 */
export const WidgetConfigResponse = /* @__PURE__ */ z.object({ availability: Availability });
export type WidgetConfigResponse = z.infer<typeof WidgetConfigResponse>;

/** POST /api/support_chat/rating (visitor token): rates a closed session of the visitor's chat, once. */
export const RatingRequest = /* @__PURE__ */ z.strictObject({
  session_id: /* @__PURE__ */ z.string().check(/* @__PURE__ */ z.maxLength(100)),
  score: RatingScore,
  comment: /* @__PURE__ */ z.optional(
    /* @__PURE__ */ z.string().check(wellFormed(), /* @__PURE__ */ z.maxLength(1000)),
  ),
});
export type RatingRequest = z.infer<typeof RatingRequest>;
export const RatingResponse = SessionRating;
export type RatingResponse = z.infer<typeof RatingResponse>;

/**
 * POST /api/support_chat/transcript (visitor) and POST /api/admin/chats/:chat_id/transcript
 * (operators): emails the conversation to the visitor's address, once per request; 409 `conflict`
 * when the visitor has no email, 429 past the per-chat limit.
 */
export const TranscriptResponse = /* @__PURE__ */ z.object({
  email_id: /* @__PURE__ */ z.string(),
  to: /* @__PURE__ */ z.string(),
});
export type TranscriptResponse = z.infer<typeof TranscriptResponse>;

/** GET / PUT /api/admin/settings/business_hours (admins): the desk's opening hours. */
export const BusinessHoursBody = BusinessHours;
export type BusinessHoursBody = z.infer<typeof BusinessHoursBody>;

/** PATCH /api/support_chat/profile (visitor token): the pre-chat form's name and optional email. */
export const VisitorProfileUpdate = /* @__PURE__ */ z.strictObject({
  name: z.optional(VisitorName),
  email: z.optional(VisitorEmail),
});
export type VisitorProfileUpdate = z.infer<typeof VisitorProfileUpdate>;

// ---- operator auth ----
export const LoginRequest = /* @__PURE__ */ z.strictObject({
  email: /* @__PURE__ */ z
    .string()
    .check(wellFormed(), z.trim(), z.toLowerCase(), z.maxLength(254)),
  password: /* @__PURE__ */ z.string().check(z.minLength(1), z.maxLength(1024)),
});
export type LoginRequest = z.infer<typeof LoginRequest>;

export const LoginResponse = /* @__PURE__ */ z.object({
  token: z.string(),
  expires_at: IsoDate,
  operator: z.extend(z.pick(Operator, { id: true, email: true, name: true, role: true }), {
    max_chats: int(),
  }),
});
export type LoginResponse = z.infer<typeof LoginResponse>;

/** GET /api/auth/me: who the token speaks for (operators: the current account, re-read). */
export const MeResponse = /* @__PURE__ */ z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('operator'), operator: Operator }),
  z.object({ kind: z.literal('visitor'), visitor: VisitorSessionResponse.shape.visitor }),
]);
export type MeResponse = z.infer<typeof MeResponse>;

// ---- chat ----
export const SupportChatResponse = SupportChat;
export const MarkReadResponse = /* @__PURE__ */ z.object({
  chat_id: z.string(),
  read_at: z.nullable(IsoDate),
  /** How many operator messages this call marked read. */
  count: nonNegativeInt(),
  up_to_seq: nonNegativeInt(),
});
export type MarkReadResponse = z.infer<typeof MarkReadResponse>;

/** Query of GET /api/support_chat and GET /api/admin/chats/:id: how many newest messages to include. */
export const ChatQuery = /* @__PURE__ */ z.strictObject({
  limit: z._default(/* @__PURE__ */ z.coerce.number().check(z.int(), z.gte(1), z.lte(200)), 50),
});
export type ChatQuery = z.infer<typeof ChatQuery>;

/** Query of GET …/messages: exactly one of after_seq (catch-up, polling) or before_seq (older page). */
export const MessagesQuery = /* @__PURE__ */ z
  .strictObject({
    after_seq: z.optional(/* @__PURE__ */ z.coerce.number().check(z.int(), z.nonnegative())),
    before_seq: z.optional(/* @__PURE__ */ z.coerce.number().check(z.int(), z.positive())),
    limit: z._default(/* @__PURE__ */ z.coerce.number().check(z.int(), z.gte(1), z.lte(200)), 50),
  })
  .check(
    z.refine((q) => !(q.after_seq !== undefined && q.before_seq !== undefined), {
      message: 'give after_seq or before_seq, not both',
    }),
  );
export type MessagesQuery = z.infer<typeof MessagesQuery>;

export const MessagesPage = /* @__PURE__ */ z.object({
  messages: z.array(SupportMessage),
  /** More messages exist in the direction asked. */
  has_more: z.boolean(),
  last_seq: nonNegativeInt(),
});
export type MessagesPage = z.infer<typeof MessagesPage>;

/** POST …/messages: the REST twin of the `send_message` frame (polling clients, operators). */
export { SendMessageBody, SendNoteBody };
export { CannedListResponse, CannedResponse, CreateCannedBody, UpdateCannedBody };
export const SendMessageRequest = SendMessageBody;
export type SendMessageRequest = SendMessageBody;

export const SendMessageResponse = /* @__PURE__ */ z.object({
  message: SupportMessage,
  duplicate: z.boolean(),
});
export type SendMessageResponse = z.infer<typeof SendMessageResponse>;

export const ChatListQuery = /* @__PURE__ */ z.strictObject({
  archived: z._default(z.enum(['true', 'false']), 'false'),
  /** Only chats carrying this label id. */
  label: z.optional(/* @__PURE__ */ z.string().check(z.uuid())),
  cursor: z.optional(/* @__PURE__ */ z.string().check(z.maxLength(200))),
  limit: z._default(/* @__PURE__ */ z.coerce.number().check(z.int(), z.gte(1), z.lte(200)), 50),
});
export type ChatListQuery = z.infer<typeof ChatListQuery>;

/** GET /api/admin/chats returns the array; the next page's cursor is in `X-Next-Cursor`. */
export const ChatListResponse = /* @__PURE__ */ z.array(SupportChatListItem);
export const NEXT_CURSOR_HEADER = 'X-Next-Cursor';

export const AdminChatResponse = AdminSupportChat;
export const ArchiveResponse = SupportChatListItem;
export const MarkViewedResponse = SupportChatListItem;

/** GET /api/admin/mentions: notes mentioning the signed-in operator, newest first. */
export const MentionsResponse = /* @__PURE__ */ z.array(NoteMention);

// ---- labels ----
export const CreateLabelBody = /* @__PURE__ */ z.strictObject({
  name: /* @__PURE__ */ z.string().check(wellFormed(), z.trim(), z.minLength(1), z.maxLength(40)),
  color: /* @__PURE__ */ z
    .string()
    .check(z.regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'a hex colour such as #3b82f6')),
});
export type CreateLabelBody = z.infer<typeof CreateLabelBody>;
export const SetChatLabelsBody = /* @__PURE__ */ z.strictObject({
  labels: /* @__PURE__ */ z
    .array(/* @__PURE__ */ z.string().check(z.uuid()))
    .check(z.maxLength(20)),
});
export type SetChatLabelsBody = z.infer<typeof SetChatLabelsBody>;
export const LabelListResponse = /* @__PURE__ */ z.array(Label);

// ---- attachments ----
export const AttachmentResponse = Attachment;
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

// ---- operators (admins) ----
export const Password = /* @__PURE__ */ z
  .string()
  .check(z.minLength(10, 'at least 10 characters'), z.maxLength(1024));
export const CreateOperatorRequest = /* @__PURE__ */ z.strictObject({
  email: z.pipe(
    /* @__PURE__ */ z.string().check(wellFormed(), z.trim(), z.toLowerCase()),
    z.email(),
  ),
  name: /* @__PURE__ */ z.string().check(wellFormed(), z.trim(), z.minLength(1), z.maxLength(100)),
  password: Password,
  role: z._default(OperatorRole, 'agent'),
  max_chats: z._default(intBetween(1, 100), 5),
});
export type CreateOperatorRequest = z.infer<typeof CreateOperatorRequest>;

export const UpdateOperatorRequest = /* @__PURE__ */ z.strictObject({
  name: z.optional(
    /* @__PURE__ */ z.string().check(wellFormed(), z.trim(), z.minLength(1), z.maxLength(100)),
  ),
  password: z.optional(Password),
  role: z.optional(OperatorRole),
  max_chats: z.optional(intBetween(1, 100)),
  active: z.optional(z.boolean()),
});
export type UpdateOperatorRequest = z.infer<typeof UpdateOperatorRequest>;

export const OperatorListResponse = /* @__PURE__ */ z.array(Operator);

// ---- routing ----
export const SetStatusRequest = /* @__PURE__ */ z.strictObject({ status: OperatorStatus });
export const TransferRequest = /* @__PURE__ */ z.strictObject({
  /** null sends the chat back to the queue. */
  to_operator_id: z.nullable(OperatorId),
  /** Admins only: assign beyond the target's capacity. */
  force: z._default(z.boolean(), false),
});
export type TransferRequest = z.infer<typeof TransferRequest>;
export const RoutingMeResponse = /* @__PURE__ */ z.object({
  operator: OperatorPresence,
  sessions: z.array(RoutingSession),
});
export type RoutingMeResponse = z.infer<typeof RoutingMeResponse>;
export const QueueResponse = /* @__PURE__ */ z.array(QueueEntry);
export const OperatorsPresenceResponse = /* @__PURE__ */ z.array(OperatorPresence);
export const SessionResponse = /* @__PURE__ */ z.nullable(RoutingSession);

// ---- online visitors & invitations ----
/** The whole list: kept for older consoles; the gateway assembles it from pages. */
export const OnlineVisitorsResponse = /* @__PURE__ */ z.array(OnlineVisitor);
/**
 * Query of GET /api/visitors/page: one page of the visitors browsing now. `q` matches name,
 * email, current page (URL or title), country and visitor id, case-insensitively; `filter` keeps those in a
 * chat or those only browsing.
 */
export const OnlineVisitorsQuery = /* @__PURE__ */ z.strictObject({
  q: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.string().check(wellFormed(), z.maxLength(200))),
  filter: /* @__PURE__ */ z._default(
    /* @__PURE__ */ z.enum(['all', 'chatting', 'browsing', 'identified']),
    'all',
  ),
  sort: /* @__PURE__ */ z._default(
    /* @__PURE__ */ z.enum(['newest', 'oldest', 'name', 'page']),
    'newest',
  ),
  offset: /* @__PURE__ */ z._default(
    /* @__PURE__ */ z.coerce.number().check(z.int(), z.gte(0), z.lte(1_000_000)),
    0,
  ),
  limit: /* @__PURE__ */ z._default(
    /* @__PURE__ */ z.coerce.number().check(z.int(), z.gte(1), z.lte(100)),
    50,
  ),
});
export type OnlineVisitorsQuery = z.infer<typeof OnlineVisitorsQuery>;
/** `total`: how many match the query (all pages); `online`: how many are browsing at all. */
export const OnlineVisitorsPage = /* @__PURE__ */ z.object({
  visitors: z.array(OnlineVisitor),
  total: nonNegativeInt(),
  online: nonNegativeInt(),
  offset: nonNegativeInt(),
});
export type OnlineVisitorsPage = z.infer<typeof OnlineVisitorsPage>;
export const InviteRequest = /* @__PURE__ */ z.strictObject({
  message: z.pipe(
    MessageContent,
    /* @__PURE__ */ z.string().check(wellFormed(), z.minLength(1, 'message must not be blank')),
  ),
});
export type InviteRequest = z.infer<typeof InviteRequest>;
export const InviteResponse = /* @__PURE__ */ z.object({
  chat_id: z.string(),
  message: SupportMessage,
});

// ---- visitor details for the console ----
export const VisitorDetailsResponse = /* @__PURE__ */ z.object({
  profile: VisitorProfile,
  online: z.nullable(OnlineVisitor),
  sessions: z.array(RoutingSession),
});
export type VisitorDetailsResponse = z.infer<typeof VisitorDetailsResponse>;

// ---- email outbox (development) ----
export const OutboxResponse = /* @__PURE__ */ z.array(EmailRecord);

export const HealthResponse = /* @__PURE__ */ z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: z.record(z.string(), z.boolean()),
});

/**
 * POST /api/ws_ticket (bearer token): a single-use ticket for `/ws?ticket=…`, valid for
 * `expires_in` seconds, so the long-lived token never travels in a URL.
 */
export const WsTicketResponse = /* @__PURE__ */ z.object({
  ticket: z.string(),
  expires_in: positiveInt(),
});
export type WsTicketResponse = z.infer<typeof WsTicketResponse>;

/** Multipart field names of POST /api/attachments (the file part, and the chat it belongs to). */
export const ATTACHMENT_FILE_FIELD = 'file';
export const ATTACHMENT_CHAT_FIELD = 'chat_id';
