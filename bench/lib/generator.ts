/**
 * One load-generator process (forked by the runner, driven over IPC). It opens chats the way
 * real clients do, then sends messages open loop: message k is due at t0 + k/rate and carries
 * that due time, so any delay anywhere (including queueing in this process) shows as latency.
 * Each chat's visitor and operator live in this process, so send and receive times come from
 * the same clock.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import type { z } from 'zod';
import {
  CreateOperatorRequest,
  LoginResponse,
  RoutingMeResponse,
  SupportChatResponse,
  VisitorSessionResponse,
} from '@parley/contracts/http';
import type { ClientFrame } from '@parley/contracts/ws';
import type { SenderType } from '@parley/contracts/models';
import type {
  GeneratorCommand,
  GeneratorReply,
  GeneratorRequest,
  GeneratorStats,
  LoadCommand,
  LoadResult,
  SetupCommand,
  SetupResult,
  TargetSpec,
} from './protocol.ts';

const CONTENT_PREFIX = 'bench';

interface BenchChat {
  index: number;
  chatId: string;
  visitor: WebSocket;
  operator: WebSocket | null;
  sentCount: number;
  received: Set<number>;
}

const chats: BenchChat[] = [];
const sockets = new Set<WebSocket>();
const errors: Record<string, number> = {};
let closing = false;
let acks = 0;
let received = 0;
let duplicated = 0;
let histogram = newHistogram();
/** Numbers each load; a message from an earlier load that arrives late is not counted in this one. */
let runId = 0;
let lateFromEarlierRun = 0;
let lastDeliveryAt = 0;

function newHistogram() {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

function countError(code: string) {
  errors[code] = (errors[code] ?? 0) + 1;
}

/** Wall-clock milliseconds with sub-millisecond precision. */
function nowMs() {
  return performance.timeOrigin + performance.now();
}

// ---------------------------------------------------------------- setup

let setupRetries = 0;

/**
 * Retries a request whose keep-alive socket the server closed, or that got 503 because a service
 * behind the gateway was too slow; every retry is counted and reported.
 */
async function httpJson(
  target: Extract<TargetSpec, { kind: 'parley' }>,
  agent: http.Agent,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body: unknown,
  token?: string,
): Promise<Record<string, unknown>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await httpJsonOnce(target, agent, method, path, body, token);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const message = (err as Error).message;
      const dropped = code === 'ECONNRESET' || code === 'EPIPE' || message === 'socket hang up';
      // 503: a service behind the gateway did not answer in time; a real client retries later.
      const unavailable = message.includes('→ 503');
      if (!(dropped || unavailable) || attempt >= 5) throw err;
      setupRetries++;
      if (unavailable) await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}

