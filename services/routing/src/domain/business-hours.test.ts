import { describe, expect, it } from 'vitest';
import { BusinessHours, type OperatorId, type OperatorPresence } from '@parley/contracts';
import { availabilityOf, defaultBusinessHours, openingAt } from './business-hours.ts';

const weekdays9to17 = BusinessHours.parse({
  enabled: true,
  time_zone: 'Europe/Berlin',
  weekly: {
    ...defaultBusinessHours.weekly,
    monday: [{ open: '09:00', close: '17:00' }],
    tuesday: [
      { open: '09:00', close: '12:00' },
      { open: '13:00', close: '17:00' },
    ],
    wednesday: [{ open: '09:00', close: '17:00' }],
    thursday: [{ open: '09:00', close: '17:00' }],
    friday: [{ open: '09:00', close: '24:00' }],
  },
  holidays: ['2026-12-24'],
});

const online: OperatorPresence = {
  id: 'op-1' as OperatorId,
  name: 'Anna',
  email: 'anna@example.com',
  role: 'agent',
  status: 'online',
  active_chats: 0,
  max_chats: 3,
  connections: 1,
};

describe('opening hours', () => {
  it('is open inside a stretch, read in the business time zone', () => {
    // Monday 2026-11-30 10:00 in Berlin (UTC+1) is 09:00 UTC.
    expect(openingAt(weekdays9to17, new Date('2026-11-30T09:00:00Z'))).toEqual({
      open: true,
      opensAt: null,
    });
    expect(openingAt(weekdays9to17, new Date('2026-11-30T07:59:00Z')).open).toBe(false);
  });

  it('names the next opening: after the lunch break, and Monday 9:00 after a weekend', () => {
    expect(openingAt(weekdays9to17, new Date('2026-12-01T11:30:00Z')).opensAt).toEqual(
      new Date('2026-12-01T12:00:00Z'),
    );
    // Saturday 2026-12-05 noon → Monday 2026-12-07 09:00 Berlin.
    expect(openingAt(weekdays9to17, new Date('2026-12-05T11:00:00Z')).opensAt).toEqual(
      new Date('2026-12-07T08:00:00Z'),
    );
  });

  it('keeps a "until 24:00" stretch open to midnight and skips holidays', () => {
    // Friday 2026-12-04 23:30 Berlin.
    expect(openingAt(weekdays9to17, new Date('2026-12-04T22:30:00Z')).open).toBe(true);
    // Thursday 2026-12-24 is a holiday: closed, next opening Friday 25th 09:00.
    const xmas = openingAt(weekdays9to17, new Date('2026-12-24T10:00:00Z'));
    expect(xmas).toEqual({ open: false, opensAt: new Date('2026-12-25T08:00:00Z') });
  });

  it('follows daylight saving: 9:00 in Berlin is 07:00 UTC in summer', () => {
    expect(openingAt(weekdays9to17, new Date('2026-06-27T12:00:00Z')).opensAt).toEqual(
      new Date('2026-06-29T07:00:00Z'),
    );
  });

  it('has no next opening when no weekday has hours', () => {
    const never = { ...defaultBusinessHours, enabled: true };
    expect(openingAt(never, new Date())).toEqual({ open: false, opensAt: null });
  });
});

describe('availability', () => {
  it('is open only within hours with an operator online and connected', () => {
    const monday10 = new Date('2026-11-30T09:00:00Z');
    expect(availabilityOf(weekdays9to17, [online], monday10).state).toBe('open');
    expect(availabilityOf(weekdays9to17, [{ ...online, status: 'away' }], monday10).state).toBe(
      'nobody_online',
    );
    expect(availabilityOf(weekdays9to17, [{ ...online, connections: 0 }], monday10).state).toBe(
      'nobody_online',
    );
    expect(availabilityOf(weekdays9to17, [online], new Date('2026-12-05T11:00:00Z'))).toEqual({
      state: 'closed',
      opens_at: '2026-12-07T08:00:00.000Z',
      time_zone: 'Europe/Berlin',
    });
  });

  it('without a schedule depends only on operators', () => {
    expect(availabilityOf(defaultBusinessHours, [], new Date()).state).toBe('nobody_online');
    expect(availabilityOf(defaultBusinessHours, [online], new Date()).state).toBe('open');
  });

  it('rejects an unknown time zone and a stretch that closes before it opens', () => {
    expect(BusinessHours.safeParse({ ...weekdays9to17, time_zone: 'Mars/Olympus' }).success).toBe(
      false,
    );
    const backwards = {
      ...weekdays9to17,
      weekly: { ...weekdays9to17.weekly, monday: [{ open: '17:00', close: '09:00' }] },
    };
    expect(BusinessHours.safeParse(backwards).success).toBe(false);
    expect(BusinessHours.safeParse({ ...weekdays9to17, holidays: ['2026-13-01'] }).success).toBe(
      false,
    );
  });
});
