import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { ChatId, ClientId, SupportMessage } from '@parley/contracts/models';
import { Conversation, type ConversationApi, type ConversationOptions } from './conversation.ts';
import { ApiError } from './errors.ts';
import { FakeChannel } from './testing/fakes.ts';

const chatId = 'chat-1' as ChatId;

function message(seq: number, extra: Partial<SupportMessage> = {}): SupportMessage {
  return {
    id: `m${seq}`,
    chat_id: chatId,
    content: `message ${seq}`,
    sender_type: 'admin',
    sender_id: 'op-1',
    sender_name: 'Ada',
    read_at: null,
    created_at: new Date(2026, 0, 1, 0, 0, seq).toISOString(),
    client_id: null,
    seq,
    attachments: [],
    ...extra,
  } as SupportMessage;
}

/** A server's answer to a send: the stored message for that client_id. */
function stored(seq: number, body: { content: string; client_id: ClientId }): SupportMessage {
  return message(seq, { sender_type: 'user', content: body.content, client_id: body.client_id });
}

function fakeApi(overrides: Partial<Omit<ConversationApi, 'sendMessage'>> = {}) {
  let nextSeq = 10;
  const api = {
    getChat: vi.fn(async () => ({
      id: chatId,
      messages: [message(1), message(2)],
      has_more_before: false,
      last_seq: 2,
    })),
    messagesAfter: vi.fn(async (_after: number) => ({
      messages: [] as SupportMessage[],
      has_more: false,
    })),
    messagesBefore: vi.fn(async (_before: number) => ({ messages: [], has_more: false })),
    sendMessage: vi.fn(async (body: { content: string; client_id: ClientId }) => ({
      message: stored(nextSeq++, body),
    })),
    markRead: vi.fn(async () => ({ up_to_seq: 2, read_at: '2026-01-01T00:01:00.000Z' })),
    ...overrides,
  };
  return api;
}

