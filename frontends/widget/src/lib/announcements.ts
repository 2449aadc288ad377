/** What the screen-reader live region says when the chat changes under the visitor. */
import type { RoutingSession, SupportMessage } from '@parley/contracts/models';
import type { CoreTranslate } from './i18n.ts';

/** An operator joined, or the chat ended; null when nothing worth saying changed. */
export function sessionAnnouncement(
  previous: RoutingSession | null,
  session: RoutingSession,
  t: CoreTranslate,
): string | null {
  if (
    session.status === 'active' &&
    session.operator &&
    previous?.operator?.id !== session.operator.id
  ) {
    return t('joined', { name: session.operator.name });
  }
  if (session.status === 'closed' && previous?.status !== 'closed') return t('ended');
  return null;
}

export function messageAnnouncement(message: SupportMessage, t: CoreTranslate): string {
  return t('newMessageFrom', {
    name: message.sender_name ?? t('operator'),
    text: message.content || t(message.attachments[0]?.kind === 'audio' ? 'voiceMessage' : 'image'),
  });
}
