/**
 * The visitor's chat as the widget shows it: the session and pre-chat, the shared conversation
 * engine mirrored into $state, the REST polling fallback, the operator's typing and routing
 * status, announcements for screen readers, the unread count. Components read its $state
 * fields and call its methods; message order, sends and reconnects live in @parley/chat-client.
 */
import type { ClientId, PageInfo, RoutingSession, SupportMessage } from '@parley/contracts/models';
import type { ServerFrame } from '@parley/contracts/ws';
import type { WidgetSettings } from '@parley/contracts/embed';
import type { ChatId } from '@parley/contracts/models';
import { ApiError, errorMessage } from '@parley/chat-client/errors';
import {
  createChatSocket,
  ticketSocketUrl,
  type ChatSocket,
  type SocketState,
} from '@parley/chat-client/socket';
import type { Conversation, PendingSend, PendingStatus } from '@parley/chat-client/conversation';
import { createApiClient, type ApiClient } from './api.ts';
import { messageAnnouncement, sessionAnnouncement } from './announcements.ts';
import { Poller } from './polling.ts';
import { readStored, writeStored } from './storage.ts';
import { openVisitorSession, rememberVisitor } from './visitor-session.ts';
import type { CoreTranslate } from './i18n.ts';

/** A message the visitor wrote that the server has not stored yet, as the bubble shows it. */
export interface PendingMessage {
  client_id: ClientId;
  content: string;
  created_at: string;
  status: PendingStatus;
  error: string | null;
  /** Local preview of a file being uploaded (object URL) and its kind. */
  preview: { url: string; kind: 'image' | 'audio' } | null;
  upload: { progress: number } | null;
}

export type Phase = 'booting' | 'prechat' | 'loading' | 'ready' | 'error';
export type Connection = 'connected' | 'polling' | 'connecting' | 'offline';

const muteKey = 'parley.muted';
/** Failed connection attempts in a row before REST polling carries the chat. */
const failuresBeforePolling = 3;

export interface ChatHooks {
  /** The widget wants to be opened by the host (an invitation arrived). */
  requestOpen(): void;
  unreadChanged(count: number): void;
  connectionChanged(connected: boolean): void;
}

export class VisitorChat {
  phase = $state<Phase>('booting');
  loadError = $state<string | null>(null);
  visitor = $state<{
    id: string;
    name: string | null;
    email: string | null;
    identified: boolean;
  } | null>(null);
  chatId = $state<ChatId | null>(null);
  messages = $state.raw<readonly SupportMessage[]>([]);
  pending = $state.raw<PendingMessage[]>([]);
  session = $state<RoutingSession | null>(null);
  /** Older messages exist before the first one shown. */
  hasMoreBefore = $state(false);
  loadingEarlier = $state(false);
  typingName = $state<string | null>(null);
  operatorTyping = $state(false);
  socketState = $state<SocketState>('closed');
  polling = $state(false);
  pollHealthy = $state(false);
  open = $state(false);
  muted = $state(readStored(muteKey, (v): v is boolean => typeof v === 'boolean') ?? false);
  /** Text for the screen-reader live region. */
  announcement = $state('');

