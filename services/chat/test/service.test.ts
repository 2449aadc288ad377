/**
 * The chat service as deployed: two real chat-service processes on one SQLite file, a real
 * nats-server with JetStream, driven over NATS with the runtime's bus exactly as the gateway
 * and notify do, plus the internal attachment HTTP.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, type Attachment, type ChatId, type UserId } from '@parley/contracts';
import { rpcCatalog, type EventSubject, type RpcSubject } from '@parley/contracts/nats';
import { connectBus, createLogger, type Bus } from '@parley/runtime';
import {
  EventLog,
  startNatsServer,
  startService,
  type ManagedProcess,
} from '@parley/runtime/testing';

const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'admin password 1';
const MAX_ATTACHMENT_BYTES = 4096;
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

let nats: ManagedProcess;
const replicas: ManagedProcess[] = [];
let bus: Bus;
let dataDir: string;
const log = new EventLog();

beforeAll(async () => {
  nats = await startNatsServer();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-chat-svc-'));
  const env = {
    NATS_URL: nats.url,
    DATA_DIR: dataDir,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ADMIN_NAME: 'Root',
    MAX_ATTACHMENT_BYTES: String(MAX_ATTACHMENT_BYTES),
  };
  // Two replicas on one SQLite file, started together: both bootstrap, one admin results.
  replicas.push(...(await Promise.all([startService('chat', env), startService('chat', env)])));
  bus = await connectBus({
    servers: nats.url,
    name: 'chat-service-test',
    logger: createLogger('test', 'silent'),
  });
  const subjects: EventSubject[] = [
    'chat.evt.message_created',
    'chat.evt.chat_read',
    'chat.evt.chat_viewed',
    'chat.evt.chat_archived',
    'chat.evt.chat_unarchived',
    'chat.evt.visitor_updated',
    'chat.evt.operator_changed',
  ];
  for (const subject of subjects) bus.subscribe(subject, (payload) => log.push(subject, payload));
  await bus.nc.flush();
});

afterAll(async () => {
  await bus?.drain();
  await Promise.all(replicas.map((r) => r.stop()));
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function newChat(): Promise<{ id: ChatId; user: UserId }> {
  const user = `v_${randomUUID()}` as UserId;
  const chat = await bus.request('chat.rpc.visitor_chat', {
    visitor: { user_id: user, identified: false, email: 'visitor@example.com', name: 'Vee' },
  });
  return { id: chat.id, user };
}

function sendAs(
  chatId: ChatId,
  content: string,
  senderType: 'user' | 'admin',
  clientId: string = randomUUID(),
) {
  return bus.request('chat.rpc.send_message', {
    chat_id: chatId,
    content,
    client_id: clientId as never,
    sender_type: senderType,
    sender_id: null,
    sender_name: null,
  });
}

describe('chat service over NATS', () => {
  it('is ready and bootstrapped the admin operator once', async () => {
    for (const r of replicas) expect((await fetch(`${r.url}/readyz`)).status).toBe(200);
    const admin = await bus.request('chat.rpc.operator_authenticate', {
      email: ADMIN_EMAIL,
      password: ADMIN_PASSWORD,
    });
    expect(admin).toMatchObject({ email: ADMIN_EMAIL, role: 'admin', name: 'Root', active: true });
    expect(
      await bus.request('chat.rpc.operator_authenticate', { email: ADMIN_EMAIL, password: 'nope' }),
    ).toBeNull();
    const all = await bus.request('chat.rpc.operator_list', {});
    expect(all.filter((o) => o.email === ADMIN_EMAIL)).toHaveLength(1);
  });

  it('stores a message, publishes it once, and answers a resend with the stored message and no event', async () => {
    const chat = await newChat();
    const clientId = randomUUID();
    const sent = await sendAs(chat.id, '  hello  ', 'user', clientId);
    expect(sent).toMatchObject({
      duplicate: false,
      message: { content: 'hello', seq: 1, client_id: clientId },
    });
    const event = await log.next(
      'chat.evt.message_created',
      (p) => p.message.id === sent.message.id,
    );
    expect(event.chat).toMatchObject({
      id: chat.id,
      unread: true,
      last_seq: 1,
      user_email: 'visitor@example.com',
    });

    const resent = await sendAs(chat.id, 'hello', 'user', clientId);
    expect(resent).toEqual({ duplicate: true, message: sent.message });
    // A later message's event arrives after anything the resend could have published.
    const later = await sendAs(chat.id, 'later', 'user');
    await log.next('chat.evt.message_created', (p) => p.message.id === later.message.id);
    expect(log.count('chat.evt.message_created', (p) => p.message.id === sent.message.id)).toBe(1);
    const metrics = await Promise.all(
      replicas.map(async (r) => (await fetch(`${r.url}/metrics`)).text()),
    );
    expect(metrics.join('\n')).toMatch(
      /parley_chat_messages_total\{result="duplicate",service="chat"\} 1/,
    );
    const stored = await bus.request('chat.rpc.messages_after', {
      chat_id: chat.id,
      after_seq: 0,
      limit: 10,
    });
    expect(stored.messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it('keeps seq gap-free with 50 concurrent sends spread over two service processes', async () => {
    const chat = await newChat();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => sendAs(chat.id, `burst ${i}`, i % 3 ? 'user' : 'admin')),
    );
    expect(results.map((r) => r.message.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    const page = await bus.request('chat.rpc.messages_after', {
      chat_id: chat.id,
      after_seq: 0,
      limit: 1000,
    });
    expect(page.messages.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(page.last_seq).toBe(50);

    // One client_id sent 10 times at once (both replicas answer some): stored once, as seq 51.
    const clientId = randomUUID();
    const resends = await Promise.all(
      Array.from({ length: 10 }, () =>
        sendAs(chat.id, 'sent on a flaky network', 'user', clientId),
      ),
    );
    expect(resends.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(resends.map((r) => `${r.message.id}/${r.message.seq}`))).toEqual(
      new Set([`${resends[0]!.message.id}/51`]),
    );
    const tail = await bus.request('chat.rpc.messages_after', {
      chat_id: chat.id,
      after_seq: 50,
      limit: 10,
    });
    expect(tail.messages.map((m) => m.seq)).toEqual([51]);
  });

  it('publishes read, viewed, archived and unarchived events after the change', async () => {
    const chat = await newChat();
    await sendAs(chat.id, 'question', 'user');
    const reply = await sendAs(chat.id, 'answer', 'admin');

    const read = await bus.request('chat.rpc.mark_read', { chat_id: chat.id });
    expect(read).toMatchObject({ count: 1, up_to_seq: 2 });
    await log.next('chat.evt.chat_read', (p) => p.chat_id === chat.id && p.up_to_seq === 2);
    const after = await bus.request('chat.rpc.messages_after', {
      chat_id: chat.id,
      after_seq: 1,
      limit: 10,
    });
    expect(after.messages[0]).toMatchObject({ id: reply.message.id, read_at: read.read_at });

    const operatorId = randomUUID();
    const opened = await bus.request('chat.rpc.admin_chat', {
      chat_id: chat.id,
      viewer: operatorId as never,
    });
    expect(opened.messages.map((m) => m.content)).toEqual(['question', 'answer']);
    const viewed = await log.next('chat.evt.chat_viewed', (p) => p.chat_id === chat.id);
    expect(viewed.chat.unread).toBe(false);

    // The one way to mark a chat viewed without reading it (the console keeps it open).
    await sendAs(chat.id, 'one more', 'user');
    const summary = await bus.request('chat.rpc.mark_viewed', {
      chat_id: chat.id,
      operator_id: operatorId as never,
    });
    expect(summary).toMatchObject({ id: chat.id, unread: false });
    const again = await log.next(
      'chat.evt.chat_viewed',
      (p) => p.chat_id === chat.id && p.chat.last_seq === summary.last_seq,
    );
    expect(again.operator_id).toBe(operatorId);
    await expect(
      bus.request('chat.rpc.mark_viewed', {
        chat_id: randomUUID() as never,
        operator_id: operatorId as never,
      }),
    ).rejects.toMatchObject({ code: 'not_found' });

    const archived = await bus.request('chat.rpc.archive', { chat_id: chat.id });
    expect(archived.archived).toBe(true);
    await log.next('chat.evt.chat_archived', (p) => p.chat.id === chat.id);
    const list = await bus.request('chat.rpc.list_chats', {
      archived: true,
      cursor: null,
      limit: 200,
    });
    expect(list.items.map((i) => i.id)).toContain(chat.id);

    await sendAs(chat.id, 'me again', 'user');
    const unarchived = await log.next('chat.evt.chat_unarchived', (p) => p.chat.id === chat.id);
    expect(unarchived.chat).toMatchObject({ archived: false, unread: true });
  });

  it('claims the unread-reply email exactly once', async () => {
    const chat = await newChat();
    const reply = await sendAs(chat.id, 'we replied', 'admin');
    const claims = await Promise.all(
      [1, 2, 3, 4].map(() =>
        bus.request('chat.rpc.notify_claim', { chat_id: chat.id, up_to_seq: reply.message.seq }),
      ),
    );
    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    expect(claims.find((c) => c.claimed)).toMatchObject({
      profile: { email: 'visitor@example.com' },
      unread: [{ id: reply.message.id }],
    });
  });
});

describe('chat RPC input', () => {
  it('rejects {"$ne": null} in any field of every chat RPC with bad_request', async () => {
    const chat = await newChat();
    const id = randomUUID();
    const actor = { kind: 'operator', operator_id: id, name: 'X', role: 'admin' };
    const samples: Partial<Record<RpcSubject, Record<string, unknown>>> = {
      'chat.rpc.visitor_chat': {
        visitor: { user_id: chat.user, identified: false, email: null, name: null },
        limit: 5,
      },
      'chat.rpc.update_visitor': { user_id: chat.user, update: { name: 'X' } },
      'chat.rpc.visitor_profile': { user_id: chat.user },
      'chat.rpc.unsubscribe': { user_id: chat.user },
      'chat.rpc.chat_owner': { chat_id: chat.id },
      'chat.rpc.send_message': {
        chat_id: chat.id,
        content: 'x',
        client_id: id,
        sender_type: 'user',
        sender_id: null,
        sender_name: null,
        attachment_ids: [],
      },
      'chat.rpc.mark_read': { chat_id: chat.id },
      'chat.rpc.messages_after': { chat_id: chat.id, after_seq: 0, limit: 5 },
      'chat.rpc.messages_before': { chat_id: chat.id, before_seq: 5, limit: 5 },
      'chat.rpc.list_chats': { archived: false, cursor: null, limit: 5 },
      'chat.rpc.chat_summary': { chat_id: chat.id },
      'chat.rpc.admin_chat': { chat_id: chat.id, viewer: null, limit: 5 },
      'chat.rpc.mark_viewed': { chat_id: chat.id, operator_id: id },
      'chat.rpc.archive': { chat_id: chat.id },
      'chat.rpc.unarchive': { chat_id: chat.id },
      'chat.rpc.operator_authenticate': { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
      'chat.rpc.operator_get': { id },
      'chat.rpc.operator_create': {
        email: 'x@example.com',
        name: 'X',
        password: '0123456789',
        role: 'agent',
        max_chats: 3,
      },
      'chat.rpc.operator_update': { id, update: { name: 'X' } },
      'chat.rpc.attachment_get': { id },
      'chat.rpc.notify_claim': { chat_id: chat.id, up_to_seq: 1 },
      'chat.rpc.mentions': { operator_id: id, limit: 5 },
      'chat.rpc.canned_list': { actor },
      'chat.rpc.canned_create': {
        actor,
        body: { shortcut: 'x', title: 'x', content: 'x', scope: 'personal' },
      },
      'chat.rpc.canned_update': { actor, id, update: { title: 'y' } },
      'chat.rpc.canned_delete': { actor, id },
      'chat.rpc.label_create': { name: 'x', color: '#000' },
      'chat.rpc.label_delete': { id },
      'chat.rpc.set_chat_labels': { chat_id: chat.id, labels: [] },
    };
    const served = Object.keys(rpcCatalog).filter(
      // Requests without fields have nothing to inject into.
      (s) =>
        s.startsWith('chat.rpc.') && s !== 'chat.rpc.operator_list' && s !== 'chat.rpc.label_list',
    );
    expect(Object.keys(samples).sort()).toEqual(served.sort());
    const injected = { $ne: null };
    let cases = 0;
    for (const [subject, sample] of Object.entries(samples) as Array<
      [RpcSubject, Record<string, unknown>]
    >) {
      const variants: Array<Record<string, unknown>> = [];
      for (const key of Object.keys(sample)) {
        variants.push({ ...sample, [key]: injected });
        const inner = sample[key];
        if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
          for (const innerKey of Object.keys(inner)) {
            variants.push({ ...sample, [key]: { ...inner, [innerKey]: injected } });
          }
        }
      }
      for (const payload of variants) {
        const err = await bus.request(subject, payload as never).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, `${subject} ${JSON.stringify(payload)}`).toBeInstanceOf(AppError);
        expect((err as AppError).code, `${subject} ${JSON.stringify(payload)}`).toBe('bad_request');
        cases += 1;
      }
    }
    expect(cases).toBeGreaterThan(40);
    // Nothing was written by the injected operator_create.
    expect(
      await bus.request('chat.rpc.operator_authenticate', {
        email: 'x@example.com',
        password: '0123456789',
      }),
    ).toBeNull();
  });
});

describe('internal attachment HTTP', () => {
  const upload = (body: Buffer, headers: Record<string, string>) =>
    fetch(`${replicas[0]!.url}/internal/attachments`, {
      method: 'POST',
      body: new Uint8Array(body),
      headers,
    });

  it('stores by content type and serves with a safe disposition and nosniff', async () => {
    const chat = await newChat();
    const res = await upload(PNG_1X1, {
      'x-chat-id': chat.id,
      'x-filename': encodeURIComponent('фото.png'),
      'content-type': 'image/png',
    });
    expect(res.status).toBe(201);
    const attachment = (await res.json()) as Attachment;
    expect(attachment).toMatchObject({
      kind: 'image',
      content_type: 'image/png',
      name: 'фото.png',
      size: PNG_1X1.length,
    });
    expect(attachment.url).toBe(`/api/attachments/${attachment.id}`);

    // Served by the other replica too: the metadata and the file are shared.
    const got = await fetch(`${replicas[1]!.url}/internal/attachments/${attachment.id}`);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-disposition')).toMatch(/^inline;/);
    expect(Buffer.from(await got.arrayBuffer()).equals(PNG_1X1)).toBe(true);

    const part = await fetch(`${replicas[0]!.url}/internal/attachments/${attachment.id}`, {
      headers: { range: 'bytes=8-15' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 8-15/${PNG_1X1.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(PNG_1X1.subarray(8, 16))).toBe(true);
    const beyond = await fetch(`${replicas[0]!.url}/internal/attachments/${attachment.id}`, {
      headers: { range: 'bytes=5000-6000' },
    });
    expect(beyond.status).toBe(416);

    const meta = await bus.request('chat.rpc.attachment_get', { id: attachment.id });
    expect(meta).toMatchObject({ id: attachment.id, chat_id: chat.id });
    const sent = await bus.request('chat.rpc.send_message', {
      chat_id: chat.id,
      content: '',
      client_id: randomUUID() as never,
      sender_type: 'user',
      sender_id: null,
      sender_name: null,
      attachment_ids: [attachment.id],
    });
    expect(sent.message.attachments).toEqual([attachment]);

    const svg = await upload(
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
      {
        'x-chat-id': chat.id,
        'x-filename': 'logo.svg',
        'content-type': 'image/svg+xml',
      },
    );
    expect(svg.status).toBe(201);
    const svgAttachment = (await svg.json()) as Attachment;
    const svgGot = await fetch(`${replicas[0]!.url}/internal/attachments/${svgAttachment.id}`);
    expect(svgGot.headers.get('content-type')).toBe('image/svg+xml');
    expect(svgGot.headers.get('content-disposition')).toMatch(/^attachment;/);
    await svgGot.arrayBuffer();
  });

  it('refuses what it cannot take, with the right status and nothing stored', async () => {
    const chat = await newChat();
    const tooBig = await upload(Buffer.alloc(MAX_ATTACHMENT_BYTES + 1, 1), {
      'x-chat-id': chat.id,
      'content-type': 'image/png',
    });
    expect(tooBig.status).toBe(413);
    const elf = Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
      Buffer.alloc(64),
    ]);
    const badType = await upload(elf, {
      'x-chat-id': chat.id,
      'x-filename': 'cat.png',
      'content-type': 'image/png',
    });
    expect(badType.status).toBe(415);
    expect(((await badType.json()) as { code: string }).code).toBe('unsupported_media_type');
    const noChat = await upload(PNG_1X1, {
      'x-chat-id': randomUUID(),
      'content-type': 'image/png',
    });
    expect(noChat.status).toBe(404);
    const badChat = await upload(PNG_1X1, {
      'x-chat-id': '{"$ne":null}',
      'content-type': 'image/png',
    });
    expect(badChat.status).toBe(400);
    const missing = await fetch(`${replicas[0]!.url}/internal/attachments/${randomUUID()}`);
    expect(missing.status).toBe(404);
    const summary = await bus.request('chat.rpc.chat_summary', { chat_id: chat.id });
    expect(summary?.message_count).toBe(0);
  });
});

describe('shutdown', () => {
  it('stops one replica cleanly on SIGTERM while the other keeps answering', async () => {
    const leaving = replicas[1]!;
    await leaving.stop();
    expect(leaving.proc.exitCode).toBe(0);
    const chat = await newChat();
    const sent = await sendAs(chat.id, 'still here', 'user');
    expect(sent.message.seq).toBe(1);
  });
});
