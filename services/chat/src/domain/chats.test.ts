import { describe, expect, it } from 'vitest';
import { AppError, type ChatId } from '@parley/contracts';
import {
  decodeCursor,
  encodeCursor,
  messagePreview,
  truncatePreview,
  unreadForAdmin,
} from './projections.ts';
import type { ChatRecord } from './store.ts';

describe('truncatePreview (the 100-character list preview)', () => {
  it('keeps short text and cuts long text to 100 characters with an ellipsis', () => {
    expect(truncatePreview('hello')).toBe('hello');
    expect(truncatePreview('x'.repeat(100))).toBe('x'.repeat(100));
    expect(truncatePreview('x'.repeat(101))).toBe(`${'x'.repeat(99)}…`);
  });

  it('never splits an emoji', () => {
    const cut = truncatePreview('😀'.repeat(120));
    expect(Array.from(cut)).toHaveLength(100);
    expect(cut).toBe(`${'😀'.repeat(99)}…`);
  });
});

describe('messagePreview', () => {
  it('flattens whitespace and names attachments when there is no text', () => {
    expect(messagePreview('line one\n\nline two', [])).toBe('line one line two');
    expect(messagePreview('', [{ kind: 'image', name: 'a.png' }])).toBe('[image]');
    expect(
      messagePreview('', [
        { kind: 'audio', name: 'v.webm' },
        { kind: 'image', name: 'b.png' },
      ]),
    ).toBe('[audio] +1');
    expect(messagePreview('', [{ kind: 'file', name: 'report.pdf' }])).toBe('[file] report.pdf');
  });
});

describe('list cursor', () => {
  it('round-trips and rejects anything else with bad_request', () => {
    const cursor = {
      last_message_at: '2026-01-29T10:00:00.000Z',
      id: '0b7c3c9e-0d55-4a51-9d0c-1f5f0b1d2e3f' as ChatId,
    };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    for (const bad of [
      '',
      'abc',
      Buffer.from('{"$ne":null}').toString('base64url'),
      Buffer.from('["x","y"]').toString('base64url'),
    ]) {
      expect(() => decodeCursor(bad)).toThrow(AppError);
    }
  });
});

describe('unreadForAdmin', () => {
  it('compares the newest user message with the last console view', () => {
    const chat = { last_user_seq: 3, admin_viewed_seq: 2 } as ChatRecord;
    expect(unreadForAdmin(chat)).toBe(true);
    expect(unreadForAdmin({ ...chat, admin_viewed_seq: 3 })).toBe(false);
    expect(unreadForAdmin({ ...chat, last_user_seq: 0, admin_viewed_seq: 0 })).toBe(false);
  });
});
