import escapeHtml from 'escape-html';
import type { ChatId, EmailRecord, SupportMessage } from '@parley/contracts/models';
import { sanitizeHeader } from './email.ts';
import type { Mailer } from './ports.ts';

/**
 * Only what the visitor saw belongs in a transcript: their own, the operators' and the system
 * lines. Anything else the chat may hold (operators' internal notes, for one) stays out, even
 * if a later kind of message is added: the list says what goes in, not what stays out.
 */
const VISIBLE_TO_VISITOR = new Set<string>(['user', 'admin', 'system']);

export function visibleToVisitor(message: SupportMessage): boolean {
  const flagged = message as SupportMessage & { internal?: unknown; note?: unknown };
  return VISIBLE_TO_VISITOR.has(message.sender_type) && !flagged.internal && !flagged.note;
}

export interface TranscriptInput {
  productName: string;
  publicUrl: string;
  visitorName: string | null;
  messages: SupportMessage[];
}

function senderOf(m: SupportMessage, product: string): string {
  if (m.sender_type === 'user') return m.sender_name?.trim() || 'You';
  if (m.sender_type === 'system') return product;
  return m.sender_name?.trim() || `${product} Support`;
}

/** The conversation as an email: each line with its time and sender, attachments as links. */
export function renderTranscript(input: TranscriptInput) {
  const product = sanitizeHeader(input.productName);
  const subject = sanitizeHeader(`Your conversation with ${product} support`);
  const lines = input.messages.filter(visibleToVisitor).map((m) => ({
    at: m.created_at.replace('T', ' ').slice(0, 16) + ' UTC',
    from: senderOf(m, product),
    text: m.content,
    links: m.attachments.map((a) => ({ name: a.name, url: `${input.publicUrl}${a.url}` })),
  }));
  const greeting = input.visitorName?.trim() ? `Hi ${input.visitorName.trim()},` : 'Hi,';
  const text = [
    greeting,
    '',
    `Here is your conversation with ${product} support, as you asked.`,
    '',
    ...lines.flatMap((l) => [
      `[${l.at}] ${l.from}: ${l.text}`,
      ...l.links.map((a) => `  Attachment: ${a.name} ${a.url}`),
    ]),
    '',
  ].join('\n');
  const e = escapeHtml;
  const html = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>${e(subject)}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;color:#1f2933;line-height:1.5">
<p>${e(greeting)}</p>
<p>Here is your conversation with ${e(product)} support, as you asked.</p>
${lines
  .map(
    (l) =>
      `<p style="margin:0 0 8px 0"><span style="color:#7b8794">${e(l.at)}</span> <strong>${e(l.from)}</strong><br>${e(l.text)}${l.links
        .map((a) => `<br><a href="${e(a.url)}">${e(a.name)}</a>`)
        .join('')}</p>`,
  )
  .join('\n')}
</body>
</html>
`;
  return { subject, text, html, count: lines.length };
}

/** Sends one transcript: one request, one email (the caller limits how often). */
export async function sendTranscript(deps: {
  mailer: Mailer;
  emailFrom: string;
  chatId: ChatId;
  to: string;
  input: TranscriptInput;
}): Promise<EmailRecord> {
  const rendered = renderTranscript(deps.input);
  return deps.mailer.send({
    to: deps.to,
    from: sanitizeHeader(deps.emailFrom),
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    headers: {},
    chatId: deps.chatId,
  });
}
