import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import {
  AppError,
  WsCloseCode,
  httpStatusByErrorCode,
  validationError,
} from '@parley/contracts/errors';
import type { ChatId, OperatorId, SupportMessage, UserId } from '@parley/contracts/models';
import { ClientFrame, type ServerFrame, type SubscribeFrame } from '@parley/contracts/ws';
import type { EventPayload } from '@parley/contracts/nats';
import { safeParseFast, type Bus, type Lifecycle, type Logger } from '@parley/runtime';
import type { GatewayConfig } from '../config.ts';
import type { ChatAccess } from '../domain/access.ts';
import { senderOf, visitorIdentity, type Identity, type Principal } from '../domain/identity.ts';
import { TypingThrottle } from '../domain/typing.ts';
import type { GatewayMetrics } from './metrics.ts';
import { clientIp, isOriginAllowed } from './origin.ts';
import type { Limits } from '../limits/index.ts';

/** Frames waiting behind a slow one; a client that piles up more is flooding. */
const MAX_PENDING_FRAMES = 200;
/** Bytes queued for a client that does not read before it is dropped (it reconnects and resumes by seq). */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Largest page asked of the chat service while filling a gap. */
const GAP_PAGE = 1000;

/**
 * One chat subscription of one connection. `chain` serializes everything delivered on it, so a
 * replay and the live events arriving meanwhile come out in seq order; `lastSeq` dedupes.
 */
interface ChatSubscription {
  chatId: ChatId;
  lastSeq: number | null;
  chain: Promise<void>;
  active: boolean;
}

interface Connection {
  id: string;
  ws: WebSocket;
  principal: Principal;
  ip: string;
  userAgent: string | null;
  /** ISO country code from a trusted proxy's header, for the online-visitors list. */
  country: string | null;
  chats: Map<string, ChatSubscription>;
  admin: boolean;
  operatorChannel: boolean;
  alive: boolean;
  pending: number;
  chain: Promise<void>;
}

export interface WsGateway {
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Tells every client to reconnect elsewhere (1012) and stops timers. */
  shutdown(): Promise<void>;
  connectionCount(): number;
  /** A logged-out token's open connections end at once (revocation itself is in Identity). */
  closeConnectionsOfToken(jti: string): void;
}

