import type {
  AdminSupportChat,
  Attachment,
  ChatId,
  ClientId,
  SupportMessage,
} from '@parley/contracts';
import { Conversation, type PendingSend } from '@parley/chat-client/conversation';
import { api } from './api.ts';
import { live } from './console-socket.svelte.ts';

/**
 * One open chat in the console: the shared conversation engine bound to the console's REST
 * client and socket, mirrored into $state for ChatView. Order, dedupe, sends, retries and
 * catch-up are the engine's; this only adapts the API and exposes what the view renders.
 */
export class ChatConversation {
  messages = $state.raw<readonly SupportMessage[]>([]);
  pending = $state.raw<readonly PendingSend[]>([]);
  hasMoreBefore = $state(false);
  readonly #engine: Conversation;

  constructor(
    chat: AdminSupportChat,
    hooks: {
      onIncoming: (messages: SupportMessage[]) => void;
      onReloaded: () => void;
      onError: (error: unknown) => void;
    },
  ) {
    const chatId: ChatId = chat.id;
    this.#engine = new Conversation({
      chat,
      socket: live.socket,
      api: {
        getChat: () => api.getChat(chatId),
        messagesAfter: (afterSeq) => api.messagesAfter(chatId, afterSeq),
        messagesBefore: (beforeSeq) => api.olderMessages(chatId, beforeSeq),
        sendMessage: (body) =>
          api.sendMessage(chatId, body.content, body.client_id, body.attachment_ids),
      },
      onChange: () => this.#sync(),
      onIncoming: hooks.onIncoming,
      onReloaded: hooks.onReloaded,
      onRejected: (reason) => hooks.onError(new Error(reason)),
      onError: hooks.onError,
    });
    this.#sync();
  }

  get lastSeq(): number {
    return this.#engine.lastSeq;
  }

  send(content: string, attachments: Attachment[]): void {
    this.#engine.send(content, { attachments });
  }

  /** A note went out over REST: fetch it (and anything before it) if the socket has not brought it. */
  noteSent(): Promise<void> {
    return this.#engine.catchUp();
  }

  retry(clientId: string): void {
    this.#engine.retry(clientId as ClientId);
  }

  typing(): void {
    this.#engine.typing();
  }

  loadEarlier(): Promise<boolean> {
    return this.#engine.loadEarlier();
  }

  dispose(): void {
    this.#engine.dispose();
  }

  #sync() {
    this.messages = this.#engine.messages;
    this.pending = this.#engine.pending;
    this.hasMoreBefore = this.#engine.hasMoreBefore;
  }
}
