export { ApiError, errorFromBody, errorFromResponse, errorMessage, isRetryable } from './errors.ts';
export { backoffDelay } from './backoff.ts';
export {
  browserNetwork,
  createChatSocket,
  socketUrl,
  type ChatSocket,
  type ChatSocketOptions,
  type NetworkStatus,
  type SocketState,
  type WebSocketLike,
} from './socket.ts';
export {
  Conversation,
  type ChatSnapshot,
  type ConversationApi,
  type ConversationOptions,
  type ConversationSocket,
  type MessagesPageLike,
  type PendingSend,
  type PendingStatus,
} from './conversation.ts';
export { attachmentObjectUrl, fetchAttachment } from './attachments.ts';
export { linkify, type Segment } from './linkify.ts';
export { isSendKey } from './composer.ts';
