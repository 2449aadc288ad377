/** Fakes of the browser ports (WebSocket, network events) for the unit tests. */
import type { ClientFrame, ServerFrame } from '@parley/contracts/ws';
import type { NetworkStatus, SocketState, WebSocketLike } from '../socket.ts';

export class FakeWebSocket implements WebSocketLike {
  readyState = 0;
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;
  readonly sent: Array<Record<string, unknown>> = [];
  closedWith: { code?: number; reason?: string } | null = null;
  readonly url: string;
  constructor(url: string) {
    this.url = url;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 2;
  }
  /** The server accepts and says hello. */
  welcome(heartbeatMs = 30_000): void {
    this.readyState = 1;
    this.onopen?.({});
    this.receive({
      type: 'welcome',
      connection_id: 'c1',
      role: 'visitor',
      heartbeat_ms: heartbeatMs,
    });
  }
  receive(frame: ServerFrame | Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  /** The server closes the connection with this code. */
  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  sentOfType(type: string): Array<Record<string, unknown>> {
    return this.sent.filter((f) => f.type === type);
  }
}

export class FakeNetwork implements NetworkStatus {
  online = true;
  #listeners = new Set<(online: boolean) => void>();
  isOnline(): boolean {
    return this.online;
  }
  watch(onChange: (online: boolean) => void): () => void {
    this.#listeners.add(onChange);
    return () => this.#listeners.delete(onChange);
  }
  set(online: boolean): void {
    this.online = online;
    for (const listener of this.#listeners) listener(online);
  }
}

/** Every socket the client under test opened, newest last. */
export function socketFactory(): {
  sockets: FakeWebSocket[];
  open: (url: string) => FakeWebSocket;
  last(): FakeWebSocket;
} {
  const sockets: FakeWebSocket[] = [];
  return {
    sockets,
    open(url) {
      const socket = new FakeWebSocket(url);
      sockets.push(socket);
      return socket;
    },
    last() {
      const socket = sockets.at(-1);
      if (!socket) throw new Error('no socket was opened');
      return socket;
    },
  };
}

/** A socket as the conversation sees it: its state, what was sent, frames pushed by the test. */
export class FakeChannel {
  state: SocketState = 'open';
  readonly sent: ClientFrame[] = [];
  #frames = new Set<(frame: ServerFrame) => void>();
  #states = new Set<(state: SocketState) => void>();
  send(frame: ClientFrame): boolean {
    if (this.state !== 'open') return false;
    this.sent.push(frame);
    return true;
  }
  onFrame(listener: (frame: ServerFrame) => void): () => void {
    this.#frames.add(listener);
    return () => this.#frames.delete(listener);
  }
  onState(listener: (state: SocketState) => void): () => void {
    this.#states.add(listener);
    return () => this.#states.delete(listener);
  }
  push(frame: ServerFrame): void {
    for (const listener of this.#frames) listener(frame);
  }
  setState(state: SocketState): void {
    this.state = state;
    for (const listener of this.#states) listener(state);
  }
  sentOfType<T extends ClientFrame['type']>(type: T): Array<Extract<ClientFrame, { type: T }>> {
    return this.sent.filter((f): f is Extract<ClientFrame, { type: T }> => f.type === type);
  }
}