function setup(options: Partial<ConversationOptions> & { api?: ConversationApi } = {}) {
  const socket = new FakeChannel();
  const api = options.api ?? fakeApi();
  const incoming: SupportMessage[] = [];
  const conversation = new Conversation({
    api,
    socket,
    chat: { id: chatId, messages: [message(1), message(2)], has_more_before: true, last_seq: 2 },
    onChange: () => undefined,
    onIncoming: (messages) => incoming.push(...messages),
    retryBaseMs: 1_000,
    ...options,
  });
  return { conversation, socket, api, incoming };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('conversation: order and dedupe', () => {
  test('being built announces nothing (a wrapper cannot read it half-made)', () => {
    const onChange = vi.fn();
    const { socket } = setup({ onChange });
    expect(onChange).not.toHaveBeenCalled();
    expect(socket.sentOfType('subscribe')).toEqual([
      { type: 'subscribe', channel: 'chat', chat_id: chatId, after_seq: 2 },
    ]);
  });

  test('messages are kept in seq order whatever order they arrive in', () => {
    const { conversation, socket } = setup();
    socket.push({ type: 'new_message', chat_id: chatId, message: message(4) });
    socket.push({ type: 'new_message', chat_id: chatId, message: message(3) });
    expect(conversation.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });

  test('the same message from an ack, a broadcast and a catch-up page shows once', async () => {
    const api = fakeApi({
      messagesAfter: vi.fn(async () => ({ messages: [message(3), message(4)], has_more: false })),
    });
    const { conversation, socket } = setup({ api });
    socket.push({ type: 'new_message', chat_id: chatId, message: message(3) });
    socket.push({ type: 'new_message', chat_id: chatId, message: message(3) });
    await conversation.catchUp();
    expect(conversation.messages.map((m) => m.id)).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  test("another chat's messages are ignored", () => {
    const { conversation, socket } = setup();
    socket.push({
      type: 'new_message',
      chat_id: 'chat-2' as ChatId,
      message: message(3, { chat_id: 'chat-2' as ChatId }),
    });
    expect(conversation.messages).toHaveLength(2);
  });
});

describe('conversation: pending sends', () => {
  test('a send goes over the socket and the ack replaces the pending copy', () => {
    const { conversation, socket, api } = setup();
    const clientId = conversation.send('hello');
    const [frame] = socket.sentOfType('send_message');
    expect(frame).toMatchObject({ chat_id: chatId, content: 'hello', client_id: clientId });
    expect(conversation.pending).toMatchObject([{ client_id: clientId, status: 'sending' }]);
    const storedMessage = stored(3, { content: 'hello', client_id: clientId });
    socket.push({ type: 'ack', client_id: clientId, message: storedMessage, duplicate: false });
    // The broadcast of the same message after the ack changes nothing.
    socket.push({ type: 'new_message', chat_id: chatId, message: storedMessage });
    expect(conversation.pending).toEqual([]);
    expect(conversation.messages.filter((m) => m.client_id === clientId)).toHaveLength(1);
    expect(api.sendMessage).not.toHaveBeenCalled();
  });

  test('no ack in time: the same client_id goes over REST', async () => {
    const { conversation, api } = setup({ ackTimeoutMs: 5_000 });
    const clientId = conversation.send('hello');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(api.sendMessage).toHaveBeenCalledWith(
      expect.objectContaining({ client_id: clientId, content: 'hello' }),
    );
    expect(conversation.pending).toEqual([]);
    expect(conversation.messages.at(-1)?.client_id).toBe(clientId);
  });

  test('with the socket down it sends over REST; unavailable is retried with backoff', async () => {
    let calls = 0;
    const api = fakeApi();
    const send = api.sendMessage.getMockImplementation()!;
    api.sendMessage.mockImplementation(async (body) => {
      calls += 1;
      if (calls <= 2) throw new ApiError('unavailable', 503, 'chat is down');
      return send(body);
    });
    const { conversation, socket } = setup({ api });
    socket.setState('closed');
    const clientId = conversation.send('hello');
    await vi.advanceTimersByTimeAsync(0);
    expect(conversation.pending).toMatchObject([{ status: 'queued', error: null }]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toBe(3);
    expect(api.sendMessage.mock.calls.every(([body]) => body.client_id === clientId)).toBe(true);
    expect(conversation.pending).toEqual([]);
  });

  test('a REST send that never answers counts as a timeout and is retried', async () => {
    const api = fakeApi();
    const send = api.sendMessage.getMockImplementation()!;
    api.sendMessage.mockImplementationOnce(() => new Promise(() => undefined));
    api.sendMessage.mockImplementation(send);
    const { conversation, socket } = setup({ api, restTimeoutMs: 4_000 });
    socket.setState('closed');
    conversation.send('hello');
    await vi.advanceTimersByTimeAsync(4_000);
    expect(conversation.pending).toMatchObject([{ status: 'queued' }]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(api.sendMessage).toHaveBeenCalledTimes(2);
    expect(conversation.pending).toEqual([]);
  });

  test('a permanent refusal marks the message failed until the person retries', async () => {
    const api = fakeApi();
    const send = api.sendMessage.getMockImplementation()!;
    api.sendMessage.mockRejectedValueOnce(new ApiError('bad_request', 400, 'content too long'));
    api.sendMessage.mockImplementation(send);
    const { conversation, socket } = setup({ api });
    socket.setState('closed');
    const clientId = conversation.send('hello');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(conversation.pending).toMatchObject([
      { status: 'failed', error: { step: 'send', message: 'content too long' } },
    ]);
    expect(api.sendMessage).toHaveBeenCalledOnce();
    conversation.retry(clientId);
    await vi.advanceTimersByTimeAsync(0);
    expect(conversation.pending).toEqual([]);
  });

  test('an error frame: rate_limited is retried, forbidden fails', async () => {
    const { conversation, socket } = setup();
    const first = conversation.send('one');
    socket.push({ type: 'error', client_id: first, code: 'rate_limited', message: 'slow down' });
    expect(conversation.pending).toMatchObject([{ status: 'queued' }]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(socket.sentOfType('send_message').filter((f) => f.client_id === first)).toHaveLength(2);
    socket.push({ type: 'error', client_id: first, code: 'forbidden', message: 'chat closed' });
    expect(conversation.pending).toMatchObject([
      { status: 'failed', error: { message: 'chat closed' } },
    ]);
  });

  test('a socket that drops before the ack: the message goes again with the same client_id', async () => {
    const api = fakeApi();
    api.sendMessage.mockImplementation(async () => {
      throw new ApiError('network', 0, 'offline');
    });
    const { conversation, socket } = setup({ api });
    const clientId = conversation.send('hello');
    socket.setState('closed');
    await vi.advanceTimersByTimeAsync(0);
    expect(conversation.pending).toMatchObject([{ client_id: clientId, status: 'queued' }]);
    socket.setState('open');
    await vi.advanceTimersByTimeAsync(0);
    const frames = socket.sentOfType('send_message');
    expect(frames.map((f) => f.client_id)).toEqual([clientId, clientId]);
    socket.push({
      type: 'ack',
      client_id: clientId,
      message: stored(3, { content: 'hello', client_id: clientId }),
      duplicate: true,
    });
    expect(conversation.pending).toEqual([]);
    expect(conversation.messages.filter((m) => m.client_id === clientId)).toHaveLength(1);
  });

  test('messages go in the order written: a later one waits for an earlier retry', async () => {
    const api = fakeApi();
    const send = api.sendMessage.getMockImplementation()!;
    api.sendMessage.mockRejectedValueOnce(new ApiError('unavailable', 503, 'down'));
    api.sendMessage.mockImplementation(send);
    const { conversation, socket } = setup({ api });
    socket.setState('closed');
    conversation.send('first');
    conversation.send('second');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(api.sendMessage.mock.calls.map(([body]) => body.content)).toEqual([
      'first',
      'first',
      'second',
    ]);
    expect(conversation.messages.slice(-2).map((m) => m.content)).toEqual(['first', 'second']);
  });

  test('an upload runs first and its attachments go with the message', async () => {
    const { conversation, socket } = setup();
    const attachment = { id: 'a1', kind: 'image', name: 'x.png' } as never;
    conversation.send('', { upload: async () => [attachment] });
    expect(conversation.pending).toMatchObject([{ status: 'uploading' }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(socket.sentOfType('send_message')[0]?.attachment_ids).toEqual(['a1']);
  });
});

describe('conversation: catch-up', () => {
  test('after a reconnect it subscribes from the last seq held', () => {
    const { socket } = setup();
    socket.push({ type: 'new_message', chat_id: chatId, message: message(3) });
    socket.setState('closed');
    socket.setState('open');
    expect(socket.sentOfType('subscribe').at(-1)).toMatchObject({
      channel: 'chat',
      chat_id: chatId,
      after_seq: 3,
    });
  });

  test('recovered: false reloads the history from scratch', async () => {
    const api = fakeApi({
      getChat: vi.fn(async () => ({
        id: chatId,
        messages: [message(40), message(41)],
        has_more_before: true,
        last_seq: 41,
      })),
    });
    const { conversation, socket } = setup({ api });
    socket.push({ type: 'subscribed', channel: 'chat', chat_id: chatId, recovered: false });
    await vi.advanceTimersByTimeAsync(0);
    expect(conversation.messages.map((m) => m.seq)).toEqual([40, 41]);
    expect(conversation.lastSeq).toBe(41);
  });

  test('a gap in live seqs fetches what lies between', async () => {
    const api = fakeApi({
      messagesAfter: vi.fn(async () => ({ messages: [message(3), message(4)], has_more: false })),
    });
    const { conversation, socket, incoming } = setup({ api });
    socket.push({ type: 'new_message', chat_id: chatId, message: message(5) });
    await vi.advanceTimersByTimeAsync(0);
    expect(api.messagesAfter).toHaveBeenCalledWith(2);
    expect(conversation.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(incoming.map((m) => m.seq)).toEqual([5, 3, 4]);
  });

  test('refused twice in a row: it stops and says why', async () => {
    const onRejected = vi.fn();
    const { socket, api } = setup({ onRejected });
    socket.push({ type: 'rejected', channel: 'chat', chat_id: chatId, reason: 'not yours' });
    await vi.advanceTimersByTimeAsync(0);
    expect(api.getChat).toHaveBeenCalledOnce();
    socket.push({ type: 'rejected', channel: 'chat', chat_id: chatId, reason: 'not yours' });
    expect(onRejected).toHaveBeenCalledWith('not yours');
  });
});

describe('conversation: read marks', () => {
  test("markRead marks the operator's messages read once", async () => {
    const { conversation, api } = setup();
    expect(conversation.unreadFrom('admin')).toBe(2);
    conversation.markRead();
    conversation.markRead();
    await vi.advanceTimersByTimeAsync(0);
    expect(api.markRead).toHaveBeenCalledOnce();
    expect(conversation.unreadFrom('admin')).toBe(0);
  });

  test('a messages_read frame sets read_at up to its seq', () => {
    const { conversation, socket } = setup();
    socket.push({
      type: 'messages_read',
      chat_id: chatId,
      up_to_seq: 1,
      read_at: '2026-01-01T00:02:00.000Z',
    });
    expect(conversation.messages.map((m) => m.read_at)).toEqual(['2026-01-01T00:02:00.000Z', null]);
  });
});
