import { describe, expect, it } from 'vitest';
import type { SupportMessage } from '@parley/contracts/models';
import { renderTranscript } from './transcript.ts';

const base = {
  chat_id: 'c1',
  sender_id: null,
  read_at: null,
  created_at: '2026-12-02T10:00:00.000Z',
  client_id: null,
  attachments: [],
} as const;
const message = (seq: number, over: Partial<SupportMessage> & Record<string, unknown>) =>
  ({
    ...base,
    id: `m${seq}`,
    seq,
    content: '',
    sender_type: 'user',
    sender_name: null,
    ...over,
  }) as SupportMessage;

describe('the transcript email', () => {
  it('keeps visitor, operator and system lines, links attachments, and leaves internal notes out', () => {
    const rendered = renderTranscript({
      productName: 'Acme',
      publicUrl: 'https://support.example.com',
      visitorName: 'Tom',
      messages: [
        message(1, { content: 'Where is the manual?', sender_name: 'Tom' }),
        message(2, { content: 'Anna joined the chat', sender_type: 'system' }),
        message(3, {
          content: 'Customer is grumpy',
          sender_type: 'note' as never,
          sender_name: 'Anna',
        }),
        message(4, { content: 'Flagged internal', sender_type: 'admin', internal: true }),
        message(5, {
          content: 'Here it is.',
          sender_type: 'admin',
          sender_name: 'Anna',
          attachments: [
            {
              id: 'a1',
              kind: 'image',
              content_type: 'image/png',
              size: 10,
              name: 'manual.png',
              url: '/api/attachments/a1',
            },
          ] as SupportMessage['attachments'],
        }),
      ],
    });
    expect(rendered.count).toBe(3);
    expect(rendered.text).toContain('Tom: Where is the manual?');
    expect(rendered.text).toContain('Anna: Here it is.');
    expect(rendered.text).toContain(
      'Attachment: manual.png https://support.example.com/api/attachments/a1',
    );
    expect(rendered.html).toContain('href="https://support.example.com/api/attachments/a1"');
    for (const part of [rendered.text, rendered.html]) {
      expect(part).not.toContain('grumpy');
      expect(part).not.toContain('Flagged internal');
    }
  });
});
