import http from 'node:http';
import {
  connectBus,
  createMetrics,
  createOpsHandler,
  type Lifecycle,
  type Logger,
  type RunningService,
} from '@parley/runtime';
import { AppError } from '@parley/contracts/errors';
import type { GatewayConfig } from './config.ts';
import { createChatPort, createRpc } from './adapters/chat-nats.ts';
import { createSpentLinks } from './adapters/spent-links.ts';
import { ChatAccess } from './domain/access.ts';
import { Authenticator } from './domain/authenticate.ts';
import { Identity } from './domain/identity.ts';
import { WsTickets } from './domain/tickets.ts';
import { VisitorChats } from './domain/visitor-chats.ts';
import { createLimits } from './limits/index.ts';
import { createHttpApp } from './transport/http.ts';
import { createGatewayMetrics } from './metrics.ts';
import { createWsGateway } from './transport/ws.ts';

/** Composition root: NATS, identity, REST + WebSocket on one HTTP server, ops endpoints. */
export async function start(
  cfg: GatewayConfig,
  logger: Logger,
  lifecycle: Lifecycle,
): Promise<RunningService & { port: number }> {
  const bus = await connectBus({
    servers: cfg.NATS_URL,
    name: `gateway-${cfg.GATEWAY_ID}`,
    logger,
    user: cfg.NATS_USER,
    pass: cfg.NATS_PASSWORD,
  });
  const registry = createMetrics('gateway');
  const metrics = createGatewayMetrics(registry);
  const rpc = createRpc(bus, cfg.RPC_TIMEOUT);
  const chat = createChatPort(rpc);
  const identity = new Identity({
    authTokenSecret: cfg.authTokenSecret,
    identityHmacSecret: cfg.identityHmacSecret,
    visitorTtlMs: cfg.VISITOR_TOKEN_TTL,
    operatorTtlMs: cfg.OPERATOR_TOKEN_TTL,
  });
  const authenticator = new Authenticator(identity, chat, {
    ttlMs: cfg.OPERATOR_ACCOUNT_CACHE_TTL,
  });
  // Single use on every replica: the second publish of a ticket id is a JetStream duplicate.
  const tickets = new WsTickets(cfg.authTokenSecret, identity.revocations, async (ticketId) => {
    try {
      const { duplicate } = await bus.publishDurable(
        'gateway.ws_ticket_spent',
        { ticket_id: ticketId },
        { msgId: `ws-ticket-${ticketId}` },
      );
      return !duplicate;
    } catch (err) {
      logger.warn({ err }, 'could not record a ticket as used');
      throw new AppError('unavailable', 'Tickets cannot be checked right now: try again');
    }
  });
  const access = new ChatAccess((chatId) => chat.ownerOf(chatId));
  const visitorChats = new VisitorChats(
    async (visitor) => (await rpc('chat.rpc.visitor_chat', { visitor, limit: 1 })).id,
  );
  const limits = createLimits(cfg, logger);

  // What REST and WebSocket share: one authentication path, one set of limits.
  const shared = { cfg, bus, rpc, identity, authenticator, tickets, access, limits, logger };
  const spentLinks = createSpentLinks(bus, cfg.NATS_STREAM_REPLICAS);
  const app = createHttpApp({ ...shared, visitorChats, spentLinks });
  const ws = createWsGateway({ ...shared, fetchAfter: chat.fetchAfter, metrics, lifecycle });

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
      // Readiness is 503 from here on; no new connections or upgrades are accepted.
      lifecycle.shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Frames in flight get their answers, then every client goes elsewhere (1012); HTTP
      // requests in flight finish before the server closes.
      await ws.shutdown(cfg.DRAIN_TIMEOUT);
      server.closeIdleConnections();
      await closed;
      await revocations.stop();
      await limits.close();
      await bus.drain().catch((err: unknown) => logger.warn({ err }, 'nats drain failed'));
    },
  };
}
