import os from 'node:os';
import type { Redis } from 'ioredis';
import { createRedis } from '@parley/runtime/redis';
import type { Db, MongoClient } from 'mongodb';
import {
  connectBus,
  createMetrics,
  logConnectionErrors,
  resolveSecret,
  signChatLinkToken,
  signUnsubscribeToken,
  startOpsServer,
  type Lifecycle,
  type Logger,
} from '@parley/runtime';
import { createNotifyMetrics } from './metrics.ts';
import type { NotifyConfig } from './config.ts';
import { agendaScheduler, createAgenda, defineUnreadReplyJob } from './adapters/agenda.ts';
import { natsChatPort } from './adapters/chat-nats.ts';
import { mongoEmailLog, redisEmailLog } from './adapters/email-log.ts';
import { outboxMailer, retryingMailer, sendgridSend } from './adapters/mailers.ts';
import { Notifier } from './domain/notifier.ts';
import type { EmailLog, Mailer } from './domain/ports.ts';
import { consumeChatEvents, serveOutbox, serveTranscripts } from './transport/nats.ts';

/** Composition root: stores → Agenda → domain → durable consumer + outbox RPC. */
export async function start(cfg: NotifyConfig, logger: Logger, lifecycle: Lifecycle) {
  const unsubscribeSecret = resolveSecret(cfg.UNSUBSCRIBE_SECRET, 'UNSUBSCRIBE_SECRET', cfg);
  const instance = `notify-${os.hostname()}-${process.pid}`;

  let redis: Redis | undefined;
  let mongo: MongoClient | undefined;
  let mongoDb: Db | undefined;
  let emailLog: EmailLog;
  if (cfg.MONGO_URL) {
    const { MongoClient } = await import('mongodb');
    mongo = await MongoClient.connect(cfg.MONGO_URL);
    mongoDb = mongo.db(cfg.MONGO_DB);
    const log = mongoEmailLog(mongoDb, cfg.OUTBOX_LIMIT, logger);
    await log.init();
    emailLog = log;
    logger.info({ db: cfg.MONGO_DB }, 'jobs and outbox: MongoDB');
  } else {
    redis = createRedis(cfg.REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: true });
    logConnectionErrors(redis, logger, 'redis');
    await redis.connect();
    emailLog = redisEmailLog(redis, `${cfg.REDIS_PREFIX}outbox`, cfg.OUTBOX_LIMIT, logger);
    logger.info('jobs and outbox: Redis');
  }

  const registry = createMetrics('notify');
  const { eventsHandled, jobsStarted, jobsCompleted } = createNotifyMetrics(registry);

  let mailer: Mailer;
  if (cfg.SENDGRID_API_KEY) {
    mailer = retryingMailer({
      send: sendgridSend(cfg.SENDGRID_API_KEY, cfg.SENDGRID_API_URL),
      log: emailLog,
      logger,
      retries: cfg.SEND_RETRIES,
    });
    logger.info('email delivery: SendGrid');
  } else {
    mailer = outboxMailer(emailLog);
    logger.info('email delivery: local outbox (no SENDGRID_API_KEY)');
  }

  const bus = await connectBus({
    servers: cfg.NATS_URL,
    name: 'notify',
    logger,
    user: cfg.NATS_USER,
    pass: cfg.NATS_PASSWORD,
  });
  await bus.ensureStreams({ replicas: cfg.NATS_STREAM_REPLICAS });

  const { agenda, redisReady: jobsRedisReady } = await createAgenda({
    name: instance,
    ...(mongoDb
      ? { mongo: mongoDb }
      : { redis: { url: cfg.REDIS_URL, keyPrefix: cfg.REDIS_PREFIX } }),
    processEveryMs: cfg.JOB_POLL_INTERVAL,
    lockLifetimeMs: cfg.JOB_LOCK_LIFETIME,
    logger,
  });
  agenda.on('error', (err) => logger.error({ err }, 'agenda error'));

  const notifier = new Notifier({
    scheduler: agendaScheduler(agenda),
    chat: natsChatPort(bus),
    mailer,
    settings: {
      delayMs: cfg.NOTIFY_DELAY,
      productName: cfg.PRODUCT_NAME,
      subjectTemplate: cfg.EMAIL_SUBJECT,
      emailFrom: cfg.EMAIL_FROM,
      publicUrl: cfg.PUBLIC_URL,
      signUnsubscribe: (userId) => signUnsubscribeToken(unsubscribeSecret, userId),
      signChatLink: (userId, chatId) =>
        signChatLinkToken(unsubscribeSecret, { userId, chatId, ttlMs: cfg.EMAIL_LINK_TTL }),
    },
  });
  defineUnreadReplyJob(
    agenda,
    async (data) => {
      jobsStarted.inc();
      const outcome = await notifier.runJob(data);
      jobsCompleted.inc({ outcome });
      return outcome;
    },
    logger,
  );
  await agenda.start();

  const outboxRpc = serveOutbox(bus, emailLog);
  const transcriptRpc = serveTranscripts(bus, {
    mailer,
    emailFrom: cfg.EMAIL_FROM,
    productName: cfg.PRODUCT_NAME,
    publicUrl: cfg.PUBLIC_URL,
  });
  const consumer = await consumeChatEvents({ bus, notifier, logger, eventsHandled });

  const ops = await startOpsServer({
    host: cfg.HTTP_HOST,
    port: cfg.HTTP_PORT,
    registry,
    lifecycle,
    logger,
    checks: [
      { name: 'nats', check: () => bus.isConnected() },
      ...(redis ? [{ name: 'redis', check: () => redis?.status === 'ready' }] : []),
      ...(jobsRedisReady ? [{ name: 'redis-jobs', check: jobsRedisReady }] : []),
      ...(mongoDb
        ? [{ name: 'mongo', check: async () => Boolean(await mongoDb?.command({ ping: 1 })) }]
        : []),
    ],
  });

  return {
    port: ops.port,
    async stop() {
      lifecycle.shuttingDown = true;
      await consumer.stop();
      outboxRpc.unsubscribe();
      transcriptRpc.unsubscribe();
      // Running jobs finish (within the shutdown budget); the rest stay scheduled for any replica.
      await agenda.drain({
        timeout: Math.max(1000, cfg.SHUTDOWN_TIMEOUT_MS - 5000),
        closeConnection: true,
      });
      await ops.close();
      await bus.drain();
      await mongo?.close();
      redis?.disconnect();
    },
  };
}
