import escapeHtml from 'escape-html';
import type { SupportMessage } from '@parley/contracts/models';

export const PREVIEW_LENGTH = 200;
/** RFC 5322 line limit; a longer header value is cut rather than folded. */
const MAX_HEADER_LENGTH = 998;

/**
 * A header value that cannot inject headers: every line break (CR, LF, NEL, Unicode line and
 * paragraph separators) and control character becomes a space.
 */
export function sanitizeHeader(value: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = value.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g, ' ');
  return flat.replace(/ {2,}/g, ' ').trim().slice(0, MAX_HEADER_LENGTH);
}

/** At most `max` characters (code points, so no emoji is cut in half), with an ellipsis when cut. */
export function truncate(text: string, max = PREVIEW_LENGTH): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars
    .slice(0, max - 1)
    .join('')
    .trimEnd()}…`;
}

/** What a reply says, for a preview: its text, or the names of its attachments. */
export function previewOf(message: SupportMessage): string {
  const text = message.content.trim();
  if (text) return truncate(text);
  const names = message.attachments.map((a) => a.name).join(', ');
  return truncate(names ? `Sent an attachment: ${names}` : 'Sent an attachment');
}

export interface RenderInput {
  productName: string;
  /** `{product}` is replaced by the product name. */
  subjectTemplate: string;
  visitorName: string | null;
  replies: SupportMessage[];
  chatUrl: string;
  unsubscribeUrl: string;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

/** The unread-reply email (docs/PRODUCT.md): plain text and HTML parts. */
export function renderUnreadReplyEmail(input: RenderInput): RenderedEmail {
  const product = sanitizeHeader(input.productName);
  const subject = sanitizeHeader(input.subjectTemplate.replaceAll('{product}', product));
  const greeting = input.visitorName?.trim() ? `Hi ${input.visitorName.trim()},` : 'Hi,';
  const count = input.replies.length;
  const intro =
    count === 1
      ? `You have a new reply from the ${product} support team:`
      : `You have ${count} new replies from the ${product} support team:`;
  const previews = input.replies.map((m) => ({
    from: m.sender_name?.trim() || `${product} Support`,
    text: previewOf(m),
  }));

  const text = [
    greeting,
    '',
    intro,
    '',
    ...previews.flatMap((p) => [`${p.from}: ${p.text}`, '']),
    `Open the conversation: ${input.chatUrl}`,
    '',
    '--',
    `You receive this email because you contacted ${product} support and had not read a reply yet.`,
    `Unsubscribe: ${input.unsubscribeUrl}`,
    '',
  ].join('\n');

  const e = escapeHtml;
  const html = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>${e(subject)}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;color:#1f2933;line-height:1.5">
<p>${e(greeting)}</p>
<p>${e(intro)}</p>
${previews
  .map(
    (p) =>
      `<blockquote style="margin:0 0 12px 0;padding:8px 12px;border-left:3px solid #3b82f6;background:#f5f7fa"><strong>${e(p.from)}</strong><br>${e(p.text)}</blockquote>`,
  )
  .join('\n')}
<p><a href="${e(input.chatUrl)}" style="display:inline-block;padding:10px 16px;background:#3b82f6;color:#ffffff;text-decoration:none;border-radius:4px">Open the conversation</a></p>
<hr style="border:none;border-top:1px solid #e4e7eb">
<p style="font-size:12px;color:#7b8794">You receive this email because you contacted ${e(product)} support and had not read a reply yet.
<a href="${e(input.unsubscribeUrl)}" style="color:#7b8794">Unsubscribe</a></p>
</body>
</html>
`;

  return {
    subject,
    text,
    html,
    headers: {
      'List-Unsubscribe': sanitizeHeader(`<${input.unsubscribeUrl}>`),
      // RFC 8058: mail clients may unsubscribe with one POST to that URL.
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}
