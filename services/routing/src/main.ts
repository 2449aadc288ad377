import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { EventPayload } from '@parley/contracts/nats';
import {
  connectBus,
  createMetrics,
  logConnectionErrors,
  startOpsServer,
  type Lifecycle,
  type Logger,
  type RunningService,
} from '@parley/runtime';
import { createNatsChat } from './adapters/nats-chat.ts';
import { createNatsEvents } from './adapters/nats-events.ts';
import { createRedisStore } from './adapters/redis-store.ts';
import type { RoutingConfig } from './config.ts';
import { startOutboxRelay } from './domain/outbox-relay.ts';
import { RoutingService } from './domain/routing.ts';
import { createRoutingMetrics } from './metrics.ts';
import { startNatsTransport } from './transport/nats.ts';

/** Composition root: Redis store, NATS bus, the routing domain, its transports and timer loop. */
export async function start(
  config: RoutingConfig,
  logger: Logger,
  lifecycle: Lifecycle,
): Promise<RunningService> {
  const store = createRedisStore({
    url: config.REDIS_URL,
    prefix: config.REDIS_PREFIX,
    operatorGraceMs: config.OPERATOR_OFFLINE_GRACE,
    visitorGraceMs: config.VISITOR_OFFLINE_GRACE,
    returnGraceMs: config.RETURN_TO_QUEUE_GRACE,
    gatewayTimeoutMs: config.GATEWAY_HEARTBEAT_TIMEOUT,
    onClient: (client) => logConnectionErrors(client, logger, 'redis'),
  });
  await store.redis.ping();
  const bus = await connectBus({
    servers: config.NATS_URL,
    name: 'routing',
    logger,
    user: config.NATS_USER,
    pass: config.NATS_PASSWORD,
  });
  await bus.ensureStreams({ replicas: config.NATS_STREAM_REPLICAS });
  const registry = createMetrics('routing');
  const { assignments } = createRoutingMetrics(registry, store);
  const natsEvents = createNatsEvents(bus);
  const routing = new RoutingService({
    store,
    chat: createNatsChat(bus),
    events: {
      async publish(subject, payload, msgId) {
        await natsEvents.publish(subject, payload, msgId);
        if (subject === 'routing.evt.assigned') {
          assignments.inc({ reason: (payload as EventPayload<'routing.evt.assigned'>).reason });
        }
      },
      presence: natsEvents.presence,
    },
    maxReplyBytes: () => bus.nc.info?.max_payload ?? 1024 * 1024,
    logger: logger.child({ module: 'routing' }),
  });
  const relay = startOutboxRelay({
    store,
    routing,
    holder: `${hostname()}:${process.pid}:${randomUUID()}`,
    logger,
    leaseMs: config.OUTBOX_LEASE,
  });
  const transport = await startNatsTransport(bus, routing, logger, {
    ackWaitMs: config.CONSUMER_ACK_WAIT,
  });

  // Every replica polls; the tick script claims each due timer atomically, so it fires once.
  const tickMs = Math.max(
    20,
    Math.min(
      config.TICK_INTERVAL,
      config.OPERATOR_OFFLINE_GRACE / 4,
      config.VISITOR_OFFLINE_GRACE / 4,
      config.RETURN_TO_QUEUE_GRACE / 4,
    ),
  );
  let ticking: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    ticking = ticking.then(() =>
      routing.tick().catch((err: unknown) => logger.warn({ err }, 'routing tick failed')),
    );
  }, tickMs);

  const ops = await startOpsServer({
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    registry,
    lifecycle,
    logger,
    checks: [
      { name: 'nats', check: () => bus.isConnected() },
      { name: 'redis', check: () => store.redis.status === 'ready' },
    ],
  });

  return {
    async stop() {
      lifecycle.shuttingDown = true;
      clearInterval(timer);
      await transport.stop();
      await ticking;
      // Relays what is left, then hands the lease on.
      await relay.stop();
      await bus.drain();
      await store.disconnect();
      await ops.close();
    },
  };
}
