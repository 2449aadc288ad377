import http from 'node:http';
import {
  connectBus,
  createMetrics,
  createOpsHandler,
  type Lifecycle,
  type Logger,
  type RunningService,
} from '@parley/runtime';
import type { GatewayConfig } from './config.ts';
import { ChatAccess } from './domain/access.ts';
import { Identity } from './domain/identity.ts';
import { createLimits } from './limits/index.ts';
import { createHttpApp } from './transport/http.ts';
import { createGatewayMetrics } from './transport/metrics.ts';
import { createWsGateway } from './transport/ws.ts';

/** Composition root: NATS, identity, REST + WebSocket on one HTTP server, ops endpoints. */
export async function startGateway(
  cfg: GatewayConfig,
  logger: Logger,
  lifecycle: Lifecycle,
): Promise<RunningService & { port: number }> {
  const bus = await connectBus({
    servers: cfg.NATS_URL,
    name: `gateway-${cfg.GATEWAY_ID}`,
    logger,
  });
  const registry = createMetrics('gateway');
  const metrics = createGatewayMetrics(registry);
  const identity = new Identity({
    authTokenSecret: cfg.authTokenSecret,
    identityHmacSecret: cfg.identityHmacSecret,
    visitorTtlMs: cfg.VISITOR_TOKEN_TTL,
    operatorTtlMs: cfg.OPERATOR_TOKEN_TTL,
  });
  const access = new ChatAccess(async (chatId) => {
    const owner = await bus.request(
      'chat.rpc.chat_owner',
      { chat_id: chatId },
      { timeoutMs: cfg.RPC_TIMEOUT },
    );
    return owner?.user_id ?? null;
  });

  const limits = createLimits(cfg, logger);
  const app = createHttpApp({ cfg, bus, identity, access, logger, limits });
  const ws = createWsGateway({ cfg, bus, identity, access, logger, metrics, lifecycle, limits });

  // Every logout so far, then live ones: a token logged out on any replica, before or after this
  // one started, is refused here. Accepting connections waits for the replay.
  await bus.ensureStreams({ replicas: cfg.NATS_STREAM_REPLICAS });
  const revocations = await bus.followStream({
    stream: 'TOKEN_REVOCATIONS',
    handler: (event) => {
      if (event.subject !== 'gateway.token_revoked') return;
      identity.revocations.revoke(event.payload.jti, event.payload.exp);
      ws.closeConnectionsOfToken(event.payload.jti);
    },
  });
  await revocations.caughtUp;
  const ops = createOpsHandler({
    registry,
    lifecycle,
    checks: [{ name: 'nats', check: () => bus.isConnected() }],
  });
  const server = http.createServer((req, res) => {
    if (ops(req, res)) return;
    app(req, res);
  });
  server.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.HTTP_PORT, cfg.HTTP_HOST, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : cfg.HTTP_PORT;
  logger.info({ port, publicUrl: cfg.PUBLIC_URL }, 'gateway listening');

  return {
    port,
    async stop() {
      lifecycle.shuttingDown = true;
      // Stop accepting, send every client elsewhere (1012), let in-flight requests finish, then drain NATS.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await ws.shutdown();
      server.closeIdleConnections();
      await closed;
      await revocations.stop();
      await limits.close();
      await bus.drain().catch((err: unknown) => logger.warn({ err }, 'nats drain failed'));
    },
  };
}
