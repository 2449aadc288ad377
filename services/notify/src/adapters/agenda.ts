import { Agenda, backoffStrategies, type Job } from 'agenda';
import { RedisBackend, RedisJobRepository } from '@agendajs/redis-backend';
import type { Db } from 'mongodb';
import { jobCatalog } from '@parley/contracts/jobs';
import type { ChatId } from '@parley/contracts/models';
import { logConnectionErrors, type Logger } from '@parley/runtime';
import type { JobScheduler, PendingJob, UnreadReplyJob } from '../domain/ports.ts';

export const UNREAD_REPLY_JOB = 'unread-reply-email';
const JOBS_COLLECTION = 'notify_jobs';

/** Agenda on MongoDB when a database is given, otherwise on Redis (@agendajs/redis-backend). */
export async function createAgenda(opts: {
  name: string;
  /** The backend opens its own connection (it bundles its own ioredis major). */
  redis?: { url: string; keyPrefix: string };
  mongo?: Db;
  processEveryMs: number;
  lockLifetimeMs: number;
  logger: Logger;
}): Promise<{ agenda: Agenda; redisReady?: () => boolean }> {
  let backend;
  let redisReady: (() => boolean) | undefined;
  if (opts.mongo) {
    const { MongoBackend } = await import('@agendajs/mongo-backend');
    backend = new MongoBackend({ mongo: opts.mongo, collection: JOBS_COLLECTION });
    // pendingFor() looks a chat's jobs up by data.chat_id on every event.
    await opts.mongo.collection(JOBS_COLLECTION).createIndex({ name: 1, 'data.chat_id': 1 });
  } else if (opts.redis) {
    backend = new RedisBackend({
      connectionString: opts.redis.url,
      keyPrefix: `${opts.redis.keyPrefix}agenda:`,
      channelName: `${opts.redis.keyPrefix}agenda:notifications`,
    });
    // The backend's clients come without error listeners: an unlistened ioredis 'error' is only
    // printed, but the notification channel re-emits its subscriber's errors on itself, and an
    // EventEmitter 'error' nobody listens to kills the process. Both reconnect on their own.
    if (!(backend.repository instanceof RedisJobRepository)) throw new Error('unexpected backend');
    const client = backend.repository.getRedis();
    logConnectionErrors(client, opts.logger, 'redis (jobs)');
    logConnectionErrors(backend.notificationChannel, opts.logger, 'redis (job notifications)');
    redisReady = () => client.status === 'ready';
  } else {
    throw new Error('Agenda needs MongoDB or Redis');
  }
  const agenda = new Agenda({
    backend,
    name: opts.name,
    processEvery: opts.processEveryMs,
    defaultLockLifetime: opts.lockLifetimeMs,
    removeOnComplete: true,
  });
  return redisReady ? { agenda, redisReady } : { agenda };
}

/**
 * Runs the unread-reply job. Job data is parsed here, when the job runs: a job whose data no
 * longer fits the contract fails with a clear reason and is kept (not retried, not lost).
 */
export function defineUnreadReplyJob(
  agenda: Agenda,
  run: (data: UnreadReplyJob) => Promise<string>,
  logger: Logger,
): void {
  const schema = jobCatalog[UNREAD_REPLY_JOB];
  const retry = backoffStrategies.exponential({ delay: 2000, maxDelay: 60_000, maxRetries: 8 });
  agenda.define(
    UNREAD_REPLY_JOB,
    async (job: Job<unknown>) => {
      const parsed = schema.safeParse(job.attrs.data);
      if (!parsed.success) {
        logger.error(
          { jobId: String(job.attrs._id), issues: parsed.error.issues.slice(0, 3) },
          'unread-reply job has invalid data; kept as failed',
        );
        throw new InvalidJobData();
      }
      const outcome = await run(parsed.data);
      logger.info(
        { jobId: String(job.attrs._id), ...parsed.data, outcome },
        'unread-reply job done',
      );
    },
    {
      concurrency: 4,
      // Transient failures before the claim (chat service down) are retried; bad data is not.
      backoff: (ctx) => (ctx.error instanceof InvalidJobData ? null : retry(ctx)),
    },
  );
}

class InvalidJobData extends Error {
  constructor() {
    super('job data does not match contracts jobCatalog');
    this.name = 'InvalidJobData';
  }
}

/** The JobScheduler port on Agenda. */
export function agendaScheduler(agenda: Agenda): JobScheduler {
  const schema = jobCatalog[UNREAD_REPLY_JOB];
  return {
    async pendingFor(chatId: ChatId): Promise<PendingJob[]> {
      const { jobs } = await agenda.queryJobs({
        name: UNREAD_REPLY_JOB,
        data: { chat_id: chatId },
      });
      const pending: PendingJob[] = [];
      for (const job of jobs) {
        const data = schema.safeParse(job.data);
        if (!data.success || data.data.chat_id !== chatId) continue;
        const running = Boolean(job.lockedAt);
        if (!running && !job.nextRunAt) continue; // finished (kept only when it failed for good)
        pending.push({
          id: String(job._id),
          data: data.data,
          runAt: job.nextRunAt ?? null,
          running,
        });
      }
      return pending;
    },
    async schedule(data, runAt) {
      await agenda
        .create(UNREAD_REPLY_JOB, data)
        .unique(
          { 'data.chat_id': data.chat_id, 'data.up_to_seq': data.up_to_seq },
          { insertOnly: true },
        )
        .schedule(runAt)
        .save();
    },
    cancel: (ids) => agenda.cancel({ ids }),
  };
}
