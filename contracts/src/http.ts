import {
  CannedListResponse,
  CannedResponse,
  CreateCannedBody,
  UpdateCannedBody,
} from './canned.ts';
import {
  Label,
  SendNoteBody,
  Operator,
  OperatorPresence,
  RoutingSession,
  SupportChatListItem,
  VisitorProfile,
} from './models.ts';
import {
  VisitorSessionRequest,
  VisitorSessionResponse,
  EmailLinkRequest,
  EmailLinkResponse,
  WidgetConfigResponse,
  RatingRequest,
  RatingResponse,
  TranscriptResponse,
  BusinessHoursBody,
  VisitorProfileUpdate,
  LoginRequest,
  LoginResponse,
  MeResponse,
  SupportChatResponse,
  MarkReadResponse,
  ChatQuery,
  MessagesQuery,
  MessagesPage,
  SendMessageRequest,
  SendMessageResponse,
  ChatListQuery,
  ChatListResponse,
  AdminChatResponse,
  ArchiveResponse,
  MarkViewedResponse,
  MentionsResponse,
  CreateLabelBody,
  SetChatLabelsBody,
  LabelListResponse,
  AttachmentResponse,
  CreateOperatorRequest,
  UpdateOperatorRequest,
  OperatorListResponse,
  SetStatusRequest,
  TransferRequest,
  RoutingMeResponse,
  QueueResponse,
  OperatorsPresenceResponse,
  SessionResponse,
  OnlineVisitorsResponse,
  OnlineVisitorsQuery,
  OnlineVisitorsPage,
  InviteRequest,
  InviteResponse,
  VisitorDetailsResponse,
  OutboxResponse,
  WsTicketResponse,
} from './http-bodies.ts';

/** Request and response bodies of the REST API (split from the route tables below). */
export * from './http-bodies.ts';

/**
 * The REST paths the operator console calls (method + path; `:name` marks a path parameter),
 * so the gateway and the console cannot drift apart. Bodies and responses are the schemas above.
 */
export const consoleRoutes = {
  login: { method: 'POST', path: '/api/auth/login', body: LoginRequest, response: LoginResponse },
  logout: { method: 'POST', path: '/api/auth/logout' },
  listChats: {
    method: 'GET',
    path: '/api/admin/chats',
    query: ChatListQuery,
    response: ChatListResponse,
  },
  /** Also marks the chat viewed by the operator. */
  getChat: { method: 'GET', path: '/api/admin/chats/:chat_id', response: AdminChatResponse },
  chatMessages: {
    method: 'GET',
    path: '/api/admin/chats/:chat_id/messages',
    query: MessagesQuery,
    response: MessagesPage,
  },
  sendMessage: {
    method: 'POST',
    path: '/api/admin/chats/:chat_id/messages',
    body: SendMessageRequest,
    response: SendMessageResponse,
  },
  /** An internal note: stored in the chat's history, shown to operators only. */
  sendNote: {
    method: 'POST',
    path: '/api/admin/chats/:chat_id/notes',
    body: SendNoteBody,
    response: SendMessageResponse,
  },
  /** Notes mentioning the signed-in operator; opening a chat marks its mentions seen. */
  mentions: { method: 'GET', path: '/api/admin/mentions', response: MentionsResponse },
  /** The operator is looking at the chat: newer visitor messages are no longer unread. */
  markViewed: {
    method: 'POST',
    path: '/api/admin/chats/:chat_id/viewed',
    response: MarkViewedResponse,
  },
  archive: { method: 'POST', path: '/api/admin/chats/:chat_id/archive', response: ArchiveResponse },
  unarchive: {
    method: 'POST',
    path: '/api/admin/chats/:chat_id/unarchive',
    response: ArchiveResponse,
  },
  uploadAttachment: { method: 'POST', path: '/api/attachments', response: AttachmentResponse },
  routingMe: { method: 'GET', path: '/api/routing/me', response: RoutingMeResponse },
  setStatus: {
    method: 'PUT',
    path: '/api/routing/status',
    body: SetStatusRequest,
    response: OperatorPresence,
  },
  queue: { method: 'GET', path: '/api/routing/queue', response: QueueResponse },
  operatorsPresence: {
    method: 'GET',
    path: '/api/routing/operators',
    response: OperatorsPresenceResponse,
  },
  session: {
    method: 'GET',
    path: '/api/routing/chats/:chat_id/session',
    response: SessionResponse,
  },
  take: { method: 'POST', path: '/api/routing/chats/:chat_id/take', response: RoutingSession },
  transfer: {
    method: 'POST',
    path: '/api/routing/chats/:chat_id/transfer',
    body: TransferRequest,
    response: RoutingSession,
  },
  close: { method: 'POST', path: '/api/routing/chats/:chat_id/close', response: RoutingSession },
  onlineVisitors: { method: 'GET', path: '/api/visitors/online', response: OnlineVisitorsResponse },
  onlineVisitorsPage: {
    method: 'GET',
    path: '/api/visitors/page',
    query: OnlineVisitorsQuery,
    response: OnlineVisitorsPage,
  },
  invite: {
    method: 'POST',
    path: '/api/visitors/:user_id/invite',
    body: InviteRequest,
    response: InviteResponse,
  },
  visitorDetails: {
    method: 'GET',
    path: '/api/admin/visitors/:user_id',
    response: VisitorDetailsResponse,
  },
  listOperators: { method: 'GET', path: '/api/admin/operators', response: OperatorListResponse },
  createOperator: {
    method: 'POST',
    path: '/api/admin/operators',
    body: CreateOperatorRequest,
    response: Operator,
  },
  updateOperator: {
    method: 'PATCH',
    path: '/api/admin/operators/:operator_id',
    body: UpdateOperatorRequest,
    response: Operator,
  },
  outbox: { method: 'GET', path: '/api/admin/outbox', response: OutboxResponse },
  me: { method: 'GET', path: '/api/auth/me', response: MeResponse },
  /** `<img src>`/`<audio src>` URL; the token may come as `?token=` since media cannot send headers. */
  attachment: { method: 'GET', path: '/api/attachments/:attachment_id' },
  wsTicket: { method: 'POST', path: '/api/ws_ticket', response: WsTicketResponse },
  /** Team replies and the caller's own personal ones. */
  listCanned: {
    method: 'GET',
    path: '/api/admin/canned_responses',
    response: CannedListResponse,
  },
  /** Team replies: admins only. */
  createCanned: {
    method: 'POST',
    path: '/api/admin/canned_responses',
    body: CreateCannedBody,
    response: CannedResponse,
  },
  updateCanned: {
    method: 'PATCH',
    path: '/api/admin/canned_responses/:id',
    body: UpdateCannedBody,
    response: CannedResponse,
  },
  deleteCanned: { method: 'DELETE', path: '/api/admin/canned_responses/:id' },
  listLabels: { method: 'GET', path: '/api/admin/labels', response: LabelListResponse },
  /** Admins only. */
  createLabel: {
    method: 'POST',
    path: '/api/admin/labels',
    body: CreateLabelBody,
    response: Label,
  },
  /** Admins only; the label also leaves every chat. */
  deleteLabel: { method: 'DELETE', path: '/api/admin/labels/:id' },
  /** Replaces the chat's labels; any operator. */
  setChatLabels: {
    method: 'PUT',
    path: '/api/admin/chats/:chat_id/labels',
    body: SetChatLabelsBody,
    response: SupportChatListItem,
  },
  transcript: {
    method: 'POST',
    path: '/api/admin/chats/:chat_id/transcript',
    response: TranscriptResponse,
  },
  businessHours: {
    method: 'GET',
    path: '/api/admin/settings/business_hours',
    response: BusinessHoursBody,
  },
  setBusinessHours: {
    method: 'PUT',
    path: '/api/admin/settings/business_hours',
    body: BusinessHoursBody,
    response: BusinessHoursBody,
  },
} as const;
export type ConsoleRoute = keyof typeof consoleRoutes;

