/**
 * The one WebSocket both apps use. It reports its real state, notices a dead link within a few
 * seconds (application pings: browsers cannot see protocol pings, and a frozen or unplugged
 * server sends no close), follows the browser's online/offline events, and reconnects the way
 * the contracts' close-code catalogue says: 4000s never, 4001 only with a new token (the owner
 * decides), 4100s after a backoff, 4200s at once. Every frame received is parsed with ServerFrame.
 */
import { reconnectPolicy } from '@parley/contracts/errors';
import { ServerFrame, type ClientFrame } from '@parley/contracts/ws';
import { backoffDelay } from './backoff.ts';
import { ApiError, errorFromResponse } from './errors.ts';

export type SocketState = 'connecting' | 'open' | 'closed';

/** The part of the browser's WebSocket this client uses (a fake in unit tests). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** The browser's idea of the network: navigator.onLine and the online/offline events. */
export interface NetworkStatus {
  isOnline(): boolean;
  /** Calls back on every online/offline event; returns the function that stops it. */
  watch(onChange: (online: boolean) => void): () => void;
}

export function browserNetwork(): NetworkStatus {
  return {
    isOnline: () => typeof navigator === 'undefined' || navigator.onLine !== false,
    watch(onChange) {
      const online = () => onChange(true);
      const offline = () => onChange(false);
      window.addEventListener('online', online);
      window.addEventListener('offline', offline);
      return () => {
        window.removeEventListener('online', online);
        window.removeEventListener('offline', offline);
      };
    },
  };
}

/**
 * The socket URL for an origin (`http(s)://host`) and a long-lived token (`?token=`, kept for
 * older clients; the apps use {@link ticketSocketUrl} so no token lands in an access log).
 */
export function socketUrl(origin: string, token: string): string {
  return `${origin.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`;
}

/** `POST /api/ws_ticket` (the contracts' `wsTicket` route of both route tables). */
export const WS_TICKET_PATH = '/api/ws_ticket';

/**
 * The socket URL with a single-use ticket valid for seconds, fetched with the token in the
 * Authorization header: the one place that says how a client authenticates its socket.
 * A refused token rejects with a 401 ApiError, which the socket treats as "sign in again".
 */
