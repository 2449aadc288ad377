import path from 'node:path';
import {
  connectBus,
  createMetrics,
  startOpsServer,
  type Lifecycle,
  type Logger,
} from '@parley/runtime';
import type { ChatConfig } from './config.ts';
import { DiskBlobs } from './adapters/disk-blobs.ts';
import { SqliteChatStore } from './adapters/sqlite.ts';
import { purgeUnsentAttachments } from './domain/attachments.ts';
import { ChatDomain } from './domain/chats.ts';
import type { AttachmentBlobs, ChatStore } from './domain/store.ts';
import { createAttachmentHttp, sweepIncoming } from './transport/http.ts';
import { createChatMetrics } from './metrics.ts';
import { busPublisher, InFlight, serveChatRpc } from './transport/nats.ts';

/** How often, and after how long, unconfirmed message events are published again. */
const OUTBOX_INTERVAL_MS = 15_000;
const OUTBOX_MIN_AGE_MS = 10_000;
/** How often unsent uploads past UNSENT_ATTACHMENT_TTL are looked for. */
const PURGE_INTERVAL_MS = 3_600_000;
/** A staged upload untouched this long belongs to no live request. */
const STALE_UPLOAD_MS = 3_600_000;

async function openStores(
  cfg: ChatConfig,
  logger: Logger,
): Promise<{ store: ChatStore; blobs: AttachmentBlobs }> {
  if (cfg.MONGO_URL) {
    const { connectMongoStore } = await import('./adapters/mongo.ts');
    const { store, blobs } = await connectMongoStore({ url: cfg.MONGO_URL, dbName: cfg.MONGO_DB });
    logger.info({ db: cfg.MONGO_DB }, 'store: MongoDB');
    return { store, blobs };
  }
  logger.info({ file: cfg.SQLITE_PATH }, 'store: SQLite');
  return { store: new SqliteChatStore(cfg.SQLITE_PATH), blobs: new DiskBlobs(cfg.ATTACHMENTS_DIR) };
}

/** Composition root: store → domain → NATS RPC + internal HTTP. */
export async function start(cfg: ChatConfig, logger: Logger, lifecycle: Lifecycle) {
  const { store, blobs } = await openStores(cfg, logger);
  await store.init();

  const bus = await connectBus({
    servers: cfg.NATS_URL,
    name: 'chat',
    logger,
    user: cfg.NATS_USER,
    pass: cfg.NATS_PASSWORD,
  });
  await bus.ensureStreams({ replicas: cfg.NATS_STREAM_REPLICAS });
  const domain = new ChatDomain({ store, events: busPublisher(bus) });

  if (cfg.ADMIN_EMAIL && cfg.ADMIN_PASSWORD) {
    const outcome = await domain.operators.bootstrapAdmin({
      email: cfg.ADMIN_EMAIL,
      password: cfg.ADMIN_PASSWORD,
      name: cfg.ADMIN_NAME,
    });
    logger.info({ outcome }, 'admin operator bootstrap');
  }

  const incomingDir = path.join(cfg.ATTACHMENTS_DIR, '.incoming');
  const swept = await sweepIncoming(incomingDir, STALE_UPLOAD_MS);
  if (swept > 0) logger.info({ swept }, 'removed staged uploads left by a crash');
  const registry = createMetrics('chat');
  const inFlight = new InFlight();
  const rpc = serveChatRpc(bus, domain, inFlight, createChatMetrics(registry));

  const ops = await startOpsServer({
    host: cfg.HTTP_HOST,
    port: cfg.HTTP_PORT,
    registry,
    lifecycle,
    logger,
    checks: [
      { name: 'nats', check: () => bus.isConnected() },
      { name: 'store', check: () => store.ping() },
    ],
    fallback: createAttachmentHttp({
      store,
      blobs,
      tempDir: incomingDir,
      maxBytes: cfg.MAX_ATTACHMENT_BYTES,
      logger,
    }),
  });

  // Events whose publish was never confirmed (a crash or outage between write and publish) go
  // out now, and then periodically while running.
  const republished = await domain.republishPending();
  if (republished > 0) logger.warn({ count: republished }, 'republished pending message events');
  let relaying: Promise<void> = Promise.resolve();
  const relayTimer = setInterval(() => {
    relaying = relaying.then(async () => {
      if (!bus.isConnected()) return;
      try {
        const count = await domain.republishPending({ minAgeMs: OUTBOX_MIN_AGE_MS });
        if (count > 0) logger.warn({ count }, 'republished pending message events');
      } catch (err) {
        logger.warn({ err }, 'outbox relay failed; will retry');
      }
    });
  }, OUTBOX_INTERVAL_MS);
  relayTimer.unref();

  let purging: Promise<void> = Promise.resolve();
  const purgeTimer = setInterval(
    () => {
      purging = purging.then(async () => {
        try {
          const removed = await purgeUnsentAttachments(
            { store, blobs },
            { now: new Date(), olderThanMs: cfg.UNSENT_ATTACHMENT_TTL },
          );
          if (removed > 0) logger.info({ removed }, 'removed unsent attachments');
        } catch (err) {
          logger.warn({ err }, 'unsent attachment cleanup failed; will retry');
        }
      });
    },
    Math.min(cfg.UNSENT_ATTACHMENT_TTL, PURGE_INTERVAL_MS),
  );
  purgeTimer.unref();

  return {
    port: ops.port,
    async stop() {
      lifecycle.shuttingDown = true;
      clearInterval(relayTimer);
      clearInterval(purgeTimer);
      await rpc.stop();
      await relaying;
      await purging;
      await ops.close();
      await bus.drain();
      await store.close();
      await blobs.close();
    },
  };
}
