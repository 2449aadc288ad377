import type { SupportMessage } from '@parley/contracts/models';

/**
 * A chat's messages in the chat's own order (seq), each once: a resend, a replay after a
 * reconnect, a REST page and a live broadcast may all carry the same message.
 */
export class MessageLog {
  #list: SupportMessage[] = [];
  #byId = new Map<string, SupportMessage>();
  #lastSeq = 0;

  /** The messages, sorted by seq; a new array after every change. */
  get messages(): readonly SupportMessage[] {
    return this.#list;
  }

  /** The highest seq held (or known from the chat): the resume point after a reconnect. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  noteSeq(seq: number): void {
    this.#lastSeq = Math.max(this.#lastSeq, seq);
  }

  clear(): void {
    this.#list = [];
    this.#byId.clear();
    this.#lastSeq = 0;
  }

  /** Adds the messages not held yet; returns those it added. */
  add(incoming: readonly SupportMessage[]): SupportMessage[] {
    const added: SupportMessage[] = [];
    for (const message of incoming) {
      if (this.#byId.has(message.id)) continue;
      this.#byId.set(message.id, message);
      added.push(message);
      this.noteSeq(message.seq);
    }
    if (added.length > 0) this.#list = [...this.#list, ...added].sort((a, b) => a.seq - b.seq);
    return added;
  }

  /** Sets read_at on messages from `sender` up to `upToSeq`; returns whether any changed. */
  markRead(sender: SupportMessage['sender_type'], upToSeq: number, readAt: string): boolean {
    let changed = false;
    const next = this.#list.map((message) => {
      if (message.sender_type !== sender || message.read_at !== null || message.seq > upToSeq)
        return message;
      changed = true;
      const read = { ...message, read_at: readAt };
      this.#byId.set(read.id, read);
      return read;
    });
    if (changed) this.#list = next;
    return changed;
  }
}
