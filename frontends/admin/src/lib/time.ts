import { formatMessageTime } from '@parley/chat-client/time-format';
import { t } from './strings.ts';

/** The console's language; message times use the same per-locale format as the widget. */
export const consoleLocale = 'en-US';

export function relativeTime(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return t.justNow;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return t.minutesAgo(minutes);
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return t.hoursAgo(hours);
  return t.daysAgo(Math.floor(hours / 24));
}

export function secondsSince(iso: string, now: number): number {
  return Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
}

const dayFormat = new Intl.DateTimeFormat('en-US', {
  weekday: 'long',
  month: 'long',
  day: 'numeric',
});
const dateTimeFormat = new Intl.DateTimeFormat('en-US', {
  dateStyle: 'medium',
  timeStyle: 'short',
});

/** "Monday, January 29": the date dividers between days in a chat (docs/PRODUCT.md). */
export function dayLabel(iso: string): string {
  return dayFormat.format(new Date(iso));
}

/** A key that is equal for two timestamps on the same local day. */
export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** "10:30 AM". */
export function timeLabel(iso: string): string {
  return formatMessageTime(iso, consoleLocale);
}

export function dateTimeLabel(iso: string): string {
  return dateTimeFormat.format(new Date(iso));
}

/** The visitor's wall clock in their own time zone, if the widget reported one. */
export function localTimeIn(timezone: string, now: number): string {
  try {
    return new Intl.DateTimeFormat('en-US', {
      hour: 'numeric',
      minute: '2-digit',
      timeZone: timezone,
    }).format(new Date(now));
  } catch {
    return timezone;
  }
}
