/**
 * The visitor's chat: session, history, live frames, outbox, polling fallback, unread count.
 * One instance per widget; components read its $state fields and call its methods.
 */
import type {
  Attachment,
  PageInfo,
  RoutingSession,
  SupportMessage,
} from '@parley/contracts/models';
import type { ServerFrame } from '@parley/contracts/ws';
import type { WidgetSettings } from '@parley/contracts/embed';
import type { AttachmentId, ChatId, ClientId } from '@parley/contracts/models';
import { ApiError, createApiClient, type ApiClient } from './api.ts';
import { createSocket, type SocketState, type WidgetSocket } from './socket.ts';
import { readStored, removeStored, writeStored } from './storage.ts';
import { nowIso } from './time.ts';
import type { Translate } from './i18n.ts';

export type PendingStatus = 'uploading' | 'sending' | 'queued' | 'failed';

/** A message the visitor wrote that the server has not stored yet. */
export interface PendingMessage {
  client_id: ClientId;
  content: string;
  created_at: string;
  status: PendingStatus;
  error: string | null;
  /** Local preview of a file being uploaded (object URL) and its kind. */
  preview: { url: string; kind: 'image' | 'audio' } | null;
  upload: { blob: Blob; name: string; progress: number } | null;
  attachments: Attachment[];
}

export type Phase = 'booting' | 'prechat' | 'loading' | 'ready' | 'error';
export type Connection = 'connected' | 'polling' | 'connecting' | 'offline';

interface StoredVisitor {
  visitor_id: string;
  token: string;
  chat_started: boolean;
}

const visitorKey = 'parley.visitor';
const muteKey = 'parley.muted';
const pollIntervalMs = 3000;
const typingThrottleMs = 2000;