export async function ticketSocketUrl(
  origin: string,
  token: string,
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  const response = await fetchImpl(origin + WS_TICKET_PATH, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw await errorFromResponse(response);
  const body = (await response.json().catch(() => null)) as { ticket?: unknown } | null;
  if (typeof body?.ticket !== 'string')
    throw new ApiError('invalid_response', response.status, 'No ticket in the answer');
  return `${origin.replace(/^http/, 'ws')}/ws?ticket=${encodeURIComponent(body.ticket)}`;
}

export interface ChatSocketOptions {
  /**
   * The URL to connect to now, or null while there is no credential (nothing is attempted).
   * May be a promise, for a credential that takes a request to get (a one-time ticket).
   */
  url: () => string | null | Promise<string | null>;
  /** Opens a socket; the browser's WebSocket by default. */
  open?: (url: string) => WebSocketLike;
  network?: NetworkStatus;
  /** The server refused the credential (4001): get a new one, then call start() again. */
  onUnauthorized?: () => void;
  /** The server said never to reconnect (4000–4099 other than 4001, e.g. deactivated). */
  onRefused?: (code: number, reason: string) => void;
  /** Ping after this much silence; the server's heartbeat_ms caps it. */
  idlePingMs?: number;
  /** No frame at all this long after a ping: the link is dead. */
  pongTimeoutMs?: number;
  /** No welcome this long after opening: give up on this attempt. */
  connectTimeoutMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface ChatSocket {
  readonly state: SocketState;
  /** Attempts in a row that failed before the server's welcome (0 once one succeeds). */
  readonly failures: number;
  start(): void;
  stop(): void;
  /** Sends when open; returns false (nothing sent) otherwise. */
  send(frame: ClientFrame): boolean;
  /** Drops the current connection (if any) and connects again now. */
  reconnectNow(): void;
  /** Every valid frame; returns the function that stops it. */
  onFrame(listener: (frame: ServerFrame) => void): () => void;
  /** Every state change (`open` only after the server's welcome); returns the stop function. */
  onState(listener: (state: SocketState) => void): () => void;
}

const OPEN = 1;

export function createChatSocket(options: ChatSocketOptions): ChatSocket {
  const open = options.open ?? ((url: string) => new WebSocket(url) as unknown as WebSocketLike);
  const network = options.network ?? browserNetwork();
  const idlePingMs = options.idlePingMs ?? 4_000;
  const pongTimeoutMs = options.pongTimeoutMs ?? 3_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;

  const frameListeners = new Set<(frame: ServerFrame) => void>();
  const stateListeners = new Set<(state: SocketState) => void>();
  let ws: WebSocketLike | null = null;
  let state: SocketState = 'closed';
  let running = false;
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let silenceTimer: ReturnType<typeof setTimeout> | undefined;
  let pingEveryMs = idlePingMs;
  let unwatchNetwork: (() => void) | null = null;
  /** A URL promise is pending; `generations` tells a stale one from the current one. */
  let resolving = false;
  let generations = 0;

  function setState(next: SocketState) {
    if (next === state) return;
    state = next;
    for (const listener of stateListeners) listener(next);
  }

  function clearTimers() {
    clearTimeout(retryTimer);
    clearTimeout(silenceTimer);
    retryTimer = undefined;
    silenceTimer = undefined;
  }

  /**
   * Forgets the current socket at once. close() alone is not enough: on a dead link the browser
   * waits for a closing handshake that never comes before it fires `close`.
   */
  function drop(code: number, reason: string) {
    const socket = ws;
    ws = null;
    generations += 1;
    resolving = false;
    clearTimers();
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close(code, reason);
      } catch {
        // Already closing: nothing more to release.
      }
    }
    setState('closed');
  }

  function schedule(delayMs: number) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delayMs);
  }

  // One timer: after `pingEveryMs` of silence send a ping, then expect any frame within
  // `pongTimeoutMs`. Every frame re-arms it, so a busy link sends no pings at all.
  function armSilence(socket: WebSocketLike) {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => {
      if (ws !== socket) return;
      socket.send(JSON.stringify({ type: 'ping' } satisfies ClientFrame));
      silenceTimer = setTimeout(() => {
        if (ws !== socket) return;
        drop(4200, 'heartbeat missed');
        schedule(0);
      }, pongTimeoutMs);
    }, pingEveryMs);
  }

  function connect() {
    clearTimeout(retryTimer);
    if (!running || ws || resolving || !network.isOnline()) return;
    const url = options.url();
    if (typeof url !== 'object' || url === null) {
      if (url) openSocket(url);
      return;
    }
    // A URL that needs a round trip first (a short-lived ticket): a failure counts as an attempt.
    resolving = true;
    setState('connecting');
    const generation = ++generations;
    url.then(
      (resolved) => {
        resolving = false;
        if (generation !== generations || !running) return;
        if (resolved) openSocket(resolved);
        else setState('closed');
      },
      (error: unknown) => {
        resolving = false;
        if (generation !== generations || !running) return;
        if (error instanceof ApiError && error.status === 401) {
          // The credential itself was refused: a new session or login, never the same token.
          running = false;
          setState('closed');
          options.onUnauthorized?.();
          return;
        }
        failures += 1;
        setState('closed');
        schedule(backoffDelay(failures - 1, baseDelayMs, maxDelayMs));
      },
    );
  }

  function openSocket(url: string) {
    setState('connecting');
    let welcomed = false;
    const socket = open(url);
    ws = socket;
    silenceTimer = setTimeout(() => {
      if (ws !== socket) return;
      failures += 1;
      drop(4200, 'no welcome');
      schedule(backoffDelay(failures - 1, baseDelayMs, maxDelayMs));
    }, connectTimeoutMs);

    socket.onmessage = (event) => {
      if (ws !== socket) return;
      const frame = parseFrame(event.data);
      if (!frame) return;
      if (frame.type === 'welcome') {
        welcomed = true;
        failures = 0;
        pingEveryMs = Math.min(idlePingMs, frame.heartbeat_ms);
        setState('open');
      }
      if (welcomed) armSilence(socket);
      if (frame.type === 'reconnect') {
        // The gateway is shutting down: go to another replica straight away.
        drop(1000, 'server asked to reconnect');
        schedule(Math.random() * 300);
        return;
      }
      for (const listener of frameListeners) listener(frame);
    };

    socket.onclose = (event) => {
      if (ws !== socket) return;
      ws = null;
      clearTimers();
      setState('closed');
      if (!running) return;
      if (!welcomed) failures += 1;
      const policy = reconnectPolicy(event.code);
      if (policy === 'reauth') {
        running = false;
        options.onUnauthorized?.();
      } else if (policy === 'never') {
        running = false;
        options.onRefused?.(event.code, event.reason);
      } else if (policy === 'now' && welcomed) {
        schedule(0);
      } else {
        schedule(backoffDelay(Math.max(failures - 1, 0), baseDelayMs, maxDelayMs));
      }
    };
  }

  function onNetwork(online: boolean) {
    if (!running) return;
    if (!online) {
      // The browser knows the link is gone: say so now instead of after a missed ping.
      drop(1000, 'browser offline');
      return;
    }
    failures = 0;
    drop(1000, 'browser back online');
    connect();
  }

  return {
    get state() {
      return state;
    },
    get failures() {
      return failures;
    },
    start() {
      if (running) return;
      running = true;
      unwatchNetwork ??= network.watch(onNetwork);
      connect();
    },
    stop() {
      running = false;
      unwatchNetwork?.();
      unwatchNetwork = null;
      drop(1000, 'client closed');
    },
    send(frame) {
      if (!ws || state !== 'open' || ws.readyState !== OPEN) return false;
      ws.send(JSON.stringify(frame));
      return true;
    },
    reconnectNow() {
      if (!running) return;
      drop(1000, 'reconnect');
      connect();
    },
    onFrame(listener) {
      frameListeners.add(listener);
      return () => frameListeners.delete(listener);
    },
    onState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
  };
}

function parseFrame(data: unknown): ServerFrame | null {
  let json: unknown;
  try {
    json = JSON.parse(String(data));
  } catch {
    console.warn('[parley] ignored a frame that is not JSON');
    return null;
  }
  const parsed = ServerFrame.safeParse(json);
  if (!parsed.success) {
    // zod/mini has no message locale here (it would add to the widget's size): log the issue itself.
    const issue = parsed.error.issues[0];
    console.warn('[parley] ignored an unknown frame', issue?.code, issue?.path.join('.'));
    return null;
  }
  return parsed.data;
}
