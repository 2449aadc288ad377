/**
 * Whether the support desk is open, closed (outside business hours) or has nobody online, read
 * from the gateway's widget config when the panel opens. Imported only by the panel's components,
 * so it loads with the panel, never in the closed widget's first load.
 */
import { WidgetConfigResponse } from '@parley/contracts/http';
import type { Availability } from '@parley/contracts/models';

export const widgetConfigPath = '/api/widget/config';

/** How often an open panel asks again, so "away" ends when an operator comes online. */
const REFRESH_MS = 60_000;

export class DeskAvailability {
  current = $state<Availability | null>(null);
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly origin: string) {}

  async refresh(): Promise<void> {
    try {
      const response = await fetch(this.origin + widgetConfigPath, {
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