  readonly api: ApiClient;
  #socket: ChatSocket;
  #conversation: Conversation | null = null;
  #token: string | null = null;
  /** Previews and progress of files being uploaded, by client_id (the engine keeps the rest). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping; #sync() publishes it
  #uploads = new Map<string, { preview: PendingMessage['preview']; progress: number }>();
  #page: PageInfo | null = null;
  #poller = new Poller(
    () => this.#poll(),
    (healthy) => (this.pollHealthy = healthy),
  );
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  #t: CoreTranslate;
  #hooks: ChatHooks;
  #settings: WidgetSettings;
  #origin: string;

  constructor(origin: string, settings: WidgetSettings, t: CoreTranslate, hooks: ChatHooks) {
    this.#origin = origin;
    this.#settings = settings;
    this.#t = t;
    this.#hooks = hooks;
    this.api = createApiClient(origin, () => this.#token);
    this.#socket = createChatSocket({
      url: () => (this.#token ? ticketSocketUrl(origin, this.#token) : null),
      onUnauthorized: () => void this.#renewSession(),
      onRefused: (_code, reason) => {
        this.phase = 'error';
        this.loadError = reason || this.#t('offline');
      },
    });
    this.#socket.onState((state) => this.#onSocketState(state));
    this.#socket.onFrame((frame) => this.#onFrame(frame));
  }

  get connection(): Connection {
    if (this.socketState === 'open') return 'connected';
    if (this.polling && this.pollHealthy) return 'polling';
    if (this.socketState === 'connecting') return 'connecting';
    return 'offline';
  }

  get unreadCount(): number {
    return this.#conversation?.unreadFrom('admin') ?? 0;
  }

  // ------------------------------------------------------------------ lifecycle

  async boot(): Promise<void> {
    this.phase = 'booting';
    this.loadError = null;
    try {
      const chatStarted = await this.#openSession();
      this.#socket.start();
      if (chatStarted) await this.#loadChat();
      else this.phase = 'prechat';
    } catch (error) {
      this.phase = 'error';
      this.loadError = describe(error);
    }
  }

  destroy(): void {
    this.#socket.stop();
    this.#conversation?.dispose();
    this.#poller.active = false;
    clearTimeout(this.#typingTimer);
  }

  async #openSession(): Promise<boolean> {
    const { session, chatStarted } = await openVisitorSession(this.api, this.#settings);
    this.#token = session.token;
    this.visitor = session.visitor;
    rememberVisitor(session.visitor, session.token, chatStarted);
    return chatStarted;
  }

  /**
   * The server refused the token (expired, revoked): ask for a new session (the server resumes
   * the visitor or starts a new one), never reconnect with the same token.
   */
  async #renewSession(): Promise<void> {
    try {
      const hadChat = this.#conversation !== null;
      const chatStarted = await this.#openSession();
      this.#socket.start();
      if (hadChat || chatStarted) await this.#loadChat();
    } catch (error) {
      this.phase = 'error';
      this.loadError = describe(error);
    }
  }

  async #loadChat(): Promise<void> {
    if (this.phase !== 'ready') this.phase = 'loading';
    const chat = await this.api.getChat();
    if (this.#conversation?.chatId === chat.id) {
      await this.#conversation.reload();
    } else {
      this.#conversation?.dispose();
      this.#conversation = await this.#createConversation(chat);
    }
    this.chatId = chat.id;
    this.phase = 'ready';
    if (this.visitor && this.#token) rememberVisitor(this.visitor, this.#token, true);
    this.#sync();
  }

  async #createConversation(
    chat: Awaited<ReturnType<ApiClient['getChat']>>,
  ): Promise<Conversation> {
    // Fetched when a chat exists: a visitor who never writes does not download the engine.
    const { Conversation } = await import('@parley/chat-client/conversation');
    return new Conversation({
      chat,
      socket: this.#socket,
      api: {
        getChat: () => this.api.getChat(),
        messagesAfter: (afterSeq) => this.api.messagesAfter(afterSeq),
        messagesBefore: (beforeSeq) => this.api.messagesBefore(beforeSeq),
        sendMessage: (body) => this.api.sendMessage(body),
        markRead: () => this.api.markRead(),
      },
      onChange: () => this.#sync(),
      onIncoming: (messages) => this.#onIncoming(messages),
      onRejected: (reason) => {
        this.phase = 'error';
        this.loadError = reason;
      },
      onError: (error) => {
        if (error instanceof ApiError && error.status === 401) void this.#renewSession();
        else console.warn('[parley] background chat update failed', describe(error));
      },
    });
  }

  /** Mirrors the engine into $state, and marks read what the visitor can see. */
  #sync() {
    const conversation = this.#conversation;
    if (!conversation) return;
    this.messages = conversation.messages;
    this.hasMoreBefore = conversation.hasMoreBefore;
    this.pending = conversation.pending.map((p) =>
      pendingView(p, this.#uploads.get(p.client_id), this.#t),
    );
    for (const [clientId, upload] of this.#uploads) {
      if (this.pending.some((p) => p.client_id === clientId)) continue;
      if (upload.preview) URL.revokeObjectURL(upload.preview.url);
      this.#uploads.delete(clientId);
    }
    this.#hooks.unreadChanged(this.unreadCount);
    this.markReadIfVisible();
  }

  async retryBoot(): Promise<void> {
    if (!this.#token) return this.boot();
    this.phase = 'loading';
    try {
      await this.#loadChat();
    } catch (error) {
      this.phase = 'error';
      this.loadError = describe(error);
    }
  }

  // ------------------------------------------------------------------ host page

  setOpen(open: boolean): void {
    this.open = open;
    if (open) this.markReadIfVisible();
  }

  setPage(page: PageInfo): void {
    this.#page = page;
    this.#sendPageView();
  }

  #sendPageView() {
    if (!this.#page) return;
    let timezone: string | undefined;
    try {
      timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch {
      timezone = undefined;
    }
    this.#socket.send({ type: 'page_view', ...this.#page, ...(timezone ? { timezone } : {}) });
  }

  toggleMute(): void {
    this.muted = !this.muted;
    writeStored(muteKey, this.muted);
  }

  // ------------------------------------------------------------------ pre-chat form

  async startChat(form: { name: string; email: string; message: string }): Promise<void> {
    const name = form.name.trim();
    const email = form.email.trim();
    await this.api.updateProfile({ name, ...(email ? { email } : {}) });
    if (this.visitor) this.visitor = { ...this.visitor, name, email: email || this.visitor.email };
    await this.#loadChat();
    this.send(form.message);
  }

  // ------------------------------------------------------------------ sending

  /** Queues a text message (and optional file) and sends it as soon as possible, exactly once. */
  send(content: string, file?: { blob: Blob; name: string; kind: 'image' | 'audio' }): void {
    const text = content.trim();
    const conversation = this.#conversation;
    if ((!text && !file) || !conversation) return;
    if (this.session?.status === 'closed') this.session = null;
    if (!file) {
      conversation.send(text);
      return;
    }
    const clientId = crypto.randomUUID() as ClientId;
    const upload = {
      preview: { url: URL.createObjectURL(file.blob), kind: file.kind },
      progress: 0,
    };
    this.#uploads.set(clientId, upload);
    conversation.send(text, {
      clientId,
      upload: async () => {
        const attachment = await this.api.upload(conversation.chatId, file.blob, file.name, (f) => {
          upload.progress = f;
          this.#sync();
        });
        return [attachment];
      },
    });
  }

  retry(clientId: ClientId): void {
    this.#conversation?.retry(clientId);
  }

  /** Loads the page of history before the first message shown. */
  async loadEarlier(): Promise<void> {
    if (!this.#conversation || this.loadingEarlier) return;
    this.loadingEarlier = true;
    try {
      await this.#conversation.loadEarlier();
    } catch (error) {
      console.warn('[parley] loading earlier messages failed', describe(error));
    } finally {
      this.loadingEarlier = false;
    }
  }

  /** Tells the operator the visitor is typing (throttled by the engine). */
  typing(): void {
    this.#conversation?.typing();
  }

  // ------------------------------------------------------------------ receiving

  #onSocketState(state: SocketState) {
    this.socketState = state;
    this.#hooks.connectionChanged(state === 'open');
    if (state === 'open') this.#sendPageView();
    this.#poller.active = state !== 'open' && this.#socket.failures >= failuresBeforePolling;
    this.polling = this.#poller.active;
  }

  #onFrame(frame: ServerFrame) {
    switch (frame.type) {
      case 'typing':
        if (frame.chat_id === this.chatId && frame.sender_type === 'admin') {
          this.operatorTyping = true;
          this.typingName = frame.sender_name;
          clearTimeout(this.#typingTimer);
          this.#typingTimer = setTimeout(() => {
            this.operatorTyping = false;
          }, frame.expires_in_ms);
        }
        break;
      case 'session_status':
        if (frame.chat_id === this.chatId || this.chatId === null) this.#onSession(frame.session);
        break;
      case 'invitation':
        void this.#onInvitation(frame.chat_id, frame.message);
        break;
      default:
        break;
    }
  }

  #onSession(session: RoutingSession) {
    const said = sessionAnnouncement(this.session, session, this.#t);
    this.session = session;
    if (said) this.announcement = said;
  }

  async #onInvitation(chatId: ChatId, message: SupportMessage) {
    this.#hooks.requestOpen();
    if (this.chatId !== chatId || this.phase !== 'ready') {
      try {
        await this.#loadChat();
      } catch (error) {
        this.phase = 'error';
        this.loadError = describe(error);
        return;
      }
    }
    this.#conversation?.receive([message]);
  }

  #onIncoming(messages: SupportMessage[]) {
    const message = messages.findLast((m) => m.sender_type === 'admin');
    if (!message) return;
    this.operatorTyping = false;
    // The chime's WebAudio code is fetched the first time it plays.
    if (!this.muted)
      void import('./sound.ts').then(
        (sound) => sound.playChime(),
        () => {},
      );
    this.announcement = messageAnnouncement(message, this.#t);
  }

  /** Marks operator messages read when the visitor can actually see them. */
  markReadIfVisible(): void {
    if (!this.open || document.visibilityState !== 'visible' || this.phase !== 'ready') return;
    this.#conversation?.markRead();
  }

  /** One REST round while polling carries the chat: what was missed, then what waits to go. */
  async #poll() {
    if (!this.#conversation) return;
    try {
      await this.#conversation.catchUp();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) void this.#renewSession();
      throw error;
    }
    this.#conversation.flush();
  }

  /** For components that need the gateway origin (attachment URLs). */
  get origin(): string {
    return this.#origin;
  }
}

function pendingView(
  p: PendingSend,
  upload: { preview: PendingMessage['preview']; progress: number } | undefined,
  t: CoreTranslate,
): PendingMessage {
  let error: string | null = null;
  if (p.error?.step === 'upload') error = t('uploadFailed') + ' ' + p.error.message;
  else if (p.error) error = t('sendError', { reason: p.error.message });
  return {
    client_id: p.client_id,
    content: p.content,
    created_at: p.created_at,
    status: p.status,
    error,
    preview: upload?.preview ?? null,
    upload: p.status === 'uploading' && upload ? { progress: upload.progress } : null,
  };
}

export function describe(error: unknown): string {
  return errorMessage(error);
}
