import { describe, expect, it } from 'vitest';
import type { ChatId, MessageId, SupportMessage } from '@parley/contracts/models';
import { previewOf, renderUnreadReplyEmail, sanitizeHeader, truncate } from './email.ts';

function message(content: string, extra: Partial<SupportMessage> = {}): SupportMessage {
  return {
    id: '0b7a4f3e-2c1d-4e5f-8a9b-1c2d3e4f5a6b' as MessageId,
    chat_id: '6f1c2f0e-8a4b-4c1e-9d55-0f3a1b2c3d4e' as ChatId,
    content,
    sender_type: 'admin',
    sender_id: null,
    sender_name: 'Ada',
    read_at: null,
    created_at: '2026-01-01T00:00:00.000Z',
    client_id: null,
    seq: 2,
    attachments: [],
    ...extra,
  };
}

const base = {
  productName: 'Acme',
  subjectTemplate: 'New reply from {product} Support',
  visitorName: 'Grace',
  chatUrl: 'https://chat.example.com/widget/?open=1',
  unsubscribeUrl: 'https://chat.example.com/api/unsubscribe?token=abc.def.ghi',
};

describe('sanitizeHeader', () => {
  it('turns every line break and control character into a space', () => {
    expect(sanitizeHeader('Hi\r\nBcc: victim@example.com')).toBe('Hi Bcc: victim@example.com');
    expect(sanitizeHeader('a\nb\rc\u2028d\u2029e\u0085f\u0000g\tz')).toBe('a b c d e f g z');
  });

  it('caps a header at the RFC 5322 line length', () => {
    expect(sanitizeHeader('x'.repeat(5000))).toHaveLength(998);
  });
});

describe('truncate / previewOf', () => {
  it('keeps short text and cuts long text to 200 characters with an ellipsis', () => {
    expect(truncate('short')).toBe('short');
    const cut = truncate('y'.repeat(300));
    expect(Array.from(cut)).toHaveLength(200);
    expect(cut.endsWith('…')).toBe(true);
  });

  it('never splits an emoji', () => {
    const cut = truncate('😀'.repeat(300));
    expect(cut).toBe(`${'😀'.repeat(199)}…`);
  });

  it('describes an attachment-only reply by its file names', () => {
    const m = message('', {
      attachments: [
        {
          id: '1b7a4f3e-2c1d-4e5f-8a9b-1c2d3e4f5a6b' as SupportMessage['attachments'][number]['id'],
          kind: 'image',
          content_type: 'image/png',
          size: 10,
          name: 'invoice.png',
          url: '/api/attachments/x',
        },
      ],
    });
    expect(previewOf(m)).toBe('Sent an attachment: invoice.png');
  });
});

describe('renderUnreadReplyEmail', () => {
  it('renders the subject from the template and both parts with each reply, the chat link and the unsubscribe link', () => {
    const email = renderUnreadReplyEmail({
      ...base,
      replies: [message('First answer'), message('Second answer', { seq: 3, sender_name: null })],
    });
    expect(email.subject).toBe('New reply from Acme Support');
    expect(email.text).toContain('Hi Grace,');
    expect(email.text).toContain('You have 2 new replies');
    expect(email.text).toContain('Ada: First answer');
    expect(email.text).toContain('Acme Support: Second answer');
    expect(email.text).toContain(base.chatUrl);
    expect(email.text).toContain(base.unsubscribeUrl);
    expect(email.html).toContain('href="https://chat.example.com/widget/?open=1"');
    expect(email.html).toContain(
      'href="https://chat.example.com/api/unsubscribe?token=abc.def.ghi"',
    );
    expect(email.headers['List-Unsubscribe']).toBe(`<${base.unsubscribeUrl}>`);
    expect(email.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
  });

  it('escapes HTML in replies, names and links so nothing in the email is markup from a user', () => {
    const email = renderUnreadReplyEmail({
      ...base,
      visitorName: '<img src=x onerror=alert(1)>',
      replies: [message('<script>alert("x")</script> & "quotes"', { sender_name: '<b>Ada</b>' })],
      chatUrl: 'https://chat.example.com/widget/?open=1&x="><script>',
    });
    expect(email.html).not.toMatch(/<script|<img|<b>/);
    expect(email.html).toContain(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;',
    );
    expect(email.html).toContain('open=1&amp;x=&quot;&gt;&lt;script&gt;');
  });

  it('keeps CR/LF from a product name, subject template or link out of the headers', () => {
    const email = renderUnreadReplyEmail({
      ...base,
      productName: 'Acme\r\nBcc: a@evil.test',
      subjectTemplate: 'Reply\nfrom {product}',
      unsubscribeUrl: 'https://x.test/u?t=1\r\nX-Evil: 1',
      replies: [message('hi')],
    });
    for (const value of [email.subject, ...Object.values(email.headers)]) {
      expect(value).not.toMatch(/[\r\n]/);
    }
    expect(email.subject).toBe('Reply from Acme Bcc: a@evil.test');
  });

  it('previews each reply truncated to 200 characters', () => {
    const email = renderUnreadReplyEmail({ ...base, replies: [message('z'.repeat(1000))] });
    expect(email.text).toContain(`${'z'.repeat(199)}…`);
    expect(email.text).not.toContain('z'.repeat(200));
  });
});
