/**
 * How both apps write a message's time and a recording's length. One format per locale: the
 * locale's own short time style ("1:15 AM" in English, "01:15" in Chinese and Russian), so the
 * widget and the console never disagree about the same message.
 */
const formats = new Map<string, Intl.DateTimeFormat>();

/** The locale's short clock time of a timestamp (ISO string, epoch ms or Date). */
export function formatMessageTime(
  at: string | number | Date,
  locale: string,
  timeZone?: string,
): string {
  const key = `${locale}|${timeZone ?? ''}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { timeStyle: 'short', timeZone });
    formats.set(key, format);
  }
  return format.format(typeof at === 'string' ? new Date(at) : at);
}

/** A duration as a player shows it: "0:07", "12:30", "1:02:03". */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(Number.isFinite(seconds) ? seconds : 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
