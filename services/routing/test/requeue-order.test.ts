/**
 * The queue order when operators' chats come back one operator after the other, driven step by
 * step through the store's scripts (no timers involved, so the interleaving is explicit).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChatId, Operator, OperatorId, UserId } from '@parley/contracts';
import { startRedisServer, type ManagedProcess } from '@parley/runtime/testing';
import { createRedisStore } from '../src/adapters/redis-store.ts';

let server: ManagedProcess & { url: string };
let store: ReturnType<typeof createRedisStore>;

beforeAll(async () => {
  server = await startRedisServer();
  store = createRedisStore({
    url: server.url,
    prefix: 'rq:',
    operatorGraceMs: 60_000,
    visitorGraceMs: 60_000,
    returnGraceMs: 60_000,
    gatewayTimeoutMs: 60_000,
  });
});
afterAll(async () => {
  await store?.disconnect();
  await server?.stop();
});

function operator(name: string): Operator {
  return {
    id: randomUUID() as OperatorId,
    email: `${name}@example.com`,
    name,
    role: 'agent',
    max_chats: 5,
    active: true,
    created_at: new Date().toISOString(),
  };
}

async function visitorWrites(writtenAt: number): Promise<ChatId> {
  const chatId = randomUUID() as ChatId;
  await store.openSession({
    chatId,
    userId: `v_${randomUUID()}` as UserId,
    userName: null,
    userEmail: null,
    preview: 'Hello',
    seq: 1,
    offline: false,
    writtenAt: new Date(writtenAt),
  });
  return chatId;
}

it('keeps requeued chats in the order their first messages were stored when operators go offline one after the other', async () => {
  const clara = operator('clara');
  const anna = operator('anna');
  for (const op of [clara, anna]) {
    await store.upsertOperator(op);
    await store.setStatus(op.id, 'away');
  }
  const t = Date.now();
  const c1 = await visitorWrites(t);
  const c2 = await visitorWrites(t + 10);
  const c3 = await visitorWrites(t + 20);
  await store.take(c1, clara.id);
  await store.take(c3, clara.id);
  await store.take(c2, anna.id);

  // Clara's grace lapses first, Anna's a moment later: Anna's older chat c2 must not jump
  // ahead of Clara's c1, nor fall behind c3.
  await store.setStatus(clara.id, 'offline');
  await store.setStatus(anna.id, 'offline');
  expect((await store.queue()).map((q) => q.chat_id)).toEqual([c1, c2, c3]);

  // A new arrival, even one stored earlier than all of them, still queues behind them.
  const early = await visitorWrites(t - 1000);
  expect((await store.queue()).map((q) => q.chat_id)).toEqual([c1, c2, c3, early]);
});
