/**
 * The widget's WebSocket: connects with the visitor token, reports its real state, reconnects with
 * exponential backoff and full jitter, and after repeated failures tells the owner to poll over REST
 * until a connection succeeds again. Every frame received is parsed with contracts' ServerFrame.
 */
import { ServerFrame, type ClientFrame } from '@parley/contracts/ws';

export type SocketState = 'connecting' | 'open' | 'closed';

export interface SocketOptions {
  url: () => string | null;
  onFrame: (frame: ServerFrame) => void;
  /** Called on every state change; `open` only after the server's welcome frame. */
  onState: (state: SocketState) => void;
  /** True after `failuresBeforePolling` consecutive failures, false once a connection succeeds. */
  onPolling: (polling: boolean) => void;
  failuresBeforePolling?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface WidgetSocket {
  start(): void;
  stop(): void;
  /** Sends when open; returns false (nothing sent) otherwise. */
  send(frame: ClientFrame): boolean;
  /** Drops the current connection and tries again now (e.g. the browser came back online). */
  reconnectNow(): void;
  readonly state: SocketState;
}

export function createSocket(options: SocketOptions): WidgetSocket {
  const failuresBeforePolling = options.failuresBeforePolling ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const pollingProbeMaxMs = 8_000;

  let ws: WebSocket | null = null;
  let state: SocketState = 'closed';
  let running = false;
  let failures = 0;
  let polling = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  let lastInbound = 0;

  function setState(next: SocketState) {
    if (next === state) return;
    state = next;
    options.onState(next);
  }

  function setPolling(next: boolean) {
    if (next === polling) return;
    polling = next;
    options.onPolling(next);
  }

  function connect() {
    clearTimeout(retryTimer);
    if (!running) return;
    const url = options.url();
    if (!url) return;
    setState('connecting');
    let welcomed = false;
    const socket = new WebSocket(url);
    ws = socket;

    socket.onmessage = (event) => {
      if (ws !== socket) return;
      lastInbound = Date.now();
      let json: unknown;
      try {
        json = JSON.parse(String(event.data));
      } catch {
        console.warn('[parley] ignored a frame that is not JSON');
        return;
      }
      const parsed = ServerFrame.safeParse(json);
      if (!parsed.success) {
        // zod/mini has no message locale here (it would add to the widget's size): log the issue itself.
        const issue = parsed.error.issues[0];
        console.warn('[parley] ignored an unknown frame', issue?.code, issue?.path.join('.'));
        return;
      }
      const frame = parsed.data;
      if (frame.type === 'welcome') {
        welcomed = true;
        failures = 0;
        setPolling(false);
        setState('open');
        startHeartbeat(socket, frame.heartbeat_ms);
      } else if (frame.type === 'reconnect') {
        // The gateway is shutting down: go to another replica straight away.
        socket.close(4000, 'server asked to reconnect');
        return;
      }
      options.onFrame(frame);
    };

    socket.onclose = (event) => {
      if (ws !== socket) return;
      ws = null;
      stopHeartbeat();
      setState('closed');
      if (!running) return;
      if (!welcomed) failures += 1;
      if (failures >= failuresBeforePolling) setPolling(true);
      // A server restart (1012) or our own reconnect request (4000) retries at once.
      const immediate = welcomed && (event.code === 1012 || event.code === 4000);
      const delay = immediate ? Math.random() * 300 : backoff(failures);
      retryTimer = setTimeout(connect, delay);
    };
  }

  function backoff(attempt: number): number {
    // While polling carries the chat, keep probing for the socket more often so it comes back soon.
    const cap = polling ? Math.min(maxDelayMs, pollingProbeMaxMs) : maxDelayMs;
    const ceiling = Math.min(cap, baseDelayMs * 2 ** Math.min(attempt, 10));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  // Browsers cannot see protocol pings, so a silent half-open connection is found with app pings.
  function startHeartbeat(socket: WebSocket, intervalMs: number) {
    stopHeartbeat();
    lastInbound = Date.now();
    heartbeatTimer = setInterval(() => {
      if (Date.now() - lastInbound > intervalMs * 2) {
        socket.close(4001, 'heartbeat timeout');
        return;
      }
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'ping' }));
    }, intervalMs);
  }

  function stopHeartbeat() {
    clearInterval(heartbeatTimer);
    heartbeatTimer = undefined;
  }

  return {
    get state() {
      return state;
    },
    start() {
      if (running) return;
      running = true;
      connect();
    },
    stop() {
      running = false;
      clearTimeout(retryTimer);
      stopHeartbeat();
      const socket = ws;
      ws = null;
      socket?.close(1000, 'widget closed');
      setState('closed');
    },
    send(frame) {
      if (!ws || state !== 'open' || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(frame));
      return true;
    },
    reconnectNow() {
      if (!running) return;
      if (ws) {
        ws.close(4000, 'reconnect');
      } else {
        connect();
      }
    },
  };
}
