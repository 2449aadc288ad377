import { DateTime } from 'luxon';
import type { Availability, BusinessHours, OperatorPresence, Weekday } from '@parley/contracts';

/** No schedule: open whenever an operator is online. */
export const defaultBusinessHours: BusinessHours = {
  enabled: false,
  time_zone: 'UTC',
  weekly: {
    monday: [],
    tuesday: [],
    wednesday: [],
    thursday: [],
    friday: [],
    saturday: [],
    sunday: [],
  },
  holidays: [],
};

const weekdays: readonly Weekday[] = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
];

/** How far ahead the next opening is looked for (covers a long holiday stretch). */
const LOOKAHEAD_DAYS = 21;

function at(day: DateTime, clock: string): DateTime {
  const [h, m] = clock.split(':').map(Number) as [number, number];
  // "24:00" is the start of the next day.
  return h === 24 ? day.plus({ days: 1 }).startOf('day') : day.set({ hour: h, minute: m });
}

/** The opening stretches of one local calendar day, as instants (none on a holiday). */
function stretchesOf(
  hours: BusinessHours,
  day: DateTime,
): Array<{ open: DateTime; close: DateTime }> {
  if (hours.holidays.includes(day.toISODate() ?? '')) return [];
  const weekday = weekdays[day.weekday - 1] as Weekday;
  return hours.weekly[weekday]
    .map((i) => ({ open: at(day, i.open), close: at(day, i.close) }))
    .sort((a, b) => a.open.toMillis() - b.open.toMillis());
}

/**
 * Whether `now` falls within opening hours, and when they next begin if not. Wall-clock times
 * are read in the business time zone, so daylight-saving changes move the instants, not the hours.
 */
export function openingAt(
  hours: BusinessHours,
  now: Date,
): { open: boolean; opensAt: Date | null } {
  if (!hours.enabled) return { open: true, opensAt: null };
  const local = DateTime.fromJSDate(now, { zone: hours.time_zone });
  const today = local.startOf('day');
  // Yesterday's "until 24:00" and today's stretches can both hold `now`.
  for (let offset = -1; offset <= LOOKAHEAD_DAYS; offset++) {
    const day = today.plus({ days: offset });
    for (const s of stretchesOf(hours, day)) {
      if (s.close <= local) continue;
      if (s.open <= local) return { open: true, opensAt: null };
      return { open: false, opensAt: s.open.toJSDate() };
    }
  }
  return { open: false, opensAt: null };
}

/** An operator counts as online when their status is online and a console is connected. */
export function someoneOnline(operators: OperatorPresence[]): boolean {
  return operators.some((o) => o.status === 'online' && o.connections > 0);
}

export function availabilityOf(
  hours: BusinessHours,
  operators: OperatorPresence[],
  now: Date,
): Availability {
  const { open, opensAt } = openingAt(hours, now);
  const state = !open ? 'closed' : someoneOnline(operators) ? 'open' : 'nobody_online';
  return {
    state,
    opens_at: opensAt ? opensAt.toISOString() : null,
    time_zone: hours.time_zone,
  };
}