/** The REST paths the visitor widget (and the email links sent to visitors) call. */
export const visitorRoutes = {
  session: {
    method: 'POST',
    path: '/api/visitor/session',
    body: VisitorSessionRequest,
    response: VisitorSessionResponse,
  },
  me: { method: 'GET', path: '/api/auth/me', response: MeResponse },
  logout: { method: 'POST', path: '/api/auth/logout' },
  chat: {
    method: 'GET',
    path: '/api/support_chat',
    query: ChatQuery,
    response: SupportChatResponse,
  },
  markRead: { method: 'PATCH', path: '/api/support_chat/mark_read', response: MarkReadResponse },
  profile: {
    method: 'PATCH',
    path: '/api/support_chat/profile',
    body: VisitorProfileUpdate,
    response: VisitorProfile,
  },
  /** The routing session of the visitor's chat (waiting with position, active, closed) or null. */
  sessionStatus: {
    method: 'GET',
    path: '/api/support_chat/session',
    response: SessionResponse,
  },
  messages: {
    method: 'GET',
    path: '/api/support_chat/messages',
    query: MessagesQuery,
    response: MessagesPage,
  },
  sendMessage: {
    method: 'POST',
    path: '/api/support_chat/messages',
    body: SendMessageRequest,
    response: SendMessageResponse,
  },
  uploadAttachment: { method: 'POST', path: '/api/attachments', response: AttachmentResponse },
  attachment: { method: 'GET', path: '/api/attachments/:attachment_id' },
  wsTicket: { method: 'POST', path: '/api/ws_ticket', response: WsTicketResponse },
  /** The "Open the conversation" link of the unread-reply email: its token, spent once. */
  emailLink: {
    method: 'POST',
    path: '/api/visitor/email_link',
    body: EmailLinkRequest,
    response: EmailLinkResponse,
  },
  /** The link in notification emails (`?token=` signed by notify): a confirmation page (GET and HEAD). */
  unsubscribe: { method: 'GET', path: '/api/unsubscribe' },
  /** Unsubscribes: the confirmation page's form and RFC 8058 one-click (`List-Unsubscribe=One-Click`). */
  unsubscribeOneClick: { method: 'POST', path: '/api/unsubscribe' },
  /** The visitor rates a closed session: 409 `conflict` when already rated or not closed. */
  rating: {
    method: 'POST',
    path: '/api/support_chat/rating',
    body: RatingRequest,
    response: RatingResponse,
  },
  transcript: {
    method: 'POST',
    path: '/api/support_chat/transcript',
    response: TranscriptResponse,
  },
  /** Open / closed / nobody online, before the visitor writes (no token, no write). */
  widgetConfig: { method: 'GET', path: '/api/widget/config', response: WidgetConfigResponse },
} as const;
export type VisitorRoute = keyof typeof visitorRoutes;
