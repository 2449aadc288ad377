import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { WsCloseCode } from '@parley/contracts/errors';
import { http } from '@parley/contracts';
import {
  createChatSocket,
  socketUrl,
  ticketSocketUrl,
  WS_TICKET_PATH,
  type ChatSocketOptions,
  type SocketState,
} from './socket.ts';
import { FakeNetwork, socketFactory } from './testing/fakes.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(options: Partial<ChatSocketOptions> = {}) {
  const factory = socketFactory();
  const network = new FakeNetwork();
  const states: SocketState[] = [];
  const onUnauthorized = vi.fn();
  const onRefused = vi.fn();
  const socket = createChatSocket({
    url: () => socketUrl('https://chat.example', 'tok en'),
    open: factory.open,
    network,
    onUnauthorized,
    onRefused,
    ...options,
  });
  socket.onState((state) => states.push(state));
  socket.start();
  return { socket, factory, network, states, onUnauthorized, onRefused };
}

describe('chat socket', () => {
  test('connects to the wss URL with the token and is open only after the welcome', () => {
    const { socket, factory } = setup();
    expect(factory.last().url).toBe('wss://chat.example/ws?token=tok%20en');
    expect(socket.state).toBe('connecting');
    expect(socket.send({ type: 'ping' })).toBe(false);
    factory.last().welcome();
    expect(socket.state).toBe('open');
    expect(socket.send({ type: 'ping' })).toBe(true);
  });

  test('a silent link gets a ping, and an answer keeps it open', () => {
    const { socket, factory } = setup();
    factory.last().welcome();
    vi.advanceTimersByTime(4_000);
    expect(factory.last().sentOfType('ping')).toHaveLength(1);
    factory.last().receive({ type: 'pong' });
    vi.advanceTimersByTime(3_500);
    expect(socket.state).toBe('open');
    expect(factory.sockets).toHaveLength(1);
  });

  test('a dead link (no answer to the ping) is closed within 10 s and replaced at once', () => {
    const { socket, factory, states } = setup();
    factory.last().welcome();
    vi.advanceTimersByTime(7_000);
    expect(socket.state).not.toBe('open');
    expect(states).toContain('closed');
    expect(factory.sockets[0]?.closedWith?.code).toBe(WsCloseCode.heartbeatTimeout);
    vi.advanceTimersByTime(1);
    expect(factory.sockets).toHaveLength(2);
    factory.last().welcome();
    expect(socket.state).toBe('open');
  });

  test('the ping interval follows a shorter heartbeat from the server', () => {
    const { factory } = setup();
    factory.last().welcome(1_000);
    vi.advanceTimersByTime(1_000);
    expect(factory.last().sentOfType('ping')).toHaveLength(1);
  });

  test('a server that accepts but never says welcome is given up on and retried', () => {
    const { socket, factory } = setup();
    vi.advanceTimersByTime(5_000);
    expect(socket.state).toBe('closed');
    expect(socket.failures).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(factory.sockets).toHaveLength(2);
  });

  test('going offline closes at once; coming back online reconnects at once', () => {
    const { socket, factory, network } = setup();
    factory.last().welcome();
    network.set(false);
    expect(socket.state).toBe('closed');
    vi.advanceTimersByTime(60_000);
    expect(factory.sockets).toHaveLength(1);
    network.set(true);
    expect(factory.sockets).toHaveLength(2);
    expect(socket.state).toBe('connecting');
  });

  test('4001 asks the owner for a new credential and never retries the same one', () => {
    const { factory, onUnauthorized } = setup();
    factory.last().welcome();
    factory.last().serverClose(WsCloseCode.unauthorized, 'Logged out');
    vi.advanceTimersByTime(120_000);
    expect(onUnauthorized).toHaveBeenCalledOnce();
    expect(factory.sockets).toHaveLength(1);
  });

  test('another 4000s code stops reconnecting and says why', () => {
    const { factory, onRefused } = setup();
    factory.last().welcome();
    factory.last().serverClose(WsCloseCode.forbidden, 'Deactivated');
    vi.advanceTimersByTime(120_000);
    expect(onRefused).toHaveBeenCalledWith(4003, 'Deactivated');
    expect(factory.sockets).toHaveLength(1);
  });

  test('a 4100s code reconnects after a backoff, a 4200s code at once', () => {
    const { factory } = setup();
    factory.last().welcome();
    factory.last().serverClose(WsCloseCode.rateLimited);
    vi.advanceTimersByTime(100);
    expect(factory.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(factory.sockets).toHaveLength(2);
    factory.last().welcome();
    factory.last().serverClose(WsCloseCode.heartbeatTimeout);
    vi.advanceTimersByTime(1);
    expect(factory.sockets).toHaveLength(3);
  });

  test('failed attempts back off further each time and count as failures', () => {
    const { socket, factory } = setup({ baseDelayMs: 1_000 });
    factory.last().serverClose(1006);
    vi.advanceTimersByTime(1_000);
    expect(factory.sockets).toHaveLength(2);
    factory.last().serverClose(1006);
    vi.advanceTimersByTime(900);
    expect(factory.sockets).toHaveLength(2);
    vi.advanceTimersByTime(1_100);
    expect(factory.sockets).toHaveLength(3);
    expect(socket.failures).toBe(2);
  });

  test("the server's reconnect frame moves to a new connection straight away", () => {
    const { factory } = setup();
    factory.last().welcome();
    factory.last().receive({ type: 'reconnect', reason: 'shutting down' });
    vi.advanceTimersByTime(300);
    expect(factory.sockets).toHaveLength(2);
  });

  test('stop closes and nothing reconnects', () => {
    const { socket, factory } = setup();
    factory.last().welcome();
    socket.stop();
    vi.advanceTimersByTime(60_000);
    expect(factory.sockets).toHaveLength(1);
    expect(socket.state).toBe('closed');
  });

  test('a URL that takes a request (a ticket) is awaited; a failed request backs off', async () => {
    let tickets = 0;
    const { socket, factory } = setup({
      url: async () => {
        tickets += 1;
        if (tickets === 1) throw new Error('ticket endpoint down');
        return `wss://chat.example/ws?ticket=t${tickets}`;
      },
    });
    expect(socket.state).toBe('connecting');
    await vi.advanceTimersByTimeAsync(0);
    expect(socket.state).toBe('closed');
    expect(factory.sockets).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(500);
    expect(factory.last().url).toBe('wss://chat.example/ws?ticket=t2');
    factory.last().welcome();
    expect(socket.state).toBe('open');
  });

  test('a refused token at the ticket endpoint asks for a new credential, never retries it', async () => {
    const fetchTicket = vi.fn(async () =>
      Response.json({ code: 'unauthorized', message: 'Token revoked' }, { status: 401 }),
    );
    const { socket, factory, onUnauthorized } = setup({
      url: () => ticketSocketUrl('https://chat.example', 'tok', fetchTicket),
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(onUnauthorized).toHaveBeenCalledOnce();
    expect(socket.state).toBe('closed');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetchTicket).toHaveBeenCalledOnce();
    expect(factory.sockets).toHaveLength(0);
  });
});

describe('ticketSocketUrl', () => {
  test('posts the token in a header and connects with the ticket, never the token', async () => {
    const fetchTicket = vi.fn(async (_url: string | URL | Request, _init?: RequestInit) =>
      Response.json({ ticket: 'tk/1', expires_in: 30 }),
    );
    const url = await ticketSocketUrl('https://chat.example', 'secret-token', fetchTicket);
    expect(url).toBe('wss://chat.example/ws?ticket=tk%2F1');
    expect(url).not.toContain('secret-token');
    const [target, init] = fetchTicket.mock.calls[0]!;
    expect(target).toBe('https://chat.example/api/ws_ticket');
    expect(init?.method).toBe('POST');
    expect(new Headers(init?.headers).get('authorization')).toBe('Bearer secret-token');
  });

  test('uses the path both route tables give the ticket endpoint', () => {
    expect(WS_TICKET_PATH).toBe(http.consoleRoutes.wsTicket.path);
    expect(WS_TICKET_PATH).toBe(http.visitorRoutes.wsTicket.path);
  });

  test('a gateway outage is a retryable failure, not a refused credential', async () => {
    const down = async () =>
      Response.json({ code: 'unavailable', message: 'down' }, { status: 503 });
    await expect(ticketSocketUrl('https://chat.example', 'tok', down)).rejects.toMatchObject({
      code: 'unavailable',
      status: 503,
    });
  });
});
