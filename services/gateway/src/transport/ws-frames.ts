import type { RawData } from 'ws';
import { AppError, validationError } from '@parley/contracts/errors';
import { ClientFrame, type ServerFrame } from '@parley/contracts/ws';
import { safeParseFast, type Bus, type Logger } from '@parley/runtime';
import type { GatewayConfig } from '../config.ts';
import type { Rpc } from '../adapters/chat-nats.ts';
import type { ChatAccess } from '../domain/access.ts';
import type { Channels } from '../domain/channels.ts';
import type { FetchAfter } from '../domain/delivery.ts';
import { senderOf } from '../domain/identity.ts';
import type { TypingThrottle } from '../domain/typing.ts';
import type { Connection, Sender } from './connection.ts';
import type { Limits } from '../limits/index.ts';
import { createSubscriptions } from './ws-subscribe.ts';
import type { GatewayMetrics } from '../metrics.ts';

export interface FrameDeps {
  cfg: GatewayConfig;
  bus: Bus;
  rpc: Rpc;
  access: ChatAccess;
  channels: Channels<Connection>;
  sender: Sender;
  limits: Limits;
  metrics: GatewayMetrics;
  typing: TypingThrottle;
  fetchAfter: FetchAfter;
  log: Logger;
  /** True once the gateway drains: new frames are answered, not started. */
  draining: () => boolean;
}

const clientIdOf = (raw: unknown): string | undefined =>
  typeof raw === 'object' &&
  raw !== null &&
  typeof (raw as { client_id?: unknown }).client_id === 'string'
    ? (raw as { client_id: string }).client_id.slice(0, 100)
    : undefined;

/** The client frames of one connection: parse, authorize, act, answer. */
export function createFrameHandler(deps: FrameDeps) {
  const { bus, rpc, access, channels, sender, metrics } = deps;
  const { send, sendError } = sender;

  const { subscribe, unsubscribeChat } = createSubscriptions(deps);

  async function handle(conn: Connection, data: RawData, isBinary: boolean): Promise<void> {
    let raw: unknown;
    try {
      raw = isBinary ? undefined : JSON.parse(String(data));
    } catch {
      raw = undefined;
    }
    // Every error answering a send_message names the message, whatever the error.
    const clientId = clientIdOf(raw);
    if (!(await deps.limits.allowFrame(conn.id, conn.ip))) {
      metrics.framesIn.inc({ type: 'rate_limited' });
      sendError(conn, new AppError('rate_limited', 'Too many frames: slow down'), clientId);
      return;
    }
    if (isBinary) {
      metrics.framesIn.inc({ type: 'invalid' });
      throw new AppError('bad_request', 'Frames must be JSON text');
    }
    if (raw === undefined) {
      metrics.framesIn.inc({ type: 'invalid' });
      throw new AppError('bad_request', 'Frame is not valid JSON');
    }
    const parsed = safeParseFast(ClientFrame, raw);
    if (!parsed.success) {
      metrics.framesIn.inc({ type: 'invalid' });
      sendError(conn, validationError(parsed.error, 'frame'), clientId);
      return;
    }
    const frame = parsed.data;
    metrics.framesIn.inc({ type: frame.type });
    if (deps.draining() && frame.type === 'send_message') {
      // Not started: the client resends it to the gateway it reconnects to.
      sendError(conn, new AppError('unavailable', 'Gateway restarting: resend'), frame.client_id);
      return;
    }
    switch (frame.type) {
      case 'subscribe':
        return subscribe(conn, frame);
      case 'unsubscribe':
        if (frame.channel === 'chat') unsubscribeChat(conn, frame.chat_id);
        else if (frame.channel === 'admin') {
          conn.admin = false;
          channels.leaveAdmin(conn);
        } else if (conn.principal.kind === 'operator') {
          conn.operatorChannel = false;
          channels.leaveOperatorChannel(conn, conn.principal.operator_id);
        }
        return;
      case 'send_message':
        try {
          await access.assertAccess(conn.principal, frame.chat_id);
          const result = await rpc('chat.rpc.send_message', {
            chat_id: frame.chat_id,
            content: frame.content,
            client_id: frame.client_id,
            attachment_ids: frame.attachment_ids,
            // The chat service refuses a note from anyone but an operator (forbidden).
            ...(frame.internal ? { internal: true } : {}),
            ...senderOf(conn.principal),
          });
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
        const who = senderOf(conn.principal);
        if (!deps.typing.allow(who.sender_id, frame.chat_id)) return;
        bus.publish('gateway.typing', { chat_id: frame.chat_id, ...who });
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
        send(conn, { type: 'pong' } satisfies ServerFrame);
        return;
    }
  }

  return { handle, unsubscribeChat };
}
