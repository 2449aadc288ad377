import { reconnectPolicy, ws, type ChatId } from '@parley/contracts';
import type * as z from 'zod/mini';
import { redirectToLogin } from './api.ts';
import { currentToken } from './session.svelte.ts';

type ServerFrame = ws.ServerFrame;
type ClientFrame = z.input<typeof ws.ClientFrame>;
export type LiveState = 'connecting' | 'open' | 'closed';

interface ChatSubscription {
  /** The highest seq the page holds: the resume point after a reconnect. */
  lastSeq: () => number;
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;

/**
 * The console's one WebSocket: subscribes to the admin and operator channels and to the chats
 * on screen, re-subscribes after every reconnect (chats with `after_seq`, so nothing is missed),
 * reconnects with exponential backoff and jitter, and detects a dead link by application pings.
 */
class LiveConnection {
  state = $state<LiveState>('closed');
  private socket: WebSocket | null = null;
  private handlers = new Set<(frame: ServerFrame) => void>();
  private chats = new Map<ChatId, ChatSubscription>();
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private lastFrameAt = 0;
  private stopped = true;

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.socket?.close(1000, 'signed out');
    this.socket = null;
    this.state = 'closed';
  }

  /** Receives every valid frame; returns the unsubscribe function. */
  on(handler: (frame: ServerFrame) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  send(frame: ClientFrame): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  watchChat(chatId: ChatId, sub: ChatSubscription): () => void {
    this.chats.set(chatId, sub);
    this.send({ type: 'subscribe', channel: 'chat', chat_id: chatId, after_seq: sub.lastSeq() });
    return () => {
      if (this.chats.get(chatId) !== sub) return;
      this.chats.delete(chatId);
      this.send({ type: 'unsubscribe', channel: 'chat', chat_id: chatId });
    };
  }

  private open(): void {
    const token = currentToken();
    if (!token) {
      void redirectToLogin(true);
      return;
    }
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(
      `${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`,
    );
    this.socket = socket;
    this.state = 'connecting';
    socket.onopen = () => {
      this.attempts = 0;
      this.state = 'open';
      this.lastFrameAt = Date.now();
      this.send({ type: 'subscribe', channel: 'admin' });
      this.send({ type: 'subscribe', channel: 'operator' });
      for (const [chatId, sub] of this.chats) {
        this.send({
          type: 'subscribe',
          channel: 'chat',
          chat_id: chatId,
          after_seq: sub.lastSeq(),
        });
      }
    };
    socket.onmessage = (event) => {
      this.lastFrameAt = Date.now();
      let raw: unknown;
      try {
        raw = JSON.parse(String(event.data));
      } catch {
        console.warn('live: a frame that is not JSON was ignored');
        return;
      }
      const parsed = ws.ServerFrame.safeParse(raw);
      if (!parsed.success) {
        console.warn('live: a frame outside the contract was ignored', parsed.error.issues[0]);
        return;
      }
      const frame = parsed.data;
      if (frame.type === 'welcome') this.startPings(frame.heartbeat_ms);
      if (frame.type === 'reconnect') socket.close(4200, 'server asked to reconnect');
      for (const handler of this.handlers) handler(frame);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      clearInterval(this.pingTimer);
      this.socket = null;
      this.state = 'closed';
      if (this.stopped) return;
      const policy = reconnectPolicy(event.code);
      if (policy === 'reauth') {
        this.stopped = true;
        void redirectToLogin(true);
      } else if (policy === 'never') {
        this.stopped = true;
      } else {
        this.scheduleReconnect(policy === 'now');
      }
    };
  }

  private scheduleReconnect(now: boolean): void {
    this.attempts += 1;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (this.attempts - 1));
    // Full jitter spreads a crowd of consoles reconnecting after a gateway restart.
    const delay = now && this.attempts === 1 ? 0 : Math.random() * ceiling;
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private startPings(heartbeatMs: number): void {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastFrameAt > heartbeatMs * 2) {
        // Nothing heard for two heartbeats: the link is dead even if the socket looks open.
        this.socket?.close(4200, 'heartbeat missed');
        return;
      }
      this.send({ type: 'ping' });
    }, heartbeatMs / 2);
  }
}

export const live = new LiveConnection();
