import { describe, expect, it } from 'vitest';
import type { AttachmentId, ChatId, MessageId, UserId } from '@parley/contracts';
import {
  attachmentClaim,
  attachmentRefused,
  countsInList,
  listSummaryAfter,
  mergeVisitor,
  messageCreatedAt,
  notifyClaimRefusal,
  publicAttachment,
  unarchives,
} from './rules.ts';
import type { AttachmentRecord } from './store.ts';

const chatId = '1b4e28ba-2fa1-41d2-883f-0016d3cca427' as ChatId;
const otherChat = '2b4e28ba-2fa1-41d2-883f-0016d3cca427' as ChatId;
const messageId = '3b4e28ba-2fa1-41d2-883f-0016d3cca427' as MessageId;
const otherMessage = '4b4e28ba-2fa1-41d2-883f-0016d3cca427' as MessageId;
const userId = 'visitor-1' as UserId;

const attachment: AttachmentRecord = {
  id: '5b4e28ba-2fa1-41d2-883f-0016d3cca427' as AttachmentId,
  chat_id: chatId,
  kind: 'image',
  content_type: 'image/png',
  size: 12,
  name: 'a.png',
  url: '/api/attachments/5b4e28ba-2fa1-41d2-883f-0016d3cca427',
  storage_key: 'ab/cd',
  message_id: null,
  created_at: '2026-01-01T00:00:00.000Z',
};

describe('attachment rules', () => {
  it('lets a message take an attachment of its own chat that no message carries', () => {
    expect(attachmentClaim(attachment, chatId, messageId)).toEqual({ kind: 'free' });
    expect(attachmentClaim({ ...attachment, message_id: messageId }, chatId, messageId)).toEqual({
      kind: 'mine',
    });
  });

  it('refuses an unknown attachment, one of another chat, and one another message carries', () => {
    expect(attachmentClaim(null, chatId, messageId)).toEqual({ kind: 'foreign' });
    expect(attachmentClaim({ ...attachment, chat_id: otherChat }, chatId, messageId)).toEqual({
      kind: 'foreign',
    });
    expect(attachmentClaim({ ...attachment, message_id: otherMessage }, chatId, messageId)).toEqual(
      { kind: 'held', holder: otherMessage },
    );
    expect(attachmentRefused(attachment.id, 'foreign')).toEqual({
      error: 'attachment_invalid',
      attachment_id: attachment.id,
      reason: 'does not belong to this chat',
    });
    expect(attachmentRefused(attachment.id, 'held')).toMatchObject({
      reason: 'is already attached to a message',
    });
  });

  it('shows clients no storage key, chat or carrying message', () => {
    expect(publicAttachment(attachment)).toEqual({
      id: attachment.id,
      kind: 'image',
      content_type: 'image/png',
      size: 12,
      name: 'a.png',
      url: attachment.url,
    });
  });
});

describe('message rules', () => {
  it('never dates a message before the previous one', () => {
    expect(messageCreatedAt(null, '2026-01-01T00:00:01.000Z')).toBe('2026-01-01T00:00:01.000Z');
    expect(messageCreatedAt('2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z')).toBe(
      '2026-01-01T00:00:01.000Z',
    );
    // A replica whose clock is behind.
    expect(messageCreatedAt('2026-01-01T00:00:05.000Z', '2026-01-01T00:00:01.000Z')).toBe(
      '2026-01-01T00:00:05.000Z',
    );
  });

  it('unarchives only an archived chat, and only when asked', () => {
    expect(unarchives(true, '2026-01-01T00:00:00.000Z')).toBe(true);
    expect(unarchives(true, null)).toBe(false);
    expect(unarchives(false, '2026-01-01T00:00:00.000Z')).toBe(false);
  });

  it('leaves the list preview, its sender and the count as they were for a system line', () => {
    const chat = {
      message_count: 3,
      last_message_preview: 'thanks',
      last_message_sender: 'user',
    } as const;
    expect(countsInList('system')).toBe(false);
    expect(
      listSummaryAfter(chat, { sender_type: 'system', preview: 'Anna joined the chat' }),
    ).toEqual(chat);
    expect(listSummaryAfter(chat, { sender_type: 'admin', preview: 'hello' })).toEqual({
      message_count: 4,
      last_message_preview: 'hello',
      last_message_sender: 'admin',
    });
    expect(listSummaryAfter(chat, { sender_type: 'user', preview: '[image]' })).toMatchObject({
      message_count: 4,
      last_message_sender: 'user',
    });
  });
});

describe('mergeVisitor', () => {
  const now = '2026-01-01T00:00:00.000Z';
  const known = {
    id: userId,
    name: 'Ada',
    email: 'ada@example.com',
    identified: false,
    unsubscribed: false,
  };

  it('creates a profile from what is given, flags off by default', () => {
    expect(
      mergeVisitor(null, { user_id: userId, set: {}, fillOnly: { name: 'Ada' }, now }),
    ).toEqual({
      id: userId,
      name: 'Ada',
      email: null,
      identified: false,
      unsubscribed: false,
    });
  });

  it('overwrites with set and only fills unknown fields with fillOnly', () => {
    expect(
      mergeVisitor(known, {
        user_id: userId,
        set: {},
        fillOnly: { name: 'Eve', email: 'e@x.io' },
        now,
      }),
    ).toEqual(known);
    expect(
      mergeVisitor(
        { ...known, email: null },
        { user_id: userId, set: {}, fillOnly: { email: 'e@x.io' }, now },
      ),
    ).toMatchObject({ name: 'Ada', email: 'e@x.io' });
    expect(
      mergeVisitor(known, { user_id: userId, set: { name: 'Eve', identified: true }, now }),
    ).toMatchObject({ name: 'Eve', email: 'ada@example.com', identified: true });
    expect(
      mergeVisitor(known, { user_id: userId, set: { unsubscribed: true }, now }),
    ).toMatchObject({
      unsubscribed: true,
    });
  });
});

describe('notifyClaimRefusal', () => {
  const chat = { archived_at: null, notified_seq: 0, read_up_to_seq: 0 };

  it('allows the email while the newest reply is unread and not yet emailed', () => {
    expect(notifyClaimRefusal(chat, 3, { seq: 3, read: false })).toBeNull();
  });

  it('names why the email must not go', () => {
    expect(
      notifyClaimRefusal({ ...chat, archived_at: '2026-01-01T00:00:00.000Z' }, 3, {
        seq: 3,
        read: false,
      }),
    ).toBe('archived');
    expect(notifyClaimRefusal({ ...chat, notified_seq: 3 }, 3, { seq: 3, read: false })).toBe(
      'already_notified',
    );
    expect(notifyClaimRefusal(chat, 3, null)).toBe('nothing_unread');
    expect(notifyClaimRefusal(chat, 3, { seq: 3, read: true })).toBe('nothing_unread');
    expect(notifyClaimRefusal({ ...chat, read_up_to_seq: 3 }, 3, { seq: 3, read: false })).toBe(
      'nothing_unread',
    );
  });
});
