import { describe, expect, it } from 'vitest';
import type { ChatId, MessageId, SupportMessage } from '@parley/contracts/models';
import { ChatDelivery, type FetchAfter } from './delivery.ts';

const chatId = '6f1c2f0e-8a4b-4c1e-9d55-0f3a1b2c3d4e' as ChatId;

function msg(seq: number): SupportMessage {
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}` as MessageId,
    chat_id: chatId,
    content: `m${seq}`,
    sender_type: 'user',
    sender_id: null,
    sender_name: null,
    read_at: null,
    created_at: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
    client_id: null,
    seq,
    attachments: [],
  };
}

/** The chat service's store in memory: messages 1..lastSeq; each fetch is recorded. */
function fakeChat(lastSeq: number) {
  const calls: Array<{ after: number; limit: number }> = [];
  let release: (() => void) | null = null;
  let gate: Promise<void> | null = null;
  let entered: () => void = () => undefined;
  const fetchAfter: FetchAfter = async (_chat, after, limit) => {
    calls.push({ after, limit });
    // The page is what the store held when asked, however late the answer arrives.
    const last = lastSeq;
    entered();
    if (gate) await gate;
    const messages: SupportMessage[] = [];
    for (let s = after + 1; s <= Math.min(last, after + limit); s++) messages.push(msg(s));
    return { messages, has_more: after + limit < last, last_seq: last };
  };
  return {
    calls,
    fetchAfter,
    /** Holds answers back; resolves once a fetch is waiting. */
    hold(): Promise<void> {
      gate = new Promise<void>((r) => (release = r));
      return new Promise<void>((r) => (entered = r));
    },
    release() {
      gate = null;
      release?.();
    },
    setLast(seq: number) {
      lastSeq = seq;
    },
  };
}

function delivery(
  lastSeq: number | null,
  chat: ReturnType<typeof fakeChat>,
  includeInternal = false,
) {
  const sent: number[] = [];
  const gapErrors: unknown[] = [];
  const sub = new ChatDelivery(chatId, lastSeq, {
    fetchAfter: chat.fetchAfter,
    includeInternal,
    emit: (m) => sent.push(m.seq),
    onGapError: (err) => gapErrors.push(err),
  });
  return { sub, sent, gapErrors };
}

describe('ChatDelivery', () => {
  it('delivers live messages in order, each once', async () => {
    const chat = fakeChat(3);
    const { sub, sent } = delivery(0, chat);
    await Promise.all([sub.deliverLive(msg(1)), sub.deliverLive(msg(2)), sub.deliverLive(msg(2))]);
    await sub.deliverLive(msg(1));
    expect(sent).toEqual([1, 2]);
    expect(chat.calls).toEqual([]);
  });

  it('never emits an internal note to a visitor, and takes its seq as passed', async () => {
    const chat = fakeChat(3);
    const visitor = delivery(1, chat);
    const operator = delivery(1, chat, true);
    const note = { ...msg(2), sender_type: 'admin' as const, internal: true as const };
    for (const d of [visitor, operator]) {
      await d.sub.deliverLive(note);
      await d.sub.deliverLive(msg(3));
    }
    expect(visitor.sent).toEqual([3]);
    expect(operator.sent).toEqual([2, 3]);
    // The note's seq counted as passed: no gap fill for the message after it.
    expect(chat.calls).toEqual([]);
  });

  it('fills a gap before a live message from the chat service', async () => {
    const chat = fakeChat(5);
    const { sub, sent } = delivery(1, chat);
    await sub.deliverLive(msg(5));
    expect(sent).toEqual([2, 3, 4, 5]);
    expect(chat.calls).toEqual([{ after: 1, limit: 3 }]);
  });

  it('still delivers the live message when the gap cannot be filled', async () => {
    const chat = fakeChat(5);
    const failing = new ChatDelivery(chatId, 1, {
      fetchAfter: () => Promise.reject(new Error('chat down')),
      includeInternal: false,
      emit: (m) => sent.push(m.seq),
      onGapError: (err) => errors.push(err),
    });
    const sent: number[] = [];
    const errors: unknown[] = [];
    await failing.deliverLive(msg(5));
    expect(sent).toEqual([5]);
    expect(errors).toHaveLength(1);
    expect(chat.calls).toEqual([]);
  });

  it('gives up on a gap the chat service has nothing for', async () => {
    const chat = fakeChat(1);
    const { sub, sent } = delivery(1, chat);
    await sub.deliverLive(msg(4));
    expect(sent).toEqual([4]);
    expect(chat.calls).toHaveLength(1);
  });

  it('replays what was missed after the announcement, live messages arriving meanwhile after it', async () => {
    const chat = fakeChat(4);
    const { sub, sent } = delivery(2, chat);
    const announced: unknown[] = [];
    const waiting = chat.hold();
    const resumed = sub.resume(2, 100, (r) => {
      announced.push(r);
      sent.push(-1);
    });
    await waiting;
    chat.setLast(5);
    const live = sub.deliverLive(msg(5));
    chat.release();
    await Promise.all([resumed, live]);
    expect(announced).toEqual([{ recovered: true, last_seq: 4 }]);
    expect(sent).toEqual([-1, 3, 4, 5]);
  });

  it('tells the client to reload when more was missed than it replays, or seqs the chat never had', async () => {
    const chat = fakeChat(50);
    const many = delivery(0, chat);
    const announced: unknown[] = [];
    await many.sub.resume(0, 10, (r) => announced.push(r));
    expect(many.sent).toEqual([]);
    expect(many.sub.lastSeq).toBe(50);

    const reset = delivery(80, chat);
    await reset.sub.resume(80, 10, (r) => announced.push(r));
    expect(announced).toEqual([
      { recovered: false, last_seq: 50 },
      { recovered: false, last_seq: 50 },
    ]);
    await reset.sub.deliverLive(msg(51));
    expect(reset.sent).toEqual([51]);
  });

  it('sends nothing once closed', async () => {
    const chat = fakeChat(2);
    const { sub, sent } = delivery(0, chat);
    sub.close();
    await sub.deliverLive(msg(1));
    expect(sent).toEqual([]);
  });
});
