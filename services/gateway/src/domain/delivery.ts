import type { ChatId, SupportMessage } from '@parley/contracts/models';

/** A page of a chat's messages after a seq (the chat service's messages_after). */
export type FetchAfter = (
  chatId: ChatId,
  afterSeq: number,
  limit: number,
  /** Operators' subscriptions include internal notes; a visitor's never do. */
  includeInternal: boolean,
) => Promise<{ messages: SupportMessage[]; has_more: boolean; last_seq: number }>;

/** Largest page asked for while filling a gap. */
const GAP_PAGE = 1000;

export interface DeliveryPorts {
  fetchAfter: FetchAfter;
  /** True for an operator's connection: internal notes go out too. */
  includeInternal: boolean;
  /** Sends one message to the client. */
  emit(message: SupportMessage): void;
  /** A gap could not be filled; the live message goes out anyway. */
  onGapError?(err: unknown): void;
}

export type ResumeResult =
  | { recovered: true; last_seq: number }
  /** Too much was missed to stream, or the client claims seqs the chat never had. */
  | { recovered: false; last_seq: number };

/**
 * One chat subscription of one connection: messages go out in seq order, each once. Everything
 * runs on one chain, so a replay and the live events arriving meanwhile come out in order; a
 * live message that skips seqs first fetches the missing ones (`fetchAfter`).
 */
export class ChatDelivery {
  active = true;
  private chain: Promise<void> = Promise.resolve();

  readonly chatId: ChatId;
  /** Highest seq the client has; null until the first message (no resume asked). */
  lastSeq: number | null;
  private readonly ports: DeliveryPorts;

  constructor(chatId: ChatId, lastSeq: number | null, ports: DeliveryPorts) {
    this.chatId = chatId;
    this.lastSeq = lastSeq;
    this.ports = ports;
  }

  /** Runs `task` after everything queued so far; the chain continues whatever it does. */
  enqueue(task: () => Promise<void> | void): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Sends the message if it is newer than what the client has. */
  deliverNow(message: SupportMessage): void {
    if (!this.active) return;
    if (this.lastSeq !== null && message.seq <= this.lastSeq) return;
    // The last gate before a visitor's socket: a note is skipped (its seq counts as passed).
    if (message.internal && !this.ports.includeInternal) {
      this.lastSeq = message.seq;
      return;
    }
    this.ports.emit(message);
    this.lastSeq = message.seq;
  }

  /** A live message: queued behind anything in flight, any gap before it filled first. */
  deliverLive(message: SupportMessage): Promise<void> {
    return this.enqueue(async () => {
      try {
        await this.fillGap(message.seq);
      } catch (err) {
        this.ports.onGapError?.(err);
      }
      this.deliverNow(message);
    });
  }

  private async fillGap(beforeSeq: number): Promise<void> {
    while (this.active && this.lastSeq !== null && beforeSeq > this.lastSeq + 1) {
      const from = this.lastSeq;
      const page = await this.ports.fetchAfter(
        this.chatId,
        from,
        Math.min(GAP_PAGE, beforeSeq - 1 - from),
        this.ports.includeInternal,
      );
      for (const m of page.messages) if (m.seq < beforeSeq) this.deliverNow(m);
      if (this.lastSeq === from) return; // nothing newer stored: give up on the gap
    }
  }

  /**
   * Resume after `afterSeq`: `announce` runs first (the subscribed frame), then the missed
   * messages follow in order, unless more than `max` were missed (the client reloads instead).
   */
  resume(afterSeq: number, max: number, announce: (r: ResumeResult) => void): Promise<void> {
    return this.enqueue(async () => {
      const page = await this.ports.fetchAfter(
        this.chatId,
        afterSeq,
        max,
        this.ports.includeInternal,
      );
      if (!this.active) return;
      if (page.has_more || afterSeq > page.last_seq) {
        this.lastSeq = page.last_seq;
        announce({ recovered: false, last_seq: page.last_seq });
        return;
      }
      announce({ recovered: true, last_seq: page.last_seq });
      for (const message of page.messages) this.deliverNow(message);
    });
  }

  close(): void {
    this.active = false;
  }
}
