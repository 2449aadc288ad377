/**
 * One conversation as either side sees it: the messages in seq order, each once; what this
 * side wrote and the server has not stored yet; catch-up after a reconnect or a gap; read marks.
 * The REST client and the socket are passed in (ports), so it runs the same in both apps and
 * in unit tests with fakes. It holds plain data and calls `onChange`; the apps mirror it into
 * their own reactive state.
 */
import type {
  Attachment,
  AttachmentId,
  ChatId,
  ClientId,
  SenderType,
  SupportMessage,
} from '@parley/contracts/models';
import type { ServerFrame } from '@parley/contracts/ws';
import type { ChatSocket } from './socket.ts';
import { MessageLog } from './message-log.ts';
import { Outbox, type OutboxOptions, type PendingSend } from './outbox.ts';

export interface ChatSnapshot {
  id: ChatId;
  messages: SupportMessage[];
  has_more_before: boolean;
  last_seq: number;
}

export interface MessagesPageLike {
  messages: SupportMessage[];
  has_more: boolean;
}

/** The REST calls a conversation needs, already bound to its chat. */
export interface ConversationApi {
  getChat(): Promise<ChatSnapshot>;
  messagesAfter(afterSeq: number): Promise<MessagesPageLike>;
  messagesBefore(beforeSeq: number): Promise<MessagesPageLike>;
  sendMessage(body: {
    content: string;
    client_id: ClientId;
    attachment_ids: AttachmentId[];
  }): Promise<{ message: SupportMessage }>;
  /** The visitor's "I have read the operator's messages" (the console has none). */
  markRead?(): Promise<{ up_to_seq: number; read_at: string | null }>;
}

export type ConversationSocket = Pick<ChatSocket, 'state' | 'send' | 'onFrame' | 'onState'>;

export interface ConversationOptions extends OutboxOptions {
  api: ConversationApi;
  socket: ConversationSocket;
  chat: ChatSnapshot;
  /** Anything a view renders changed. */
  onChange: () => void;
  /** Messages that arrived live (frames, catch-up), not pages the person asked for. */
  onIncoming?: (messages: SupportMessage[]) => void;
  /** The history was reloaded from scratch (too much was missed to replay). */
  onReloaded?: () => void;
  /** The server refused this chat's channel twice in a row. */
  onRejected?: (reason: string) => void;
  /** Failures of background work (catch-up, reload, read marks), for the app to log or show. */
  onError?: (error: unknown) => void;
  typingThrottleMs?: number;
}

export class Conversation {
  #log = new MessageLog();
  #outbox: Outbox;
  #options: ConversationOptions;
  #chatId: ChatId;
  #hasMoreBefore: boolean;
  #rejections = 0;
  #markingRead = false;
  #lastTypingSent = 0;
  #unsubscribe: Array<() => void>;

