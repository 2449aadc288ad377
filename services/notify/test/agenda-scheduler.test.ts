/**
 * The JobScheduler port on real Agenda + @agendajs/redis-backend + redis-server: what the
 * domain relies on (idempotent create, per-chat lookup, cancel, a due job runs once).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agenda } from 'agenda';
import type { ChatId } from '@parley/contracts/models';
import { createLogger } from '@parley/runtime';
import { startRedisServer, waitFor, type ManagedProcess } from '@parley/runtime/testing';
import { agendaScheduler, createAgenda, defineUnreadReplyJob } from '../src/adapters/agenda.ts';
import type { UnreadReplyJob } from '../src/domain/ports.ts';

let redis: ManagedProcess;
let agenda: Agenda;
const ran: UnreadReplyJob[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  ({ agenda } = await createAgenda({
    name: 'scheduler-test',
    redis: { url: redis.url, keyPrefix: 'test:' },
    processEveryMs: 100,
    lockLifetimeMs: 5000,
    logger: createLogger('test', 'silent'),
  }));
  defineUnreadReplyJob(
    agenda,
    async (data) => {
      ran.push(data);
      return 'sent';
    },
    createLogger('test', 'silent'),
  );
  await agenda.start();
});

afterAll(async () => {
  await agenda?.stop();
  await redis?.stop();
});

const newChat = () => randomUUID() as ChatId;
const later = () => new Date(Date.now() + 60 * 60_000);

describe('agendaScheduler', () => {
  it('creates one job per (chat, seq) however often it is asked, and finds it by chat', async () => {
    const scheduler = agendaScheduler(agenda);
    const chat = newChat();
    const other = newChat();
    await scheduler.schedule({ chat_id: chat, up_to_seq: 2 }, later());
    await scheduler.schedule({ chat_id: chat, up_to_seq: 2 }, later());
    await scheduler.schedule({ chat_id: other, up_to_seq: 2 }, later());
    const pending = await scheduler.pendingFor(chat);
    expect(pending.map((j) => j.data)).toEqual([{ chat_id: chat, up_to_seq: 2 }]);
    expect(pending[0]?.running).toBe(false);
  });

  it('cancels by id, leaving other jobs alone', async () => {
    const scheduler = agendaScheduler(agenda);
    const chat = newChat();
    await scheduler.schedule({ chat_id: chat, up_to_seq: 3 }, later());
    await scheduler.schedule({ chat_id: chat, up_to_seq: 5 }, later());
    const [first] = (await scheduler.pendingFor(chat)).filter((j) => j.data.up_to_seq === 3);
    expect(await scheduler.cancel([first?.id ?? ''])).toBe(1);
    expect((await scheduler.pendingFor(chat)).map((j) => j.data.up_to_seq)).toEqual([5]);
  });

  it('runs a due job once with its parsed data, then it is no longer pending', async () => {
    const scheduler = agendaScheduler(agenda);
    const chat = newChat();
    await scheduler.schedule({ chat_id: chat, up_to_seq: 7 }, new Date(Date.now() - 1000));
    await waitFor(
      async () =>
        ran.some((d) => d.chat_id === chat) && (await scheduler.pendingFor(chat)).length === 0,
      {
        what: 'the due job to run and be removed',
      },
    );
    expect(ran.filter((d) => d.chat_id === chat)).toEqual([{ chat_id: chat, up_to_seq: 7 }]);
  });

  it('does not run a job whose data breaks the contract, and keeps it as failed', async () => {
    const chat = newChat();
    const job = await agenda
      .create('unread-reply-email', { chat_id: chat, up_to_seq: -1 })
      .schedule(new Date())
      .save();
    await waitFor(
      async () => {
        const { jobs } = await agenda.queryJobs({ id: String(job.attrs._id) });
        return jobs[0]?.failReason ? jobs[0] : undefined;
      },
      { what: 'the invalid job to fail' },
    );
    expect(ran.some((d) => d.chat_id === chat)).toBe(false);
  });
});
