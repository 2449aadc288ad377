import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { AppError, WsCloseCode, httpStatusByErrorCode } from '@parley/contracts/errors';
import type { Bus, Lifecycle, Logger } from '@parley/runtime';
import type { GatewayConfig } from '../config.ts';
import type { Rpc } from '../adapters/chat-nats.ts';
import type { ChatAccess } from '../domain/access.ts';
import type { Authenticator } from '../domain/authenticate.ts';
import { Channels } from '../domain/channels.ts';
import type { FetchAfter } from '../domain/delivery.ts';
import type { Identity, Principal } from '../domain/identity.ts';
import type { WsTickets } from '../domain/tickets.ts';
import { TypingThrottle } from '../domain/typing.ts';
import { createSender, type Connection, type Sender } from './connection.ts';
import { startFanout } from './fanout.ts';
import type { Limits } from '../limits/index.ts';
import type { GatewayMetrics } from '../metrics.ts';
import { clientIp, isOriginAllowed } from './origin.ts';
import { countryOf, createPresence } from './presence.ts';
import { createFrameHandler } from './ws-frames.ts';

/** Frames waiting behind a slow one; a client that piles up more is flooding. */
const MAX_PENDING_FRAMES = 200;

export interface WsGateway {
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Drains: new sends are refused (the client resends elsewhere), frames in flight are answered
   * (acks, errors) up to `drainMs`, then every client is told to reconnect and closed with 1012.
   */
  shutdown(drainMs: number): Promise<void>;
  connectionCount(): number;
  /** A logged-out token's open connections end at once (revocation itself is in Identity). */
  closeConnectionsOfToken(jti: string): void;
}