  constructor(options: ConversationOptions) {
    this.#options = options;
    this.#chatId = options.chat.id;
    this.#hasMoreBefore = options.chat.has_more_before;
    this.#outbox = new Outbox(
      {
        chatId: () => this.#chatId,
        sendFrame: (frame) => this.#options.socket.send(frame),
        sendRest: (body) => this.#options.api.sendMessage(body),
        delivered: (message) => this.#merge([message], false),
        changed: () => this.#options.onChange(),
      },
      options,
    );
    this.#reset(options.chat);
    const { socket } = options;
    this.#unsubscribe = [
      socket.onFrame((frame) => this.#onFrame(frame)),
      socket.onState((state) => {
        if (state === 'open') this.#onSocketOpen();
        else this.#outbox.socketLost();
      }),
    ];
    if (socket.state === 'open') this.#subscribe();
  }

  get chatId(): ChatId {
    return this.#chatId;
  }
  get messages(): readonly SupportMessage[] {
    return this.#log.messages;
  }
  get pending(): readonly PendingSend[] {
    return this.#outbox.pending;
  }
  get hasMoreBefore(): boolean {
    return this.#hasMoreBefore;
  }
  get lastSeq(): number {
    return this.#log.lastSeq;
  }

  /** Messages from `sender` nobody on the other side has read yet. */
  unreadFrom(sender: SenderType): number {
    return this.#log.messages.filter((m) => m.sender_type === sender && m.read_at === null).length;
  }

  /**
   * Queues a message and sends it as soon as possible, exactly once. It carries `attachments`
   * (already uploaded), or those `upload` returns: that runs first, and is retried like a send.
   */
  send(
    content: string,
    options: {
      clientId?: ClientId;
      attachments?: Attachment[];
      upload?: () => Promise<Attachment[]>;
    } = {},
  ): ClientId {
    const clientId = options.clientId ?? (crypto.randomUUID() as ClientId);
    this.#outbox.add(clientId, content, new Date().toISOString(), {
      attachments: options.attachments ?? [],
      upload: options.upload ?? null,
    });
    return clientId;
  }

  /** Messages learned some other way (an invitation frame carries its first message). */
  receive(messages: readonly SupportMessage[]): void {
    this.#merge(messages, true);
  }

  retry(clientId: ClientId): void {
    this.#outbox.retry(clientId);
  }

  /** Sends whatever is queued now (e.g. the app's polling found the server reachable again). */
  flush(): void {
    void this.#outbox.flush();
  }

  /** Tells the other side this one is typing, at most once per throttle window. */
  typing(): void {
    const now = Date.now();
    if (now - this.#lastTypingSent < (this.#options.typingThrottleMs ?? 2_000)) return;
    if (this.#options.socket.send({ type: 'typing', chat_id: this.#chatId }))
      this.#lastTypingSent = now;
  }

  /** Loads the page before the first message shown; false when there was nothing to load. */
  async loadEarlier(): Promise<boolean> {
    const first = this.#log.messages[0];
    if (!first || !this.#hasMoreBefore) return false;
    const page = await this.#options.api.messagesBefore(first.seq);
    this.#hasMoreBefore = page.has_more;
    this.#merge(page.messages, false);
    this.#options.onChange();
    return true;
  }

  /** Fetches everything after the last seq held (after a gap, or by the app's polling). */
  async catchUp(): Promise<void> {
    let after = this.#log.lastSeq;
    for (;;) {
      const page = await this.#options.api.messagesAfter(after);
      this.#merge(page.messages, true);
      const next = Math.max(after, ...page.messages.map((m) => m.seq));
      if (!page.has_more || next === after) return;
      after = next;
    }
  }

  /** Replaces the history with the server's (when the gap is too large to replay). */
  async reload(): Promise<void> {
    const chat = await this.#options.api.getChat();
    this.#chatId = chat.id;
    this.#reset(chat);
    this.#options.onChange();
    this.#options.onReloaded?.();
  }

  /** Marks the other side's messages read (the visitor's widget, when they are on screen). */
  markRead(): void {
    const markRead = this.#options.api.markRead;
    if (!markRead || this.#markingRead || this.unreadFrom('admin') === 0) return;
    this.#markingRead = true;
    markRead()
      .then((result) => {
        this.#markLocallyRead(result.up_to_seq, result.read_at ?? new Date().toISOString());
      })
      .catch((error: unknown) => this.#options.onError?.(error))
      .finally(() => {
        this.#markingRead = false;
      });
  }

  dispose(): void {
    for (const off of this.#unsubscribe) off();
    this.#outbox.dispose();
    this.#options.socket.send({ type: 'unsubscribe', channel: 'chat', chat_id: this.#chatId });
  }

  /** Starts over from a snapshot; the caller says when the change is announced. */
  #reset(chat: ChatSnapshot) {
    this.#log.clear();
    this.#log.add(chat.messages.filter((m) => m.chat_id === chat.id));
    for (const message of chat.messages) {
      if (message.client_id) this.#outbox.confirm(message.client_id);
    }
    this.#log.noteSeq(chat.last_seq);
    this.#hasMoreBefore = chat.has_more_before;
  }

  #onSocketOpen() {
    this.#subscribe();
    this.#outbox.socketOpened();
  }

  /** Subscribes from the last seq held: the gateway replays what was missed, then goes live. */
  #subscribe() {
    this.#options.socket.send({
      type: 'subscribe',
      channel: 'chat',
      chat_id: this.#chatId,
      after_seq: this.#log.lastSeq,
    });
  }

  #merge(incoming: readonly SupportMessage[], live: boolean) {
    const mine = incoming.filter((m) => m.chat_id === this.#chatId);
    let changed = false;
    for (const message of mine) {
      if (message.client_id && this.#outbox.confirm(message.client_id)) changed = true;
    }
    const added = this.#log.add(mine);
    if (added.length === 0 && !changed) return;
    this.#options.onChange();
    if (live && added.length > 0) this.#options.onIncoming?.(added);
  }

  #onFrame(frame: ServerFrame) {
    switch (frame.type) {
      case 'subscribed':
        if (frame.channel !== 'chat' || frame.chat_id !== this.#chatId) return;
        this.#rejections = 0;
        if (frame.recovered === false) this.#background(this.reload());
        return;
      case 'rejected':
        if (frame.channel !== 'chat' || (frame.chat_id && frame.chat_id !== this.#chatId)) return;
        this.#onRejected(frame.reason);
        return;
      case 'ack':
        this.#merge([frame.message], false);
        return;
      case 'error':
        if (frame.client_id) this.#outbox.refused(frame.client_id, frame.code, frame.message);
        return;
      case 'new_message':
        if (frame.chat_id === this.#chatId) this.#onNewMessage(frame.message);
        return;
      case 'messages_read':
        if (frame.chat_id === this.#chatId) this.#markLocallyRead(frame.up_to_seq, frame.read_at);
        return;
      default:
        return;
    }
  }

  #onNewMessage(message: SupportMessage) {
    const previous = this.#log.lastSeq;
    this.#merge([message], true);
    // Seqs are gap-free: a jump means frames were lost, so fetch what lies between.
    if (message.seq > previous + 1) this.#background(this.#catchUpFrom(previous));
  }

  async #catchUpFrom(afterSeq: number) {
    const page = await this.#options.api.messagesAfter(afterSeq);
    this.#merge(page.messages, true);
    if (page.has_more) await this.catchUp();
  }

  #onRejected(reason: string) {
    // Once: the chat may have changed under us, so reload and subscribe again.
    // Twice in a row: stop instead of looping.
    this.#rejections += 1;
    if (this.#rejections > 1) {
      this.#options.onRejected?.(reason);
      return;
    }
    this.#background(this.reload().then(() => this.#subscribe()));
  }

  #markLocallyRead(upToSeq: number, readAt: string) {
    if (this.#log.markRead('admin', upToSeq, readAt)) this.#options.onChange();
  }

  #background(work: Promise<unknown>) {
    work.catch((error: unknown) => this.#options.onError?.(error));
  }
}

export type { PendingSend, PendingStatus } from './outbox.ts';
