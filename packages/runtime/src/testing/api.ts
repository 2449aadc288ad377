/** Typed REST and WebSocket clients for tests, speaking exactly the contracts. */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { http, ws as wsc } from '@parley/contracts';
import type { Stack } from './stack.ts';

type ServerFrame = wsc.ServerFrame;
type ClientFrameIn = Record<string, unknown> & { type: string };

export async function api<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers,
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // non-JSON body (HTML pages): keep the text
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

export async function loginOperator(
  stack: Pick<Stack, 'gatewayUrl' | 'adminEmail' | 'adminPassword'>,
  email?: string,
  password?: string,
) {
  const res = await api(stack.gatewayUrl, 'POST', '/api/auth/login', {
    body: { email: email ?? stack.adminEmail, password: password ?? stack.adminPassword },
  });
  if (res.status !== 200)
    throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return http.LoginResponse.parse(res.body);
}

export async function createVisitor(
  stack: Pick<Stack, 'gatewayUrl'>,
  body: http.VisitorSessionRequest = {},
) {
  const res = await api(stack.gatewayUrl, 'POST', '/api/visitor/session', { body });
  if (res.status !== 200)
    throw new Error(`visitor session failed: ${res.status} ${JSON.stringify(res.body)}`);
  return http.VisitorSessionResponse.parse(res.body);
}

export interface TestWsClient {
  socket: WebSocket;
  frames: ServerFrame[];
  send(frame: ClientFrameIn): void;
  sendRaw(data: string | Buffer): void;
  /** Resolves with the first frame (already received or future) matching the predicate. */
  nextFrame<F extends ServerFrame = ServerFrame>(
    pred: (f: ServerFrame) => boolean,
    timeoutMs?: number,
  ): Promise<F>;
  sendMessage(chatId: string, content: string, clientId?: string): Promise<wsc.AckFrame>;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export async function wsClient(
  baseUrl: string,
  token: string,
  opts: { origin?: string } = {},
): Promise<TestWsClient> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`;
  const socket = new WebSocket(url, { origin: opts.origin ?? baseUrl });
  const frames: ServerFrame[] = [];
  const waiters: Array<{ pred: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }> =
    [];
  socket.on('message', (data) => {
    const frame = wsc.ServerFrame.parse(JSON.parse(String(data)));
    frames.push(frame);
    for (const w of [...waiters]) {
      if (w.pred(frame)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(frame);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) =>
      reject(new Error(`upgrade refused: ${res.statusCode}`)),
    );
  });
  const client: TestWsClient = {
    socket,
    frames,
    send: (frame) => socket.send(JSON.stringify(frame)),
    sendRaw: (data) => socket.send(data),
    nextFrame: <F extends ServerFrame>(pred: (f: ServerFrame) => boolean, timeoutMs = 10_000) =>
      new Promise<F>((resolve, reject) => {
        const found = frames.find(pred);
        if (found) return resolve(found as F);
        const t = setTimeout(() => {
          waiters.splice(
            waiters.findIndex((w) => w.resolve === done),
            1,
          );
          reject(
            new Error(
              `no matching frame within ${timeoutMs} ms; got: ${frames.map((f) => f.type).join(',')}`,
            ),
          );
        }, timeoutMs);
        const done = (f: ServerFrame) => {
          clearTimeout(t);
          resolve(f as F);
        };
        waiters.push({ pred, resolve: done });
      }),
    async sendMessage(chatId, content, clientId = randomUUID()) {
      client.send({ type: 'send_message', chat_id: chatId, content, client_id: clientId });
      return client.nextFrame<wsc.AckFrame>((f) => f.type === 'ack' && f.client_id === clientId);
    },
    closed,
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await closed;
    },
  };
  return client;
}