function refuseUpgrade(socket: Duplex, code: AppError['code'], message: string): void {
  const status = httpStatusByErrorCode[code];
  const body = JSON.stringify({ code, message });
  socket.end(
    `HTTP/1.1 ${status} ${code}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** `?ticket=` (single use, short-lived) or, for older clients, `?token=`. */
async function principalOf(
  url: URL,
  tickets: WsTickets,
  authenticator: Authenticator,
): Promise<Principal> {
  const ticket = url.searchParams.get('ticket');
  if (ticket) {
    const principal = await tickets.redeem(ticket);
    if (!principal) throw new AppError('unauthorized', 'Ticket invalid, expired or used');
    return principal.kind === 'operator'
      ? (await authenticator.withAccount(principal)).principal
      : principal;
  }
  return (await authenticator.authenticate(url.searchParams.get('token'))).principal;
}

/** Resolves once every frame received so far is answered, or after `ms`. */
function inFlightAnswered(conns: Iterable<Connection>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  const settled = Promise.all([...conns].map((c) => c.chain)).then(() => undefined);
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}

/** Tells every client to reconnect elsewhere and closes its socket with 1012. */
async function closeAll(conns: Iterable<Connection>, sender: Sender): Promise<void> {
  const closed = [...conns].map(
    (conn) =>
      new Promise<void>((resolve) => {
        conn.ws.once('close', () => resolve());
        sender.send(conn, { type: 'reconnect', reason: 'Gateway restarting: reconnect' });
        conn.ws.close(WsCloseCode.serviceRestart, 'Service restart');
        setTimeout(() => {
          conn.ws.terminate();
          resolve();
        }, 2000).unref();
      }),
  );
  await Promise.all(closed);
}

/** Protocol pings: a connection that missed the last pong is terminated. */
function startPings(conns: Iterable<Connection>, intervalMs: number): NodeJS.Timeout {
  const timer = setInterval(() => {
    for (const conn of conns) {
      if (!conn.alive) {
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return timer;
}

/** A connection as it starts: subscribed to nothing, alive, with nothing in flight. */
function newConnection(
  ws: WebSocket,
  principal: Principal,
  ip: string,
  req: http.IncomingMessage,
  cfg: GatewayConfig,
): Connection {
  return {
    id: randomUUID(),
    ws,
    principal,
    ip,
    userAgent: req.headers['user-agent']?.slice(0, 500) ?? null,
    country: countryOf(cfg, req),
    chats: new Map(),
    admin: false,
    operatorChannel: false,
    alive: true,
    pending: 0,
    chain: Promise.resolve(),
    operatorBacklog: null,
    liveSessionStatus: new Set(),
  };
}

export function createWsGateway(deps: {
  cfg: GatewayConfig;
  bus: Bus;
  rpc: Rpc;
  identity: Identity;
  authenticator: Authenticator;
  tickets: WsTickets;
  access: ChatAccess;
  limits: Limits;
  fetchAfter: FetchAfter;
  logger: Logger;
  metrics: GatewayMetrics;
  lifecycle: Lifecycle;
}): WsGateway {
  const { cfg, authenticator, tickets, limits, metrics, lifecycle } = deps;
  const log = deps.logger.child({ module: 'ws' });
  const wss = new WebSocketServer({ noServer: true, maxPayload: cfg.WS_MAX_FRAME_BYTES });
  const channels = new Channels<Connection>();
  const sender = createSender(log, metrics);
  const typing = new TypingThrottle(cfg.TYPING_THROTTLE);
  let draining = false;
  const frames = createFrameHandler({
    ...deps,
    channels,
    sender,
    typing,
    log,
    draining: () => draining,
  });
  const presence = createPresence({
    cfg,
    bus: deps.bus,
    channels,
    log,
    onBeat: () => {
      typing.prune();
      deps.identity.revocations.prune();
    },
  });
  const fanout = startFanout(
    deps.bus,
    { channels, sender, authenticator, typingExpiresMs: cfg.TYPING_EXPIRES },
    metrics,
    log,
  );

  function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://gateway.invalid');
      if (url.pathname !== '/ws') throw new AppError('not_found', 'No WebSocket endpoint here');
      if (lifecycle.shuttingDown) throw new AppError('unavailable', 'Gateway is shutting down');
      // Cross-site WebSocket hijacking is refused before the upgrade.
      if (!isOriginAllowed(req.headers.origin, req.headers.host, cfg)) {
        throw new AppError('forbidden', 'Origin not allowed');
      }
      const principal = await principalOf(url, tickets, authenticator);
      const ip = clientIp(req, cfg.trustProxyHops);
      if (!(await limits.allowUpgrade(ip))) {
        throw new AppError('rate_limited', 'Too many connection attempts from this IP');
      }
      if (channels.connectionsFrom(ip) >= cfg.WS_MAX_CONNECTIONS_PER_IP) {
        throw new AppError('rate_limited', 'Too many connections from this address');
      }
      // Counted once the handshake succeeds: a malformed handshake never reaches the callback.
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, principal, ip, req));
    })().catch((err: unknown) => {
      if (err instanceof AppError) return refuseUpgrade(socket, err.code, err.message);
      log.error({ err }, 'upgrade failed');
      refuseUpgrade(socket, 'internal', 'Internal error');
    });
  }

  function onConnection(
    ws: WebSocket,
    principal: Principal,
    ip: string,
    req: http.IncomingMessage,
  ): void {
    const conn = newConnection(ws, principal, ip, req, cfg);
    channels.add(conn);
    metrics.connections.inc({ role: principal.kind });

    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data, isBinary) => {
      if (conn.pending >= MAX_PENDING_FRAMES) {
        ws.close(WsCloseCode.rateLimited, 'Too many frames');
        return;
      }
      conn.pending++;
      conn.chain = conn.chain
        .then(() => frames.handle(conn, data, isBinary))
        .catch((err: unknown) => sender.sendError(conn, err))
        .finally(() => conn.pending--);
    });
    ws.on('error', (err) => log.debug({ err, connection: conn.id }, 'socket error'));
    ws.on('close', () => onClose(conn));

    sender.send(conn, {
      type: 'welcome',
      connection_id: conn.id,
      role: principal.kind,
      ...(principal.kind === 'visitor' ? { user_id: principal.user_id } : {}),
      heartbeat_ms: cfg.WS_HEARTBEAT_INTERVAL,
    });
    presence.connection(conn, true);
  }

  function onClose(conn: Connection): void {
    if (!channels.remove(conn, conn.chats.keys())) return;
    metrics.connections.dec({ role: conn.principal.kind });
    for (const sub of conn.chats.values()) sub.close();
    conn.chats.clear();
    presence.connection(conn, false);
  }

  const heartbeat = startPings(channels.all, cfg.WS_HEARTBEAT_INTERVAL);

  return {
    handleUpgrade,
    connectionCount: () => channels.all.size,
    closeConnectionsOfToken(jti: string) {
      for (const conn of channels.all)
        if (conn.principal.jti === jti) conn.ws.close(WsCloseCode.unauthorized, 'Logged out');
    },
    async shutdown(drainMs: number) {
      draining = true;
      clearInterval(heartbeat);
      presence.stop();
      await inFlightAnswered(channels.all, drainMs);
      await closeAll(channels.all, sender);
      fanout.stop();
      wss.close();
    },
  };
}