export function createWsGateway(deps: {
  cfg: GatewayConfig;
  bus: Bus;
  identity: Identity;
  access: ChatAccess;
  logger: Logger;
  metrics: GatewayMetrics;
  lifecycle: Lifecycle;
  limits: Limits;
}): WsGateway {
  const { cfg, bus, identity, access, metrics, lifecycle } = deps;
  const log = deps.logger.child({ module: 'ws' });
  const wss = new WebSocketServer({ noServer: true, maxPayload: cfg.WS_MAX_FRAME_BYTES });
  const rpcOpts = { timeoutMs: cfg.RPC_TIMEOUT };

  const connections = new Set<Connection>();
  const chatSubscribers = new Map<string, Set<Connection>>();
  const adminSubscribers = new Set<Connection>();
  const operatorChannels = new Map<string, Set<Connection>>();
  const visitorConnections = new Map<string, Set<Connection>>();
  const connectionsPerIp = new Map<string, number>();
  /** chat → operator it is assigned to, learnt from routing events and the operator's own sessions. */
  const assignments = new Map<string, OperatorId>();
  const typingThrottle = new TypingThrottle(cfg.TYPING_THROTTLE);
  const perConnectionRate = new RateLimiterMemory({
    points: cfg.WS_MAX_MESSAGES_PER_SECOND,
    duration: 1,
  });
  const perIpRate = new RateLimiterMemory({
    points: cfg.WS_MAX_MESSAGES_PER_SECOND_PER_IP,
    duration: 1,
  });

  const addTo = (map: Map<string, Set<Connection>>, key: string, conn: Connection) => {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(conn);
  };
  const removeFrom = (map: Map<string, Set<Connection>>, key: string, conn: Connection) => {
    const set = map.get(key);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) map.delete(key);
  };

  function send(conn: Connection, frame: ServerFrame): void {
    if (conn.ws.readyState !== conn.ws.OPEN) return;
    if (conn.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      // A client that stopped reading would otherwise grow this process's memory without bound.
      log.warn({ connection: conn.id }, 'slow consumer terminated');
      conn.ws.terminate();
      return;
    }
    conn.ws.send(JSON.stringify(frame));
    metrics.framesOut.inc({ type: frame.type });
  }

  function sendError(conn: Connection, err: unknown, clientId?: string): void {
    const appErr = err instanceof AppError ? err : new AppError('internal', 'Internal error');
    if (!(err instanceof AppError))
      log.error({ err, connection: conn.id }, 'frame handling failed');
    send(conn, {
      type: 'error',
      code: appErr.code,
      message: appErr.message,
      ...(clientId !== undefined ? { client_id: clientId } : {}),
    });
  }

  // ------------------------------------------------------------------ upgrade

  function refuseUpgrade(socket: Duplex, code: AppError['code'], message: string): void {
    const status = httpStatusByErrorCode[code];
    const body = JSON.stringify({ code, message });
    socket.end(
      `HTTP/1.1 ${status} ${code}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://gateway.invalid');
      if (url.pathname !== '/ws')
        return refuseUpgrade(socket, 'not_found', 'No WebSocket endpoint here');
      if (lifecycle.shuttingDown)
        return refuseUpgrade(socket, 'unavailable', 'Gateway is shutting down');
      // Cross-site WebSocket hijacking is refused before the upgrade.
      if (!isOriginAllowed(req.headers.origin, req.headers.host, cfg)) {
        return refuseUpgrade(socket, 'forbidden', 'Origin not allowed');
      }
      const token = url.searchParams.get('token');
      if (!token) return refuseUpgrade(socket, 'unauthorized', 'A token is required');
      const principal = await identity.verify(token);
      if (!principal) return refuseUpgrade(socket, 'unauthorized', 'Token invalid or expired');
      if (principal.kind === 'operator') {
        const operator = await bus
          .request('chat.rpc.operator_get', { id: principal.operator_id }, rpcOpts)
          .catch(() => undefined);
        if (operator === undefined)
          return refuseUpgrade(socket, 'unavailable', 'Chat service unavailable');
        if (!operator?.active)
          return refuseUpgrade(socket, 'forbidden', 'Operator account is deactivated');
      }
      const ip = clientIp(req, cfg.trustProxyHops);
      if (!(await deps.limits.allowUpgrade(ip)))
        return refuseUpgrade(socket, 'rate_limited', 'Too many connection attempts from this IP');
      const open = connectionsPerIp.get(ip) ?? 0;
      if (open >= cfg.WS_MAX_CONNECTIONS_PER_IP) {
        return refuseUpgrade(socket, 'rate_limited', 'Too many connections from this address');
      }
      // Counted once the handshake succeeds: a malformed handshake never reaches the callback.
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, principal, ip, req));
    })().catch((err: unknown) => {
      log.error({ err }, 'upgrade failed');
      refuseUpgrade(socket, 'internal', 'Internal error');
    });
  }

  // ------------------------------------------------------------------ connection lifecycle

  function onConnection(
    ws: WebSocket,
    principal: Principal,
    ip: string,
    req: http.IncomingMessage,
  ): void {
    const conn: Connection = {
      id: randomUUID(),
      ws,
      principal,
      ip,
      userAgent: req.headers['user-agent']?.slice(0, 500) ?? null,
      country: countryOf(req),
      chats: new Map(),
      admin: false,
      operatorChannel: false,
      alive: true,
      pending: 0,
      chain: Promise.resolve(),
    };
    connections.add(conn);
    connectionsPerIp.set(ip, (connectionsPerIp.get(ip) ?? 0) + 1);
    metrics.connections.inc({ role: principal.kind });
    if (principal.kind === 'visitor') addTo(visitorConnections, principal.user_id, conn);

    ws.on('pong', () => (conn.alive = true));
    ws.on('message', (data, isBinary) => {
      if (conn.pending >= MAX_PENDING_FRAMES) {
        ws.close(WsCloseCode.rateLimited, 'Too many frames');
        return;
      }
      conn.pending++;
      conn.chain = conn.chain
        .then(() => handleFrame(conn, data, isBinary))
        .catch((err: unknown) => sendError(conn, err))
        .finally(() => conn.pending--);
    });
    ws.on('error', (err) => log.debug({ err, connection: conn.id }, 'socket error'));
    ws.on('close', () => onClose(conn));

    send(conn, {
      type: 'welcome',
      connection_id: conn.id,
      role: principal.kind,
      ...(principal.kind === 'visitor' ? { user_id: principal.user_id } : {}),
      heartbeat_ms: cfg.WS_HEARTBEAT_INTERVAL,
    });
    publishConnection(conn, true);
  }

  function onClose(conn: Connection): void {
    if (!connections.delete(conn)) return;
    metrics.connections.dec({ role: conn.principal.kind });
    const left = (connectionsPerIp.get(conn.ip) ?? 1) - 1;
    if (left > 0) connectionsPerIp.set(conn.ip, left);
    else connectionsPerIp.delete(conn.ip);
    for (const sub of conn.chats.values()) {
      sub.active = false;
      removeFrom(chatSubscribers, sub.chatId, conn);
    }
    conn.chats.clear();
    adminSubscribers.delete(conn);
    if (conn.principal.kind === 'operator')
      removeFrom(operatorChannels, conn.principal.operator_id, conn);
    else removeFrom(visitorConnections, conn.principal.user_id, conn);
    publishConnection(conn, false);
  }

  /** Presence is best effort: a NATS hiccup must not take a socket event down with it. */
  function publishPresence(publish: () => void): void {
    try {
      publish();
    } catch (err) {
      log.warn({ err }, 'presence not published');
    }
  }

  function countryOf(req: http.IncomingMessage): string | null {
    if (!cfg.TRUST_PROXY) return null;
    const value = req.headers[cfg.COUNTRY_HEADER];
    const code = (Array.isArray(value) ? value[0] : value)?.trim().toUpperCase();
    // Cloudflare's XX/T1 mean unknown/Tor: not a country.
    return code && /^[A-Z]{2}$/.test(code) && code !== 'XX' && code !== 'T1' ? code : null;
  }

  function publishConnection(conn: Connection, connected: boolean): void {
    const p = conn.principal;
    publishPresence(() =>
      bus.publish('gateway.evt.connection', {
        gateway_id: cfg.GATEWAY_ID,
        connection_id: conn.id,
        connected,
        at: new Date().toISOString(),
        who:
          p.kind === 'operator'
            ? { kind: 'operator', operator_id: p.operator_id }
            : {
                kind: 'visitor',
                visitor: visitorIdentity(p),
                user_agent: conn.userAgent,
                country: conn.country,
              },
      }),
    );
  }

  // ------------------------------------------------------------------ client frames

  async function handleFrame(conn: Connection, data: RawData, isBinary: boolean): Promise<void> {
    try {
      await perConnectionRate.consume(conn.id);
      await perIpRate.consume(conn.ip);
    } catch {
      metrics.framesIn.inc({ type: 'rate_limited' });
      throw new AppError('rate_limited', 'Too many frames: slow down');
    }
    if (isBinary) {
      metrics.framesIn.inc({ type: 'invalid' });
      throw new AppError('bad_request', 'Frames must be JSON text');
    }
    let raw: unknown;
    try {
      raw = JSON.parse(String(data));
    } catch {
      metrics.framesIn.inc({ type: 'invalid' });
      throw new AppError('bad_request', 'Frame is not valid JSON');
    }
    const parsed = safeParseFast(ClientFrame, raw);
    if (!parsed.success) {
      metrics.framesIn.inc({ type: 'invalid' });
      const clientId =
        typeof raw === 'object' &&
        raw !== null &&
        typeof (raw as { client_id?: unknown }).client_id === 'string'
          ? String((raw as { client_id: string }).client_id).slice(0, 100)
          : undefined;
      sendError(conn, validationError(parsed.error, 'frame'), clientId);
      return;
    }
    const frame = parsed.data;
    metrics.framesIn.inc({ type: frame.type });
    switch (frame.type) {
      case 'subscribe':
        return subscribe(conn, frame);
      case 'unsubscribe':
        if (frame.channel === 'chat') unsubscribeChat(conn, frame.chat_id);
        else if (frame.channel === 'admin') {
          conn.admin = false;
          adminSubscribers.delete(conn);
        } else if (conn.principal.kind === 'operator') {
          conn.operatorChannel = false;
          removeFrom(operatorChannels, conn.principal.operator_id, conn);
        }
        return;
      case 'send_message':
        try {
          await access.assertAccess(conn.principal, frame.chat_id);
          const result = await bus.request(
            'chat.rpc.send_message',
            {
              chat_id: frame.chat_id,
              content: frame.content,
              client_id: frame.client_id,
              attachment_ids: frame.attachment_ids,
              ...senderOf(conn.principal),
            },
            rpcOpts,
          );
          send(conn, {
            type: 'ack',
            client_id: frame.client_id,
            message: result.message,
            duplicate: result.duplicate,
          });
        } catch (err) {
          sendError(conn, err, frame.client_id);
        }
        return;
      case 'typing': {
        await access.assertAccess(conn.principal, frame.chat_id);
        const sender = senderOf(conn.principal);
        if (!typingThrottle.allow(sender.sender_id, frame.chat_id)) return;
        bus.publish('gateway.typing', { chat_id: frame.chat_id, ...sender });
        return;
      }
      case 'page_view':
        if (conn.principal.kind !== 'visitor')
          throw new AppError('forbidden', 'Only visitors report page views');
        bus.publish('gateway.evt.page_view', {
          user_id: conn.principal.user_id,
          page: {
            url: frame.url,
            ...(frame.title !== undefined ? { title: frame.title } : {}),
            ...(frame.referrer !== undefined ? { referrer: frame.referrer } : {}),
          },
          timezone: frame.timezone ?? null,
          at: new Date().toISOString(),
        });
        return;
      case 'ping':
        send(conn, { type: 'pong' });
        return;
    }
  }

  async function subscribe(conn: Connection, frame: SubscribeFrame): Promise<void> {
    const p = conn.principal;
    if (frame.channel === 'admin') {
      if (p.kind !== 'operator') {
        send(conn, { type: 'rejected', channel: 'admin', reason: 'Operators only' });
        return;
      }
      conn.admin = true;
      adminSubscribers.add(conn);
      send(conn, { type: 'subscribed', channel: 'admin' });
      return;
    }
    if (frame.channel === 'operator') {
      if (p.kind !== 'operator') {
        send(conn, { type: 'rejected', channel: 'operator', reason: 'Operators only' });
        return;
      }
      conn.operatorChannel = true;
      addTo(operatorChannels, p.operator_id, conn);
      // A fresh gateway learns this operator's current chats so their events reach the channel.
      try {
        const me = await bus.request('routing.rpc.me', { operator_id: p.operator_id }, rpcOpts);
        for (const s of me.sessions)
          if (s.status === 'active' && s.operator) assignments.set(s.chat_id, s.operator.id);
      } catch (err) {
        log.warn(
          { err },
          'could not load the operator’s sessions; assignments will follow routing events',
        );
      }
      send(conn, { type: 'subscribed', channel: 'operator' });
      return;
    }
    const chatId = frame.chat_id;
    let allowed: boolean;
    try {
      allowed = await access.canAccess(p, chatId);
    } catch (err) {
      const reason = err instanceof AppError ? err.message : 'Internal error';
      send(conn, { type: 'rejected', channel: 'chat', chat_id: chatId, reason });
      return;
    }
    if (!allowed) {
      send(conn, {
        type: 'rejected',
        channel: 'chat',
        chat_id: chatId,
        reason: 'Chat not found or not yours',
      });
      return;
    }
    unsubscribeChat(conn, chatId);
    const sub: ChatSubscription = {
      chatId,
      lastSeq: frame.after_seq ?? null,
      chain: Promise.resolve(),
      active: true,
    };
    conn.chats.set(chatId, sub);
    // Registered before the replay starts: live events queue on sub.chain behind it.
    addTo(chatSubscribers, chatId, conn);
    const afterSeq = frame.after_seq;
    sub.chain = (async () => {
      if (afterSeq === undefined) {
        send(conn, { type: 'subscribed', channel: 'chat', chat_id: chatId });
        return;
      }
      let page;
      try {
        page = await bus.request(
          'chat.rpc.messages_after',
          { chat_id: chatId, after_seq: afterSeq, limit: cfg.WS_REPLAY_MAX_MESSAGES },
          rpcOpts,
        );
      } catch (err) {
        unsubscribeChat(conn, chatId);
        const reason = err instanceof AppError ? err.message : 'Internal error';
        send(conn, { type: 'rejected', channel: 'chat', chat_id: chatId, reason });
        return;
      }
      // Too much was missed to stream, or the client claims seqs the chat never had (a reset
      // store): either way it reloads the chat, and live continues after the chat's last_seq.
      if (page.has_more || afterSeq > page.last_seq) {
        sub.lastSeq = page.last_seq;
        send(conn, {
          type: 'subscribed',
          channel: 'chat',
          chat_id: chatId,
          recovered: false,
          last_seq: page.last_seq,
        });
        return;
      }
      send(conn, {
        type: 'subscribed',
        channel: 'chat',
        chat_id: chatId,
        recovered: true,
        last_seq: page.last_seq,
      });
      for (const message of page.messages) deliverNow(conn, sub, message);
    })();
    await sub.chain;
  }

  function unsubscribeChat(conn: Connection, chatId: string): void {
    const sub = conn.chats.get(chatId);
    if (!sub) return;
    sub.active = false;
    conn.chats.delete(chatId);
    removeFrom(chatSubscribers, chatId, conn);
  }

  // ------------------------------------------------------------------ delivery

  /** Sends a message on a subscription if it is the next one; older seqs were delivered already. */
  function deliverNow(conn: Connection, sub: ChatSubscription, message: SupportMessage): void {
    if (!sub.active) return;
    if (sub.lastSeq !== null && message.seq <= sub.lastSeq) return;
    send(conn, { type: 'new_message', chat_id: sub.chatId, message });
    sub.lastSeq = message.seq;
  }

  /** Queues a live message behind anything in flight on the subscription and fills any gap first. */
  function deliverLive(conn: Connection, sub: ChatSubscription, message: SupportMessage): void {
    sub.chain = sub.chain
      .then(async () => {
        if (!sub.active) return;
        while (sub.lastSeq !== null && message.seq > sub.lastSeq + 1 && sub.active) {
          const from: number = sub.lastSeq;
          const page = await bus.request(
            'chat.rpc.messages_after',
            {
              chat_id: sub.chatId,
              after_seq: from,
              limit: Math.min(GAP_PAGE, message.seq - 1 - from),
            },
            rpcOpts,
          );
          for (const m of page.messages) if (m.seq < message.seq) deliverNow(conn, sub, m);
          if (sub.lastSeq === from) break; // the chat service had nothing newer: give up on the gap
        }
        deliverNow(conn, sub, message);
      })
      .catch((err: unknown) => {
        log.warn({ err, chat: sub.chatId }, 'gap fill failed; delivering the live message');
        deliverNow(conn, sub, message);
      });
  }

  /** Operator-channel connections of the operator a chat is assigned to, except those already on the chat. */
  function assignedOperatorConnections(chatId: string): Connection[] {
    const operatorId = assignments.get(chatId);
    if (!operatorId) return [];
    const chatSubs = chatSubscribers.get(chatId);
    return [...(operatorChannels.get(operatorId) ?? [])].filter((c) => !chatSubs?.has(c));
  }

  const toAdmins = (frame: ServerFrame) => {
    for (const conn of adminSubscribers) send(conn, frame);
  };

  function timed<S extends Parameters<Bus['subscribe']>[0]>(
    subject: S,
    handler: (payload: EventPayload<S>) => void,
  ): void {
    bus.subscribe(subject, (payload) => {
      const end = metrics.fanoutSeconds.startTimer({ subject });
      try {
        handler(payload);
      } catch (err) {
        log.error({ err, subject }, 'fan-out failed');
      } finally {
        end();
      }
    });
  }

  timed('chat.evt.message_created', ({ message, chat }) => {
    for (const conn of chatSubscribers.get(message.chat_id) ?? []) {
      const sub = conn.chats.get(message.chat_id);
      if (sub) deliverLive(conn, sub, message);
    }
    for (const conn of assignedOperatorConnections(message.chat_id)) {
      send(conn, { type: 'new_message', chat_id: message.chat_id, message });
    }
    if (message.sender_type === 'user') {
      toAdmins({
        type: 'new_user_message',
        chat_id: message.chat_id,
        user_email: chat.user_email,
        message,
        chat,
      });
    }
    toAdmins({ type: 'chat_updated', chat });
  });
  timed('chat.evt.chat_read', (evt) => {
    const frame: ServerFrame = {
      type: 'messages_read',
      chat_id: evt.chat_id,
      read_at: evt.read_at,
      up_to_seq: evt.up_to_seq,
    };
    for (const conn of chatSubscribers.get(evt.chat_id) ?? []) send(conn, frame);
    for (const conn of assignedOperatorConnections(evt.chat_id)) send(conn, frame);
    toAdmins({ type: 'chat_updated', chat: evt.chat });
  });
  timed('chat.evt.chat_viewed', ({ chat }) => toAdmins({ type: 'chat_updated', chat }));
  timed('chat.evt.chat_archived', ({ chat }) => toAdmins({ type: 'chat_updated', chat }));
  timed('chat.evt.chat_unarchived', ({ chat }) => toAdmins({ type: 'chat_updated', chat }));
  timed('chat.evt.operator_changed', ({ operator }) => {
    if (operator.active) return;
    // A deactivated operator loses every open connection at once, on every gateway.
    for (const conn of connections) {
      if (conn.principal.kind === 'operator' && conn.principal.operator_id === operator.id) {
        conn.ws.close(WsCloseCode.forbidden, 'Deactivated');
      }
    }
  });
  timed('routing.evt.session_changed', ({ session }) => {
    if (session.status === 'active' && session.operator)
      assignments.set(session.chat_id, session.operator.id);
    else assignments.delete(session.chat_id);
    for (const conn of chatSubscribers.get(session.chat_id) ?? []) {
      send(conn, { type: 'session_status', chat_id: session.chat_id, session });
    }
  });
  timed('routing.evt.assigned', (evt) => {
    assignments.set(evt.session.chat_id, evt.operator_id);
    for (const conn of operatorChannels.get(evt.operator_id) ?? []) {
      send(conn, {
        type: 'chat_assigned',
        chat_id: evt.session.chat_id,
        session: evt.session,
        reason: evt.reason,
        user_name: evt.user_name,
        user_email: evt.user_email,
        from_operator: evt.from_operator,
      });
    }
  });
  timed('routing.evt.unassigned', (evt) => {
    if (assignments.get(evt.chat_id) === evt.operator_id) assignments.delete(evt.chat_id);
    for (const conn of operatorChannels.get(evt.operator_id) ?? []) {
      send(conn, { type: 'chat_unassigned', chat_id: evt.chat_id, reason: evt.reason });
    }
  });
  timed('routing.evt.queue_changed', ({ queue }) => toAdmins({ type: 'queue_updated', queue }));
  timed('routing.evt.operator_changed', ({ operator }) =>
    toAdmins({ type: 'operator_state', operator }),
  );
  timed('routing.evt.visitors_changed', ({ visitors }) =>
    toAdmins({ type: 'visitors_online', visitors }),
  );
  timed('routing.evt.invitation', (evt) => {
    for (const conn of visitorConnections.get(evt.user_id) ?? []) {
      send(conn, {
        type: 'invitation',
        chat_id: evt.chat_id,
        operator: evt.operator,
        message: evt.message,
      });
    }
  });
  timed('gateway.typing', (evt) => {
    const frame: ServerFrame = {
      type: 'typing',
      chat_id: evt.chat_id,
      sender_type: evt.sender_type,
      sender_name: evt.sender_name,
      expires_in_ms: cfg.TYPING_EXPIRES,
    };
    const isSender = (c: Connection) =>
      (c.principal.kind === 'visitor' ? c.principal.user_id : c.principal.operator_id) ===
      evt.sender_id;
    for (const conn of chatSubscribers.get(evt.chat_id) ?? [])
      if (!isSender(conn)) send(conn, frame);
    for (const conn of assignedOperatorConnections(evt.chat_id))
      if (!isSender(conn)) send(conn, frame);
  });

  // ------------------------------------------------------------------ timers

  const heartbeat = setInterval(() => {
    for (const conn of connections) {
      if (!conn.alive) {
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }, cfg.WS_HEARTBEAT_INTERVAL);
  // Connection events keep presence current; the full list (an O(connections) reconciliation in
  // routing and Redis) only repairs what a lost event or a Redis restart left wrong, so it goes
  // every PRESENCE_FULL_LIST_EVERY-th beat, and the beats between only say this gateway lives.
  let presenceBeats = 0;
  const presence = setInterval(() => {
    const full = presenceBeats++ % cfg.PRESENCE_FULL_LIST_EVERY === 0;
    const operators: Array<{ operator_id: OperatorId; connection_id: string }> = [];
    const visitors: Array<{ user_id: UserId; connection_id: string }> = [];
    if (full) {
      for (const conn of connections) {
        if (conn.principal.kind === 'operator') {
          operators.push({ operator_id: conn.principal.operator_id, connection_id: conn.id });
        } else visitors.push({ user_id: conn.principal.user_id, connection_id: conn.id });
      }
    }
    publishPresence(() =>
      bus.publish('gateway.evt.heartbeat', {
        gateway_id: cfg.GATEWAY_ID,
        at: new Date().toISOString(),
        full,
        operators,
        visitors,
      }),
    );
    typingThrottle.prune();
    identity.revocations.prune();
  }, cfg.PRESENCE_HEARTBEAT_INTERVAL);
  heartbeat.unref();
  presence.unref();

  return {
    handleUpgrade,
    connectionCount: () => connections.size,
    closeConnectionsOfToken(jti: string) {
      for (const conn of connections)
        if (conn.principal.jti === jti) conn.ws.close(WsCloseCode.unauthorized, 'Logged out');
    },
    async shutdown() {
      clearInterval(heartbeat);
      clearInterval(presence);
      const closed = [...connections].map(
        (conn) =>
          new Promise<void>((resolve) => {
            conn.ws.once('close', () => resolve());
            send(conn, { type: 'reconnect', reason: 'Gateway restarting: reconnect' });
            conn.ws.close(WsCloseCode.serviceRestart, 'Service restart');
            setTimeout(() => {
              conn.ws.terminate();
              resolve();
            }, 2000).unref();
          }),
      );
      await Promise.all(closed);
      wss.close();
    },
  };
}