function httpJsonOnce(
  target: Extract<TargetSpec, { kind: 'parley' }>,
  agent: http.Agent,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body: unknown,
  token?: string,
): Promise<Record<string, unknown>> {
  const url = new URL(path, target.httpUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          if ((res.statusCode ?? 500) >= 400) {
            reject(new Error(`${method} ${path} → ${res.statusCode}: ${text.slice(0, 300)}`));
            return;
          }
          try {
            resolve(JSON.parse(text) as Record<string, unknown>);
          } catch {
            reject(new Error(`${method} ${path} answered non-JSON: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

type OutgoingFrame = z.input<typeof ClientFrame>;

function frameText(frame: OutgoingFrame): string {
  return JSON.stringify(frame);
}

/** Opens a socket and resolves once it is open and (for Parley) has sent its welcome frame. */
function openSocket(
  url: string,
  setup: SetupCommand,
  onFrame: (frame: Record<string, unknown>) => void,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      localAddress: setup.localAddress,
      perMessageDeflate: false,
    });
    let heartbeat: NodeJS.Timeout | undefined;
    let ready = false;
    const startHeartbeat = (ms: number) => {
      if (heartbeat) clearInterval(heartbeat);
      // A random phase so thousands of connections do not ping in the same millisecond.
      const first = setTimeout(() => {
        sendPing();
        heartbeat = setInterval(sendPing, ms);
      }, Math.random() * ms);
      heartbeat = first;
    };
    const sendPing = () => {
      if (socket.readyState === socket.OPEN) socket.send(frameText({ type: 'ping' }));
    };
    socket.on('open', () => {
      sockets.add(socket);
      if (setup.target.kind === 'relay') {
        ready = true;
        startHeartbeat(setup.heartbeatMs);
        resolve(socket);
      }
    });
    // Frames in are checked by hand, not with the contracts schemas: parsing every frame with zod
    // would make the generator, not the system under test, the bottleneck.
    socket.on('message', (data) => {
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        countError('bad_frame');
        return;
      }
      if (!ready && frame.type === 'welcome') {
        ready = true;
        const ms = typeof frame.heartbeat_ms === 'number' ? frame.heartbeat_ms : setup.heartbeatMs;
        startHeartbeat(ms);
        resolve(socket);
        return;
      }
      onFrame(frame);
    });
    socket.on('error', (err) => {
      if (!ready) reject(err);
      else countError(`socket_error`);
    });
    socket.on('close', (code) => {
      if (heartbeat) clearInterval(heartbeat);
      sockets.delete(socket);
      if (!ready) reject(new Error(`closed before ready (${code})`));
      else if (!closing) countError(`closed_${code}`);
    });
  });
}

function subscribeChat(
  socket: WebSocket,
  chatId: string,
  pending: Map<string, () => void>,
): Promise<void> {
  return new Promise((resolve) => {
    pending.set(chatId, resolve);
    socket.send(frameText({ type: 'subscribe', channel: 'chat', chat_id: chatId }));
  });
}

async function runLimited<T>(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/**
 * Operators who take the chats, as on a real deployment: the admin creates them (capacity
 * chatsPerOperator each), each holds one console connection and goes online, and routing then
 * assigns every new chat to one of them instead of leaving it in the wait queue.
 */
async function onlineOperators(
  cmd: SetupCommand,
  target: Extract<TargetSpec, { kind: 'parley' }>,
  agent: http.Agent,
  adminToken: string,
): Promise<string[]> {
  const count = Math.ceil(cmd.chats / cmd.chatsPerOperator);
  const tokens: string[] = [];
  for (let k = 0; k < count; k++) {
    const email = `bench-${randomUUID()}@parley.test`;
    const password = randomUUID();
    await httpJson(
      target,
      agent,
      'POST',
      '/api/admin/operators',
      {
        email,
        password,
        name: `Bench operator ${k + 1}`,
        role: 'agent',
        max_chats: cmd.chatsPerOperator,
      } satisfies z.input<typeof CreateOperatorRequest>,
      adminToken,
    );
    const token = LoginResponse.parse(
      await httpJson(target, agent, 'POST', '/api/auth/login', { email, password }),
    ).token;
    const wsBase = target.wsUrls[k % target.wsUrls.length];
    // The console connection: presence follows open connections.
    await openSocket(`${wsBase}/ws?token=${encodeURIComponent(token)}`, cmd, () => undefined);
    await httpJson(target, agent, 'PUT', '/api/routing/status', { status: 'online' }, token);
    tokens.push(token);
  }
  return tokens;
}

/** How many chats routing assigned to the bench operators (GET /api/routing/me of each). */
async function assignedChats(
  target: Extract<TargetSpec, { kind: 'parley' }>,
  agent: http.Agent,
  tokens: string[],
): Promise<number> {
  let total = 0;
  for (const token of tokens) {
    const me = await httpJson(target, agent, 'GET', '/api/routing/me', undefined, token);
    total += RoutingMeResponse.parse(me).sessions.filter((s) => s.status === 'active').length;
  }
  return total;
}

async function setup(cmd: SetupCommand): Promise<SetupResult> {
  const started = performance.now();
  const target = cmd.target;
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: cmd.concurrency,
    localAddress: cmd.localAddress,
  });
  let operatorTokens: string[] = [];
  if (target.kind === 'parley' && cmd.operators) {
    const login = await httpJson(target, agent, 'POST', '/api/auth/login', {
      email: target.operatorEmail,
      password: target.operatorPassword,
    });
    const adminToken = LoginResponse.parse(login).token;
    operatorTokens = [adminToken];
    if (cmd.chatsPerOperator > 0)
      operatorTokens = await onlineOperators(cmd, target, agent, adminToken);
  }
  await runLimited(cmd.chats, cmd.concurrency, async (i) => {
    const wsBase = target.wsUrls[i % target.wsUrls.length];
    const subscribed = new Map<string, () => void>();
    let chatId: string;
    let visitorUrl: string;
    let operatorUrl: string | null = null;
    if (target.kind === 'parley') {
      const session = await httpJson(target, agent, 'POST', '/api/visitor/session', {});
      const visitorToken = VisitorSessionResponse.parse(session).token;
      const chat = await httpJson(
        target,
        agent,
        'GET',
        '/api/support_chat',
        undefined,
        visitorToken,
      );
      chatId = SupportChatResponse.parse(chat).id;
      visitorUrl = `${wsBase}/ws?token=${encodeURIComponent(visitorToken)}`;
      const operatorToken =
        operatorTokens[Math.floor(i / Math.max(1, cmd.chatsPerOperator)) % operatorTokens.length];
      if (cmd.operators && operatorToken)
        operatorUrl = `${wsBase}/ws?token=${encodeURIComponent(operatorToken)}`;
    } else {
      chatId = randomUUID();
      visitorUrl = `${wsBase}/ws?chat=${chatId}`;
      if (cmd.operators) operatorUrl = visitorUrl;
    }
    const entry: BenchChat = {
      index: i,
      chatId,
      visitor: undefined as unknown as WebSocket,
      operator: null,
      sentCount: 0,
      received: new Set(),
    };
    const onControl = (frame: Record<string, unknown>) => {
      if (frame.type === 'subscribed' && typeof frame.chat_id === 'string')
        subscribed.get(frame.chat_id)?.();
      else if (frame.type === 'rejected') countError(`rejected_${String(frame.reason)}`);
      else if (frame.type === 'error') countError(`error_${String(frame.code)}`);
    };
    entry.visitor = await openSocket(visitorUrl, cmd, (frame) => {
      if (frame.type === 'ack') acks++;
      else onControl(frame);
    });
    if (operatorUrl) {
      entry.operator = await openSocket(operatorUrl, cmd, (frame) => {
        const content = contentOf(frame);
        if (content !== null) onDelivered(content);
        else onControl(frame);
      });
    }
    if (target.kind === 'parley') {
      await subscribeChat(entry.visitor, chatId, subscribed);
      if (entry.operator) await subscribeChat(entry.operator, chatId, subscribed);
    }
    chats[i] = entry;
  });
  let assigned = 0;
  if (cmd.operators) {
    // One first message per chat, as a visitor opens a conversation: on Parley it opens the
    // routing session, which routing then assigns to an online operator.
    for (const chat of chats) sendBenchMessage(chat, nowMs());
    await waitUntil(
      () => received >= chats.length && (target.kind === 'relay' || acks >= chats.length),
      60_000,
    );
    if (target.kind === 'parley' && cmd.chatsPerOperator > 0) {
      const deadline = nowMs() + 15_000;
      do {
        assigned = await assignedChats(target, agent, operatorTokens);
        if (assigned >= chats.length) break;
        await new Promise((r) => setTimeout(r, 500));
      } while (nowMs() < deadline);
    }
  }
  agent.destroy();
  return {
    assigned,
    connections: sockets.size,
    setup_ms: performance.now() - started,
    retries: setupRetries,
  };
}

/** The bench content of a delivered visitor message: Parley's new_message, or the relay's forwarded send_message. */
function contentOf(frame: Record<string, unknown>): string | null {
  if (frame.type === 'new_message') {
    const message = frame.message as { content?: unknown; sender_type?: SenderType } | undefined;
    if (message?.sender_type !== 'user' || typeof message.content !== 'string') return null;
    return message.content;
  }
  if (frame.type === 'send_message' && typeof frame.content === 'string') return frame.content;
  return null;
}

function onDelivered(content: string) {
  const at = nowMs();
  const [prefix, run, chatIndex, n, sentAt] = content.split(' ');
  const chat = chats[Number(chatIndex)];
  if (prefix !== CONTENT_PREFIX || !chat) {
    countError('foreign_message');
    return;
  }
  if (Number(run) !== runId) {
    lateFromEarlierRun++;
    return;
  }
  lastDeliveryAt = at;
  const seq = Number(n);
  if (chat.received.has(seq)) {
    duplicated++;
    return;
  }
  chat.received.add(seq);
  received++;
  histogram.recordValue(Math.max(1, Math.round((at - Number(sentAt)) * 1000)));
}

// ---------------------------------------------------------------- load

/** Sends the chat's next numbered message, stamped with the time it was due. */
function sendBenchMessage(chat: BenchChat, due: number) {
  const n = chat.sentCount++;
  if (chat.visitor.readyState !== chat.visitor.OPEN) {
    countError('send_on_closed');
    return;
  }
  chat.visitor.send(
    frameText({
      type: 'send_message',
      chat_id: chat.chatId,
      content: `${CONTENT_PREFIX} ${runId} ${chat.index} ${n} ${due.toFixed(3)}`,
      client_id: randomUUID(),
    }),
  );
}

async function waitUntil(done: () => boolean, timeoutMs: number) {
  const deadline = nowMs() + timeoutMs;
  while (!done() && nowMs() < deadline) await new Promise((r) => setTimeout(r, 20));
}

async function load(cmd: LoadCommand): Promise<LoadResult> {
  histogram = newHistogram();
  runId++;
  lateFromEarlierRun = 0;
  received = 0;
  duplicated = 0;
  acks = 0;
  for (const key of Object.keys(errors)) delete errors[key];
  for (const chat of chats) {
    chat.sentCount = 0;
    chat.received.clear();
  }
  if (chats.length === 0) throw new Error('load before setup');
  const intervalMs = 1000 / cmd.rate;
  const total = Math.floor((cmd.rate * cmd.durationMs) / 1000);
  const t0 = nowMs();
  let k = 0;
  let maxLag = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowMs();
      while (k < total) {
        const due = t0 + k * intervalMs;
        if (due > now) break;
        maxLag = Math.max(maxLag, now - due);
        const chat = chats[k % chats.length]!;
        sendBenchMessage(chat, due);
        k++;
      }
      if (k >= total) resolve();
      else setTimeout(tick, Math.max(0, Math.min(intervalMs, t0 + k * intervalMs - nowMs())));
    };
    tick();
  });
  const sent = k;
  // Drain while messages keep arriving: a message is lost only when nothing at all has arrived
  // for drainMs (or the hard cap passes), so a backlog shows as latency, not as loss.
  const sendEnded = nowMs();
  lastDeliveryAt = Math.max(lastDeliveryAt, sendEnded);
  while (
    received < sent &&
    nowMs() - lastDeliveryAt < cmd.drainMs &&
    nowMs() - sendEnded < cmd.maxDrainMs
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    drain_ms: nowMs() - sendEnded,
    late_from_earlier_run: lateFromEarlierRun,
    sent,
    received,
    duplicated,
    lost: sent - received,
    errors: { ...errors },
    acks,
    histogram: hdr.encodeIntoCompressedBase64(histogram),
    max_schedule_lag_ms: maxLag,
  };
}

function stats(): GeneratorStats {
  const mem = process.memoryUsage();
  return { pid: process.pid, connections: sockets.size, rss: mem.rss, heap_used: mem.heapUsed };
}

async function close(): Promise<null> {
  closing = true;
  for (const socket of sockets) socket.terminate();
  setTimeout(() => process.exit(0), 50).unref();
  return null;
}

async function handle(command: GeneratorCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'setup':
      return setup(command);
    case 'load':
      return load(command);
    case 'stats':
      return stats();
    case 'close':
      return close();
  }
}

process.on('message', (request: GeneratorRequest) => {
  handle(request.command).then(
    (result) => process.send?.({ id: request.id, ok: true, result } satisfies GeneratorReply),
    (err: unknown) =>
      process.send?.({
        id: request.id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      } satisfies GeneratorReply),
  );
});
process.on('disconnect', () => process.exit(0));
