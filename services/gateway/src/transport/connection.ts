import type { WebSocket } from 'ws';
import { AppError } from '@parley/contracts/errors';
import type { ServerFrame } from '@parley/contracts/ws';
import type { Logger } from '@parley/runtime';
import type { ChatDelivery } from '../domain/delivery.ts';
import type { Member } from '../domain/channels.ts';
import type { Principal } from '../domain/identity.ts';
import type { GatewayMetrics } from '../metrics.ts';

/** Bytes queued for a client that does not read before it is dropped (it reconnects and resumes by seq). */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** One WebSocket client. */
export interface Connection extends Member {
  readonly ws: WebSocket;
  principal: Principal;
  readonly userAgent: string | null;
  /** ISO country code from a trusted proxy's header, for the online-visitors list. */
  readonly country: string | null;
  readonly chats: Map<string, ChatDelivery>;
  admin: boolean;
  operatorChannel: boolean;
  alive: boolean;
  /** Frames received and not answered yet. */
  pending: number;
  /** Frames are handled one after another, in the order received. */
  chain: Promise<void>;
  /**
   * Operator channel: events for it wait here until the subscription's snapshot is out, so
   * they follow it (null once live).
   */
  operatorBacklog: ServerFrame[] | null;
  /** Chats whose live session_status arrived since subscribing (newer than a lookup). */
  readonly liveSessionStatus: Set<string>;
}

export interface Sender {
  send(conn: Connection, frame: ServerFrame): void;
  /** An error frame; answering a send_message it carries that message's client_id. */
  sendError(conn: Connection, err: unknown, clientId?: string): void;
}

export function createSender(log: Logger, metrics: GatewayMetrics): Sender {
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
  return {
    send,
    sendError(conn, err, clientId) {
      const appErr = err instanceof AppError ? err : new AppError('internal', 'Internal error');
      if (!(err instanceof AppError))
        log.error({ err, connection: conn.id }, 'frame handling failed');
      send(conn, {
        type: 'error',
        code: appErr.code,
        message: appErr.message,
        ...(clientId !== undefined ? { client_id: clientId } : {}),
      });
    },
  };
}

/** Operator-channel frames go out now, or after the snapshot when it is still being sent. */
export function sendToOperatorChannel(sender: Sender, conn: Connection, frame: ServerFrame): void {
  if (conn.operatorBacklog) conn.operatorBacklog.push(frame);
  else sender.send(conn, frame);
}
