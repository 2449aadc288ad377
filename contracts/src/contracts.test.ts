import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildAll } from '../scripts/write-json-schema.ts';
import { SupportChatListItem, SupportMessage, AdminSupportChat } from './models.ts';
import { ClientFrame, ServerFrame, ChatUnassignedFrame, UnassignReason } from './ws.ts';
import { SendMessageRequest } from './http.ts';
import { eventCatalog } from './nats.ts';

const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/contracts');
const chatId = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';

describe('contracts', () => {
  it('keeps the wire field names clients depend on', () => {
    expect(Object.keys(SupportMessage.shape)).toEqual(
      expect.arrayContaining(['id', 'content', 'sender_type', 'read_at', 'created_at']),
    );
    expect(Object.keys(SupportChatListItem.shape)).toEqual(
      expect.arrayContaining([
        'id',
        'user_id',
        'user_email',
        'last_message_at',
        'last_message_preview',
        'last_message_sender',
        'message_count',
        'unread',
        'archived',
      ]),
    );
    expect(Object.keys(AdminSupportChat.shape)).toEqual(
      expect.arrayContaining(['id', 'user_id', 'user_email', 'archived', 'messages']),
    );
  });

  it('rejects operator injection and blank content in frames', () => {
    const injected = ClientFrame.safeParse({
      type: 'subscribe',
      channel: 'chat',
      chat_id: { $ne: null },
    });
    expect(injected.success).toBe(false);
    const blank = ClientFrame.safeParse({
      type: 'send_message',
      chat_id: chatId,
      content: '   ',
      client_id: crypto.randomUUID(),
    });
    expect(blank.success).toBe(false);
    const ok = ClientFrame.parse({
      type: 'send_message',
      chat_id: chatId,
      content: '  hello  ',
      client_id: crypto.randomUUID(),
    });
    expect(ok.type === 'send_message' && ok.content).toBe('hello');
  });

  it('parses the seed frame names', () => {
    expect(
      ServerFrame.safeParse({
        type: 'rejected',
        channel: 'chat',
        chat_id: chatId,
        reason: 'forbidden',
      }).success,
    ).toBe(true);
    expect(
      ServerFrame.safeParse({ type: 'new_message', chat_id: chatId, message: {} }).success,
    ).toBe(false);
  });

  it('accepts and refuses the same send in a frame and in a REST body', () => {
    const clientId = '2c5e28ba-2fa1-41d2-883f-0016d3cca427';
    const bodies = [
      { content: ' hi ', client_id: clientId },
      { content: '   ', client_id: clientId },
      { content: '', client_id: clientId, attachment_ids: [chatId] },
      { content: 'x', client_id: 'not-a-uuid' },
      { content: 'x', client_id: clientId, attachment_ids: Array(11).fill(chatId) },
    ];
    const verdicts = bodies.map((b) => [
      SendMessageRequest.safeParse(b).success,
      ClientFrame.safeParse({ type: 'send_message', chat_id: chatId, ...b }).success,
    ]);
    expect(verdicts).toEqual([
      [true, true],
      [false, false],
      [true, true],
      [false, false],
      [false, false],
    ]);
    const frame = ClientFrame.parse({ type: 'send_message', chat_id: chatId, ...bodies[0] });
    expect(frame).toMatchObject({ content: 'hi', attachment_ids: [] });
  });

  it('names one set of unassign reasons for the event and the frame', () => {
    for (const reason of UnassignReason.options) {
      const payload = { chat_id: chatId, operator_id: chatId, reason };
      expect(eventCatalog['routing.evt.unassigned'].safeParse(payload).success).toBe(true);
      expect(ChatUnassignedFrame.safeParse({ type: 'chat_unassigned', ...payload }).success).toBe(
        true,
      );
    }
    const bad = { chat_id: chatId, operator_id: chatId, reason: 'lunch' };
    expect(eventCatalog['routing.evt.unassigned'].safeParse(bad).success).toBe(false);
  });

  it('docs/contracts is up to date (run `npm run contracts:schema`)', () => {
    for (const [file, content] of Object.entries(buildAll())) {
      const onDisk = JSON.parse(readFileSync(path.join(docs, file), 'utf8')) as unknown;
      expect(onDisk, file).toEqual(JSON.parse(JSON.stringify(content)));
    }
  });
});

describe('free text is well formed', () => {
  it('replaces lone surrogates in names, emails, message text and pages, keeps pairs', async () => {
    const { VisitorName, VisitorEmail, MessageContent, PageInfo } = await import('./models.ts');
    expect(VisitorName.parse(' Eve \ud800 x ')).toBe('Eve \ufffd x');
    expect(VisitorEmail.safeParse('a\udc00@example.com').success).toBe(false);
    expect(MessageContent.parse('hi \ud83d\ude00 \ud83d')).toBe('hi \ud83d\ude00 \ufffd');
    expect(PageInfo.parse({ url: 'https://x.example/\udfff', title: '\ud800' })).toEqual({
      url: 'https://x.example/\ufffd',
      title: '\ufffd',
    });
  });
});