function isStoredVisitor(value: unknown): value is StoredVisitor {
  const v = value as StoredVisitor | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.visitor_id === 'string' &&
    typeof v.token === 'string' &&
    typeof v.chat_started === 'boolean'
  );
}

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
  messages = $state<SupportMessage[]>([]);
  pending = $state<PendingMessage[]>([]);
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
  #socket: WidgetSocket;
  #token: string | null = null;
  #lastSeq = 0;
  // Dedupe bookkeeping only: nothing renders from it, so it is a plain Set.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #seenIds = new Set<string>();
  #page: PageInfo | null = null;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  #lastTypingSent = 0;
  #markingRead = false;
  #rejections = 0;
  #flushing = false;
  #flushAgain = false;
  #t: Translate;
  #hooks: ChatHooks;
  #settings: WidgetSettings;
  #origin: string;

  constructor(origin: string, settings: WidgetSettings, t: Translate, hooks: ChatHooks) {
    this.#origin = origin;
    this.#settings = settings;
    this.#t = t;
    this.#hooks = hooks;
    this.api = createApiClient(origin, () => this.#token);
    this.#socket = createSocket({
      url: () => {
        if (!this.#token) return null;
        const wsOrigin = origin.replace(/^http/, 'ws');
        return `${wsOrigin}/ws?token=${encodeURIComponent(this.#token)}`;
      },
      onFrame: (frame) => this.#onFrame(frame),
      onState: (state) => this.#onSocketState(state),
      onPolling: (polling) => this.#setPolling(polling),
    });
  }

  get connection(): Connection {
    if (this.socketState === 'open') return 'connected';
    if (this.polling && this.pollHealthy) return 'polling';
    if (this.socketState === 'connecting') return 'connecting';
    return 'offline';
  }

  get unreadCount(): number {
    return this.messages.filter((m) => m.sender_type === 'admin' && m.read_at === null).length;
  }

  // ------------------------------------------------------------------ lifecycle

  async boot(): Promise<void> {
    this.phase = 'booting';
    this.loadError = null;
    try {
      const stored = readStored(visitorKey, isStoredVisitor);
      const session = await this.#createSession(stored);
      this.#token = session.token;
      this.visitor = session.visitor;
      const chatStarted =
        (stored?.visitor_id === session.visitor.id && stored.chat_started) ||
        session.visitor.identified ||
        session.visitor.name !== null;
      this.#remember(chatStarted);
      this.#socket.start();
      if (chatStarted) {
        await this.#loadChat();
      } else {
        this.phase = 'prechat';
      }
    } catch (error) {
      this.phase = 'error';
      this.loadError = describe(error);
    }
    window.addEventListener('online', this.#onBrowserOnline);
  }

  destroy(): void {
    window.removeEventListener('online', this.#onBrowserOnline);
    this.#socket.stop();
    clearTimeout(this.#pollTimer);
    clearTimeout(this.#typingTimer);
  }

  async #createSession(stored: StoredVisitor | null) {
    const user = this.#settings.user;
    if (user) {
      return this.api.createSession({
        user_id: user.user_id,
        user_hash: user.user_hash,
        ...(user.name ? { name: user.name } : {}),
        ...(user.email ? { email: user.email } : {}),
      });
    }
    if (stored) {
      try {
        return await this.api.createSession({ visitor_id: stored.visitor_id, token: stored.token });
      } catch (error) {
        // An expired or foreign token cannot be resumed: start as a new visitor.
        if (!(error instanceof ApiError) || error.status < 400 || error.status >= 500) throw error;
        removeStored(visitorKey);
      }
    }
    return this.api.createSession({});
  }

  #remember(chatStarted: boolean) {
    if (!this.visitor || !this.#token || this.visitor.identified) return;
    writeStored(visitorKey, {
      visitor_id: this.visitor.id,
      token: this.#token,
      chat_started: chatStarted,
    } satisfies StoredVisitor);
  }

  async #loadChat(): Promise<void> {
    if (this.phase !== 'ready') this.phase = 'loading';
    const chat = await this.api.getChat();
    this.chatId = chat.id;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    this.#seenIds = new Set();
    this.messages = [];
    this.#lastSeq = 0;
    this.#addMessages(chat.messages, false);
    this.#lastSeq = Math.max(this.#lastSeq, chat.last_seq);
    this.hasMoreBefore = chat.has_more_before;
    this.phase = 'ready';
    this.#remember(true);
    this.#subscribe();
    this.#afterUnreadChange();
    void this.#flush();
  }

  async retryBoot(): Promise<void> {
    if (this.#token) {
      this.phase = 'loading';
      try {
        await this.#loadChat();
      } catch (error) {
        this.phase = 'error';
        this.loadError = describe(error);
      }
      return;
    }
    await this.boot();
  }

  #onBrowserOnline = () => {
    this.#socket.reconnectNow();
    if (this.polling) this.#schedulePoll(0);
  };

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
    if (!text && !file) return;
    const message: PendingMessage = {
      client_id: crypto.randomUUID() as ClientId,
      content: text,
      created_at: nowIso(),
      status: file ? 'uploading' : 'queued',
      error: null,
      preview: file ? { url: URL.createObjectURL(file.blob), kind: file.kind } : null,
      upload: file ? { blob: file.blob, name: file.name, progress: 0 } : null,
      attachments: [],
    };
    this.pending.push(message);
    if (this.session?.status === 'closed') this.session = null;
    void this.#flush();
  }

  retry(clientId: ClientId): void {
    const message = this.pending.find((p) => p.client_id === clientId);
    if (!message || message.status !== 'failed') return;
    message.status = message.upload ? 'uploading' : 'queued';
    message.error = null;
    void this.#flush();
  }

  async #flush(): Promise<void> {
    if (!this.chatId) return;
    if (this.#flushing) {
      this.#flushAgain = true;
      return;
    }
    this.#flushing = true;
    try {
      do {
        this.#flushAgain = false;
        await this.#flushOnce();
      } while (this.#flushAgain);
    } finally {
      this.#flushing = false;
    }
  }

  async #flushOnce(): Promise<void> {
    // A snapshot: acks remove entries from `pending` while this loop awaits.
    for (const message of [...this.pending]) {
      if (!this.pending.includes(message)) continue;
      if (message.status === 'failed' || message.status === 'sending') continue;
      if (message.upload && message.status === 'uploading') {
        const uploaded = await this.#upload(message);
        if (!uploaded) continue;
      }
      await this.#deliver(message);
    }
  }

  async #upload(message: PendingMessage): Promise<boolean> {
    const upload = message.upload;
    if (!upload || !this.chatId) return true;
    try {
      const attachment = await this.api.upload(
        this.chatId,
        upload.blob,
        upload.name,
        (fraction) => {
          upload.progress = fraction;
        },
      );
      message.attachments = [attachment];
      message.upload = null;
      message.status = 'queued';
      return true;
    } catch (error) {
      message.status = 'failed';
      message.error = this.#t('uploadFailed') + ' ' + describe(error);
      return false;
    }
  }

  async #deliver(message: PendingMessage): Promise<void> {
    const chatId = this.chatId;
    if (!chatId) return;
    const attachmentIds = message.attachments.map((a) => a.id as AttachmentId);
    // Over the socket the ack arrives as a frame; a resend after a reconnect carries the same
    // client_id, so the server stores it once.
    const sent = this.#socket.send({
      type: 'send_message',
      chat_id: chatId,
      content: message.content,
      client_id: message.client_id,
      attachment_ids: attachmentIds,
    });
    if (sent) {
      message.status = 'sending';
      return;
    }
    if (!this.polling) {
      message.status = 'queued';
      return;
    }
    message.status = 'sending';
    try {
      const result = await this.api.sendMessage({
        content: message.content,
        client_id: message.client_id,
        attachment_ids: attachmentIds,
      });
      this.#addMessages([result.message], false);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'network') {
        message.status = 'queued';
      } else {
        message.status = 'failed';
        message.error = this.#t('sendError', { reason: describe(error) });
      }
    }
  }

  /** Loads the page of history before the first message shown. */
  async loadEarlier(): Promise<void> {
    const first = this.messages[0];
    if (!first || !this.hasMoreBefore || this.loadingEarlier) return;
    this.loadingEarlier = true;
    try {
      const page = await this.api.messagesBefore(first.seq);
      this.#addMessages(page.messages, false);
      this.hasMoreBefore = page.has_more;
    } catch (error) {
      console.warn('[parley] loading earlier messages failed', describe(error));
    } finally {
      this.loadingEarlier = false;
    }
  }

  /** Tells the operator the visitor is typing, at most once per throttle window. */
  typing(): void {
    const now = Date.now();
    if (!this.chatId || now - this.#lastTypingSent < typingThrottleMs) return;
    if (this.#socket.send({ type: 'typing', chat_id: this.chatId })) this.#lastTypingSent = now;
  }

  // ------------------------------------------------------------------ receiving

  #onSocketState(state: SocketState) {
    this.socketState = state;
    this.#hooks.connectionChanged(state === 'open');
    if (state !== 'open') return;
    this.#subscribe();
    this.#sendPageView();
    // Anything sent over the dropped connection and not acknowledged goes again (deduped by client_id).
    for (const message of this.pending) if (message.status === 'sending') message.status = 'queued';
    void this.#flush();
  }

  #subscribe() {
    if (!this.chatId) return;
    this.#socket.send({
      type: 'subscribe',
      channel: 'chat',
      chat_id: this.chatId,
      after_seq: this.#lastSeq,
    });
  }

  #onFrame(frame: ServerFrame) {
    switch (frame.type) {
      case 'subscribed':
        if (frame.channel !== 'chat') break;
        this.#rejections = 0;
        if (frame.recovered === false) void this.#reloadQuietly();
        break;
      case 'rejected':
        if (frame.channel !== 'chat') break;
        // Once: the chat may have changed under us. Twice in a row: stop instead of looping.
        this.#rejections += 1;
        if (this.#rejections === 1) {
          void this.#reloadQuietly();
        } else {
          this.phase = 'error';
          this.loadError = frame.reason;
        }
        break;
      case 'ack':
        this.#addMessages([frame.message], false);
        break;
      case 'error':
        if (frame.client_id) {
          const message = this.pending.find((p) => p.client_id === frame.client_id);
          if (message) {
            message.status = 'failed';
            message.error = this.#t('sendError', { reason: frame.message });
          }
        }
        break;
      case 'new_message':
        if (frame.chat_id === this.chatId) this.#addMessages([frame.message], true);
        break;
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
      case 'messages_read':
        if (frame.chat_id === this.chatId) this.#markLocallyRead(frame.up_to_seq, frame.read_at);
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
    const previous = this.session;
    this.session = session;
    if (
      session.status === 'active' &&
      session.operator &&
      previous?.operator?.id !== session.operator.id
    ) {
      this.announcement = this.#t('joined', { name: session.operator.name });
    } else if (session.status === 'closed' && previous?.status !== 'closed') {
      this.announcement = this.#t('ended');
    }
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
    this.#addMessages([message], true);
  }

  async #reloadQuietly() {
    try {
      await this.#loadChat();
    } catch (error) {
      console.warn('[parley] reload failed', describe(error));
    }
  }

  #addMessages(incoming: SupportMessage[], live: boolean) {
    let added = false;
    for (const message of incoming) {
      if (message.client_id) {
        const index = this.pending.findIndex((p) => p.client_id === message.client_id);
        if (index >= 0) {
          const [done] = this.pending.splice(index, 1);
          if (done?.preview) URL.revokeObjectURL(done.preview.url);
        }
      }
      if (this.#seenIds.has(message.id)) continue;
      this.#seenIds.add(message.id);
      this.#lastSeq = Math.max(this.#lastSeq, message.seq);
      this.messages.push(message);
      added = true;
      if (live && message.sender_type === 'admin') {
        this.operatorTyping = false;
        // The chime's WebAudio code is fetched the first time it plays.
        if (!this.muted)
          void import('./sound.ts').then(
            (sound) => sound.playChime(),
            () => {},
          );
        this.announcement = this.#t('newMessageFrom', {
          name: message.sender_name ?? this.#t('operator'),
          text:
            message.content ||
            this.#t(message.attachments[0]?.kind === 'audio' ? 'voiceMessage' : 'image'),
        });
      }
    }
    if (!added) return;
    // Chronological by the chat's own sequence, whatever order frames and pages arrived in.
    this.messages.sort((a, b) => a.seq - b.seq);
    this.#afterUnreadChange();
  }

  #afterUnreadChange() {
    this.#hooks.unreadChanged(this.unreadCount);
    this.markReadIfVisible();
  }

  /** Marks operator messages read when the visitor can actually see them. */
  markReadIfVisible(): void {
    if (!this.open || document.visibilityState !== 'visible' || this.phase !== 'ready') return;
    if (this.unreadCount === 0 || this.#markingRead) return;
    this.#markingRead = true;
    this.api
      .markRead()
      .then((result) => {
        this.#markLocallyRead(result.up_to_seq, result.read_at ?? nowIso());
      })
      .catch((error: unknown) => console.warn('[parley] mark read failed', describe(error)))
      .finally(() => {
        this.#markingRead = false;
      });
  }

  #markLocallyRead(upToSeq: number, readAt: string) {
    for (const message of this.messages) {
      if (message.sender_type === 'admin' && message.read_at === null && message.seq <= upToSeq) {
        message.read_at = readAt;
      }
    }
    this.#hooks.unreadChanged(this.unreadCount);
  }

  // ------------------------------------------------------------------ polling fallback

  #setPolling(polling: boolean) {
    this.polling = polling;
    if (polling) {
      this.#schedulePoll(0);
    } else {
      clearTimeout(this.#pollTimer);
      this.pollHealthy = false;
    }
  }

  #schedulePoll(delay: number) {
    clearTimeout(this.#pollTimer);
    this.#pollTimer = setTimeout(() => void this.#poll(), delay);
  }

  async #poll() {
    if (!this.polling) return;
    try {
      if (this.chatId) {
        const page = await this.api.messagesAfter(this.#lastSeq);
        this.#addMessages(page.messages, true);
        void this.#flush();
      }
      this.pollHealthy = true;
    } catch {
      this.pollHealthy = false;
    }
    if (this.polling) this.#schedulePoll(pollIntervalMs);
  }

  /** For components that need the gateway origin (attachment URLs). */
  get origin(): string {
    return this.#origin;
  }
}

export function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
