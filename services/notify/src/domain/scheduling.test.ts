import { describe, expect, it } from 'vitest';
import type { ChatId } from '@parley/contracts/models';
import { planForRead, planForReply } from './scheduling.ts';
import type { PendingJob } from './ports.ts';

const chatId = '6f1c2f0e-8a4b-4c1e-9d55-0f3a1b2c3d4e' as ChatId;
const job = (id: string, seq: number, running = false): PendingJob => ({
  id,
  data: { chat_id: chatId, up_to_seq: seq },
  runAt: running ? null : new Date('2026-01-01T00:05:00Z'),
  running,
});
const reply = (seq: number, at = '2026-01-01T00:00:00.000Z') => ({
  chat_id: chatId,
  seq,
  created_at: at,
});

describe('planForReply', () => {
  it('schedules the first reply of a chat at its creation time plus the delay', () => {
    const plan = planForReply([], reply(3, '2026-01-01T00:00:00.000Z'), 300_000);
    expect(plan.create).toEqual({
      data: { chat_id: chatId, up_to_seq: 3 },
      runAt: new Date('2026-01-01T00:05:00.000Z'),
    });
    expect(plan.cancel).toEqual([]);
  });

  it('replaces the pending job when a newer reply arrives (one pending job per chat, pushed back)', () => {
    const plan = planForReply([job('a', 3)], reply(5, '2026-01-01T00:01:00.000Z'), 300_000);
    expect(plan.create?.data.up_to_seq).toBe(5);
    expect(plan.create?.runAt).toEqual(new Date('2026-01-01T00:06:00.000Z'));
    expect(plan.cancel).toEqual(['a']);
  });

  it('schedules nothing for a redelivered reply or an older one', () => {
    expect(planForReply([job('a', 5)], reply(5), 1000)).toEqual({ create: null, cancel: [] });
    expect(planForReply([job('a', 5)], reply(4), 1000)).toEqual({ create: null, cancel: [] });
  });

  it('leaves a running job alone (it steps aside at run time) but still schedules the newer reply', () => {
    const plan = planForReply([job('run', 3, true), job('old', 2)], reply(4), 1000);
    expect(plan.create?.data.up_to_seq).toBe(4);
    expect(plan.cancel).toEqual(['old']);
  });

  it('keeps the run time of a reply whose moment has passed (notify was down): it runs at once', () => {
    const plan = planForReply([], reply(1, '2020-01-01T00:00:00.000Z'), 1000);
    expect(plan.create?.runAt.getTime()).toBeLessThan(Date.now());
  });
});

describe('planForRead', () => {
  it('cancels jobs whose replies were all read, not a newer one nor a running one', () => {
    const pending = [job('read', 4), job('newer', 7), job('running', 3, true)];
    expect(planForRead(pending, 5)).toEqual(['read']);
  });

  it('cancels nothing when nothing is pending', () => {
    expect(planForRead([], 10)).toEqual([]);
  });
});
