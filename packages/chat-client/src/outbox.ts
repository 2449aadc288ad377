import type {
  Attachment,
  AttachmentId,
  ChatId,
  ClientId,
  SupportMessage,
} from '@parley/contracts/models';
import type { SendMessageFrame } from '@parley/contracts/ws';
import { backoffDelay } from './backoff.ts';
import { ApiError, errorMessage, isRetryable, isRetryableCode } from './errors.ts';

export type PendingStatus = 'uploading' | 'queued' | 'sending' | 'failed';

/** A message the person wrote that the server has not confirmed yet. */
export interface PendingSend {
  readonly client_id: ClientId;
  readonly content: string;
  readonly created_at: string;
  readonly status: PendingStatus;
  /** Why it failed for good (status `failed`): which step, and the server's words. */
  readonly error: { step: 'upload' | 'send'; message: string } | null;
  readonly attachments: readonly Attachment[];
}

export interface OutboxPorts {
  chatId(): ChatId;
  /** Sends the frame over the socket when it is open; false when it is not. */
  sendFrame(frame: SendMessageFrame): boolean;
  /** The REST twin of the frame. */
  sendRest(body: {
    content: string;
    client_id: ClientId;
    attachment_ids: AttachmentId[];
  }): Promise<{ message: SupportMessage }>;
  /** The server stored it (an ack or a REST answer). */
  delivered(message: SupportMessage): void;
  changed(): void;
}

export interface OutboxOptions {
  /** An ack that has not come by then sends the same message over REST. */
  ackTimeoutMs?: number;
  /** A REST send that has not answered by then counts as a timeout (and is retried). */
  restTimeoutMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

interface Entry {
  client_id: ClientId;
  content: string;
  created_at: string;
  status: PendingStatus;
  error: PendingSend['error'];
  attachments: Attachment[];
  upload: (() => Promise<Attachment[]>) | null;
  attempts: number;
  /** Not before this time (ms): a retry's backoff. */
  retryAt: number;
  /** The last socket send got no ack in time: try REST next. */
  preferRest: boolean;
  ackTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Sends in the order written, each exactly once: over the socket with an ack, else (or when the
 * ack is late) over REST with the same client_id, which the server stores once. Failures that a
 * later try can fix (unavailable, rate limited, timeouts, a dropped socket) are retried with
 * backoff; only a permanent refusal marks the message failed for the person to act on.
 */
export class Outbox {
  #entries: Entry[] = [];
  #view: PendingSend[] = [];
  #flushing = false;
  #flushAgain = false;
  #wakeTimer: ReturnType<typeof setTimeout> | undefined;
  #ports: OutboxPorts;
  #ackTimeoutMs: number;
  #restTimeoutMs: number;
  #retryBaseMs: number;
  #retryMaxMs: number;

  constructor(ports: OutboxPorts, options: OutboxOptions = {}) {
    this.#ports = ports;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 8_000;
    this.#restTimeoutMs = options.restTimeoutMs ?? 10_000;
    this.#retryBaseMs = options.retryBaseMs ?? 1_000;
    this.#retryMaxMs = options.retryMaxMs ?? 30_000;
  }

  /** What to render; a new array after every change. */
  get pending(): readonly PendingSend[] {
    return this.#view;
  }

  add(
    clientId: ClientId,
    content: string,
    createdAt: string,
    carries: { attachments: Attachment[]; upload: (() => Promise<Attachment[]>) | null },
  ): void {
    const { upload } = carries;
    this.#entries.push({
      client_id: clientId,
      content,
      created_at: createdAt,
      status: upload ? 'uploading' : 'queued',
      error: null,
      attachments: carries.attachments,
      upload,
      attempts: 0,
      retryAt: 0,
      preferRest: false,
      ackTimer: undefined,
    });
    this.#changed();
    void this.flush();
  }

  /** The person asks to try a failed message again. */
  retry(clientId: ClientId): void {
    const entry = this.#find(clientId);
    if (!entry || entry.status !== 'failed') return;
    entry.status = entry.upload ? 'uploading' : 'queued';
    entry.error = null;
    entry.attempts = 0;
    entry.retryAt = 0;
    this.#changed();
    void this.flush();
  }

  /** The server confirmed this client_id (ack, REST answer, broadcast or replay). */
  confirm(clientId: ClientId): boolean {
    const index = this.#entries.findIndex((e) => e.client_id === clientId);
    if (index < 0) return false;
    const [entry] = this.#entries.splice(index, 1);
    clearTimeout(entry?.ackTimer);
    this.#changed();
    return true;
  }

