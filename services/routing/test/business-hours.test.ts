import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BusinessHours } from '@parley/contracts';
import { startBed, type Bed } from './harness.ts';

let bed: Bed;

beforeAll(async () => {
  bed = await startBed();
});
afterAll(async () => {
  await bed?.stop();
});
beforeEach(async () => {
  await bed.reset();
});

const week = {
  monday: [],
  tuesday: [],
  wednesday: [],
  thursday: [],
  friday: [],
  saturday: [],
  sunday: [],
};
/** Closed every day except an opening two weeks away, so "now" is always outside hours. */
function closedNow(): BusinessHours {
  const inTwoWeeks = new Date(Date.now() + 13 * 86_400_000).toISOString().slice(0, 10);
  const all = Object.fromEntries(
    Object.keys(week).map((d) => [d, [{ open: '09:00', close: '10:00' }]]),
  ) as BusinessHours['weekly'];
  // Every day of the next two weeks but the last is a holiday.
  const holidays = Array.from({ length: 13 }, (_, i) =>
    new Date(Date.now() + i * 86_400_000).toISOString().slice(0, 10),
  );
  expect(holidays).not.toContain(inTwoWeeks);
  return { enabled: true, time_zone: 'UTC', weekly: all, holidays };
}

describe('business hours and availability', () => {
  it('keeps the hours an admin set across replicas and answers availability from them', async () => {
    expect((await bed.request('routing.rpc.business_hours', {})).enabled).toBe(false);
    expect((await bed.request('routing.rpc.availability', {})).state).toBe('nobody_online');

    const hours = closedNow();
    await bed.request('routing.rpc.set_business_hours', { hours });
    expect(await bed.request('routing.rpc.business_hours', {})).toEqual(hours);
    const closed = await bed.request('routing.rpc.availability', {});
    expect(closed.state).toBe('closed');
    expect(closed.opens_at?.slice(11, 16)).toBe('09:00');

    const anna = await bed.operator('Anna');
    await bed.connect(anna);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    expect((await bed.request('routing.rpc.availability', {})).state).toBe('closed');
    await bed.request('routing.rpc.set_business_hours', { hours: { ...hours, enabled: false } });
    expect((await bed.request('routing.rpc.availability', {})).state).toBe('open');
  });

  it('marks a chat written while nobody is online as an offline message, and hands it out when an operator returns', async () => {
    const { chatId } = await bed.visitorWrites({ email: 'vera@example.com' });
    await bed.log.wait('routing.evt.queue_changed', (e) =>
      e.queue.some((q) => q.chat_id === chatId && q.offline_message === true),
    );
    const anna = await bed.operator('Anna');
    await bed.connect(anna);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });
    const assigned = await bed.log.wait(
      'routing.evt.assigned',
      (e) => e.session.chat_id === chatId,
    );
    expect(assigned.session.offline_message).toBe(true);

    // With someone online, the next visitor's chat is an ordinary one.
    const next = await bed.visitorWrites();
    const live = await bed.log.wait(
      'routing.evt.assigned',
      (e) => e.session.chat_id === next.chatId,
    );
    expect(live.session.offline_message).toBe(false);
  });
});
