import type { Availability } from '@parley/contracts/models';
import type { Translate } from './i18n.ts';

/** "We're away until Monday 9:00 …", with the opening in the visitor's own time zone and language. */
export function awayText(
  availability: Availability,
  t: Translate,
  locale: string,
  now = new Date(),
): string {
  if (availability.state === 'nobody_online') return t('awayNobody');
  if (!availability.opens_at) return t('awayClosed');
  const opens = new Date(availability.opens_at);
  const sameDay = opens.toDateString() === now.toDateString();
  const withinWeek = opens.getTime() - now.getTime() < 6 * 86_400_000;
  const when = new Intl.DateTimeFormat(locale, {
    ...(sameDay
      ? {}
      : withinWeek
        ? { weekday: 'long' }
        : { weekday: 'long', day: 'numeric', month: 'long' }),
    hour: 'numeric',
    minute: '2-digit',
  }).format(opens);
  return t('awayUntil', { when });
}