  /** An `error` frame answered a socket send. */
  refused(clientId: string, code: string, message: string): void {
    const entry = this.#entries.find((e) => e.client_id === clientId);
    if (!entry || entry.status !== 'sending') return;
    clearTimeout(entry.ackTimer);
    if (isRetryableCode(code)) this.#retryLater(entry);
    else this.#fail(entry, 'send', message);
  }

  /** The socket dropped: nothing in flight over it will be acked; send again (same client_id). */
  socketLost(): void {
    for (const entry of this.#entries) {
      if (entry.status !== 'sending' || entry.ackTimer === undefined) continue;
      clearTimeout(entry.ackTimer);
      entry.ackTimer = undefined;
      entry.status = 'queued';
    }
    this.#changed();
    void this.flush();
  }

  /** A fresh connection: whatever waits for a backoff goes now. */
  socketOpened(): void {
    for (const entry of this.#entries) entry.retryAt = 0;
    void this.flush();
  }

  dispose(): void {
    clearTimeout(this.#wakeTimer);
    for (const entry of this.#entries) clearTimeout(entry.ackTimer);
  }

  async flush(): Promise<void> {
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
    // A snapshot: confirmations remove entries while this loop awaits.
    for (const entry of [...this.#entries]) {
      if (!this.#entries.includes(entry)) continue;
      if (entry.status === 'failed' || entry.status === 'sending') continue;
      // In order: a later message never overtakes one that waits for its retry.
      if (entry.retryAt > Date.now()) return this.#wakeAt(entry.retryAt);
      if (entry.status === 'uploading' && !(await this.#upload(entry))) {
        if ((entry.status as PendingStatus) !== 'failed') return this.#wakeAt(entry.retryAt);
        continue;
      }
      await this.#deliver(entry);
      if (entry.status === 'queued' && this.#entries.includes(entry))
        return this.#wakeAt(entry.retryAt);
    }
  }

  async #upload(entry: Entry): Promise<boolean> {
    if (!entry.upload) return true;
    try {
      entry.attachments = await entry.upload();
      entry.upload = null;
      entry.status = 'queued';
      this.#changed();
      return true;
    } catch (error) {
      if (isRetryable(error)) this.#retryLater(entry);
      else this.#fail(entry, 'upload', errorMessage(error));
      return false;
    }
  }

  async #deliver(entry: Entry): Promise<void> {
    const body = {
      content: entry.content,
      client_id: entry.client_id,
      attachment_ids: entry.attachments.map((a) => a.id as AttachmentId),
    };
    const frame = { type: 'send_message' as const, chat_id: this.#ports.chatId(), ...body };
    if (!entry.preferRest && this.#ports.sendFrame(frame)) {
      entry.status = 'sending';
      entry.ackTimer = setTimeout(() => this.#ackLate(entry), this.#ackTimeoutMs);
      this.#changed();
      return;
    }
    entry.status = 'sending';
    entry.preferRest = false;
    this.#changed();
    try {
      const result = await withTimeout(this.#ports.sendRest(body), this.#restTimeoutMs);
      this.#ports.delivered(result.message);
    } catch (error) {
      if (!this.#entries.includes(entry)) return;
      if (isRetryable(error)) this.#retryLater(entry);
      else this.#fail(entry, 'send', errorMessage(error));
    }
  }

  #ackLate(entry: Entry) {
    entry.ackTimer = undefined;
    if (!this.#entries.includes(entry) || entry.status !== 'sending') return;
    entry.status = 'queued';
    entry.preferRest = true;
    this.#changed();
    void this.flush();
  }

  #retryLater(entry: Entry) {
    entry.status = entry.upload ? 'uploading' : 'queued';
    entry.retryAt = Date.now() + backoffDelay(entry.attempts, this.#retryBaseMs, this.#retryMaxMs);
    entry.attempts += 1;
    this.#changed();
    this.#wakeAt(entry.retryAt);
  }

  #fail(entry: Entry, step: 'upload' | 'send', message: string) {
    entry.status = 'failed';
    entry.error = { step, message };
    this.#changed();
  }

  #wakeAt(at: number) {
    clearTimeout(this.#wakeTimer);
    this.#wakeTimer = setTimeout(() => void this.flush(), Math.max(0, at - Date.now()));
  }

  #find(clientId: ClientId): Entry | undefined {
    return this.#entries.find((e) => e.client_id === clientId);
  }

  #changed() {
    this.#view = this.#entries.map((e) => ({
      client_id: e.client_id,
      content: e.content,
      created_at: e.created_at,
      status: e.status,
      error: e.error,
      attachments: e.attachments,
    }));
    this.#ports.changed();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new ApiError('timeout', 0, `no answer in ${ms / 1000} s`)),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
