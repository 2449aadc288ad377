/**
 * Whether the support desk is open, closed (outside business hours) or has nobody online, read
 * from the gateway's widget config when the panel opens. Imported only by the panel's components,
 * so it loads with the panel, never in the closed widget's first load.
 */
import { WidgetConfigResponse } from '@parley/contracts/http';
import type { Availability } from '@parley/contracts/models';
import type { Translate } from './i18n.ts';

export const widgetConfigPath = '/api/widget/config';

/** How often an open panel asks again, so "away" ends when an operator comes online. */
const REFRESH_MS = 60_000;

export class DeskAvailability {
  current = $state<Availability | null>(null);
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly origin: string) {}

  async refresh(): Promise<void> {
    try {
      const response = await fetch(new URL(widgetConfigPath, this.origin), {
        headers: { accept: 'application/json' },
      });
      if (!response.ok) return;
      const parsed = WidgetConfigResponse.safeParse(await response.json());
      if (parsed.success) this.current = parsed.data.availability;
    } catch {
      // Unknown availability shows nothing: the visitor can still write as usual.
    }
  }

  start(): () => void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    return () => clearInterval(this.timer);
  }

  get away(): boolean {
    return this.current !== null && this.current.state !== 'open';
  }
}

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
