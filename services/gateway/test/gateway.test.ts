/**
 * The gateway against real NATS and the real chat service (two gateway replicas): identity,
 * channel authorization, hostile input and resume after reconnect.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, ws as wsc } from '@parley/contracts';
import { api, createVisitor, wsClient, type Stack } from '@parley/runtime/testing';
import { upgradeStatus, wsUrl, startGatewayStack, stackHelpers } from './gateway-stack.ts';

let stack: Stack;
let admin: http.LoginResponse;

beforeAll(async () => {
  ({ stack, admin } = await startGatewayStack());
});

afterAll(async () => {
  await stack?.stop();
});

const { userHash, visitorWithChat } = stackHelpers(() => stack);

describe('identity', () => {
  it('gives an anonymous visitor a random id and lets only its own token resume it', async () => {
    const first = await createVisitor(stack);
    expect(first.visitor.id).toMatch(/^v_/);
    expect(first.visitor.identified).toBe(false);

    const resumed = await createVisitor(stack, {
      visitor_id: first.visitor.id,
      token: first.token,
    });
    expect(resumed.visitor.id).toBe(first.visitor.id);

    const claimedWithoutProof = await createVisitor(stack, { visitor_id: first.visitor.id });
    expect(claimedWithoutProof.visitor.id).not.toBe(first.visitor.id);

    const forged = await new SignJWT({ kind: 'visitor', identified: false })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(first.visitor.id)
      .setJti(randomUUID())
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-secret-'.repeat(3)));
    const withForged = await createVisitor(stack, { visitor_id: first.visitor.id, token: forged });
    expect(withForged.visitor.id).not.toBe(first.visitor.id);
    const forgedRead = await api(stack.gatewayUrl, 'GET', '/api/support_chat', { token: forged });
    expect(forgedRead.status).toBe(401);
  });

  it('identifies a host user only with the right HMAC, and a wrong one sees nothing of theirs', async () => {
    const hostUser = `42-${randomUUID().slice(0, 8)}`;
    const owner = await createVisitor(stack, {
      user_id: hostUser,
      user_hash: userHash(hostUser),
      email: 'u42@example.com',
    });
    expect(owner.visitor).toMatchObject({ id: `u_${hostUser}`, identified: true });
    const sent = await api<http.SendMessageResponse>(
      stack.gatewayUrl,
      'POST',
      '/api/support_chat/messages',
      {
        token: owner.token,
        body: { content: 'my secret order number', client_id: randomUUID() },
      },
    );
    expect(sent.status).toBe(201);

    // Same user on another device, with the hash: the same chat.
    const otherDevice = await createVisitor(stack, {
      user_id: hostUser,
      user_hash: userHash(hostUser),
    });
    const again = await api<http.MessagesPage>(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: otherDevice.token,
    });
    expect(again.body.messages.map((m) => m.content)).toEqual(['my secret order number']);

    const attacker = await createVisitor(stack, {
      user_id: hostUser,
      user_hash: userHash('someone-else'),
    });
    expect(attacker.visitor.identified).toBe(false);
    expect(attacker.visitor.id).toMatch(/^v_/);
    const seen = await api<http.MessagesPage>(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: attacker.token,
    });
    expect(seen.status).toBe(200);
    expect(seen.body.messages).toEqual([]);
  });

  it('refuses REST calls without a token or with the wrong kind of token', async () => {
    expect((await api(stack.gatewayUrl, 'GET', '/api/support_chat')).status).toBe(401);
    expect(
      (await api(stack.gatewayUrl, 'GET', '/api/support_chat', { token: 'garbage' })).status,
    ).toBe(401);
    const visitor = await createVisitor(stack);
    const asVisitor = await api<{ code: string }>(stack.gatewayUrl, 'GET', '/api/admin/chats', {
      token: visitor.token,
    });
    expect(asVisitor.status).toBe(403);
    expect(asVisitor.body.code).toBe('forbidden');
  });
});

describe('channel authorization', () => {
  it('keeps a visitor out of another visitor’s chat on every path', async () => {
    const victim = await visitorWithChat('private words');
    const intruder = await createVisitor(stack);
    const client = await wsClient(stack.gatewayUrl, intruder.token);
    try {
      client.send({ type: 'subscribe', channel: 'chat', chat_id: victim.chatId, after_seq: 0 });
      const rejected = await client.nextFrame(
        (f) => f.type === 'rejected' && f.chat_id === victim.chatId,
      );
      expect(rejected).toMatchObject({ channel: 'chat' });

      // Enumerated ids get the same answer as the victim's.
      for (let i = 0; i < 5; i++) {
        const guess = randomUUID();
        client.send({ type: 'subscribe', channel: 'chat', chat_id: guess });
        await client.nextFrame((f) => f.type === 'rejected' && f.chat_id === guess);
      }

      const clientId = randomUUID();
      client.send({
        type: 'send_message',
        chat_id: victim.chatId,
        content: 'injected',
        client_id: clientId,
      });
      const error = await client.nextFrame<wsc.ErrorFrame>(
        (f) => f.type === 'error' && f.client_id === clientId,
      );
      expect(error.code).toBe('not_found');

      for (const channel of ['admin', 'operator'] as const) {
        client.send({ type: 'subscribe', channel });
        await client.nextFrame((f) => f.type === 'rejected' && f.channel === channel);
      }
      expect(client.frames.some((f) => f.type === 'new_message')).toBe(false);
    } finally {
      await client.close();
    }

    const read = await api(stack.gatewayUrl, 'GET', `/api/admin/chats/${victim.chatId}`, {
      token: intruder.token,
    });
    expect(read.status).toBe(403);
    const upload = await api(
      stack.gatewayUrl,
      'POST',
      `/api/attachments?chat_id=${victim.chatId}`,
      {
        token: intruder.token,
        headers: { 'content-type': 'text/plain' },
      },
    );
    expect(upload.status).toBe(404);

    // The victim's chat is untouched.
    const own = await api<http.MessagesPage>(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: victim.token,
    });
    expect(own.body.messages.map((m) => m.content)).toEqual(['private words']);
  });

  it('refuses a forbidden origin, a missing token and a bad token before the upgrade', async () => {
    const visitor = await createVisitor(stack);
    expect(
      await upgradeStatus(wsUrl(stack.gatewayUrl, visitor.token), {
        origin: 'https://evil.example',
      }),
    ).toBe(403);
    expect(await upgradeStatus(wsUrl(stack.gatewayUrl), { origin: stack.gatewayUrl })).toBe(401);
    expect(
      await upgradeStatus(wsUrl(stack.gatewayUrl, 'forged.token.value'), {
        origin: stack.gatewayUrl,
      }),
    ).toBe(401);
    expect(
      await upgradeStatus(wsUrl(stack.gatewayUrl, visitor.token), { origin: stack.gatewayUrl }),
    ).toBe(101);
    const cors = await api(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: visitor.token,
      headers: { origin: 'https://evil.example' },
    });
    expect(cors.status).toBe(403);
  });
});

describe('hostile frames', () => {
  it('answers garbage, wrong types and operator injection with errors and stays up', async () => {
    const visitor = await visitorWithChat();
    const client = await wsClient(stack.gatewayUrl, visitor.token);
    try {
      const hostile: Array<string | Buffer> = [
        'not json at all',
        '[]',
        'null',
        '{"type":"launch_missiles"}',
        '{"type":"subscribe","channel":"chat","chat_id":{"$ne":null}}',
        JSON.stringify({
          type: 'send_message',
          chat_id: visitor.chatId,
          content: { $gt: '' },
          client_id: randomUUID(),
        }),
        JSON.stringify({
          type: 'send_message',
          chat_id: visitor.chatId,
          content: 42,
          client_id: 'not-a-uuid',
        }),
        JSON.stringify({
          type: 'send_message',
          chat_id: visitor.chatId,
          content: 'x'.repeat(5001),
          client_id: randomUUID(),
        }),
        JSON.stringify({
          type: 'subscribe',
          channel: 'chat',
          chat_id: visitor.chatId,
          after_seq: -1,
        }),
        Buffer.from([0xde, 0xad, 0xbe, 0xef]),
      ];
      for (const frame of hostile) client.sendRaw(frame);
      await client.nextFrame(
        () => client.frames.filter((f) => f.type === 'error').length === hostile.length,
      );
      expect(
        client.frames
          .filter((f) => f.type === 'error')
          .every((f) => f.type === 'error' && f.code === 'bad_request'),
      ).toBe(true);
      // Still connected and working.
      client.send({ type: 'ping' });
      await client.nextFrame((f) => f.type === 'pong');
      const ack = await client.sendMessage(visitor.chatId, 'still here');
      expect(ack.message.content).toBe('still here');
    } finally {
      await client.close();
    }
  });

  it('closes an oversized frame with 1009 and keeps serving others', async () => {
    const visitor = await createVisitor(stack);
    const client = await wsClient(stack.gatewayUrl, visitor.token);
    client.sendRaw('x'.repeat(wsc.MAX_CLIENT_FRAME_BYTES + 1));
    const closed = await client.closed;
    expect(closed.code).toBe(1009);
    expect((await fetch(`${stack.gatewayUrl}/healthz`)).status).toBe(200);
    const next = await wsClient(stack.gatewayUrl, visitor.token);
    next.send({ type: 'ping' });
    await next.nextFrame((f) => f.type === 'pong');
    await next.close();
  });
});

describe('resume after reconnect', () => {
  it('replays exactly the 50 messages sent while disconnected, in order, then continues live', async () => {
    const visitor = await visitorWithChat('before the gap');
    const first = await wsClient(stack.gatewayUrl, visitor.token);
    first.send({ type: 'subscribe', channel: 'chat', chat_id: visitor.chatId, after_seq: 0 });
    const subscribed = await first.nextFrame<wsc.SubscribedFrame>((f) => f.type === 'subscribed');
    expect(subscribed.recovered).toBe(true);
    await first.nextFrame(
      (f) => f.type === 'new_message' && f.message.seq === visitor.firstMessage.seq,
    );
    await first.close();

    const lastSeen = visitor.firstMessage.seq;
    const sentSeqs: number[] = [];
    for (let i = 1; i <= 50; i++) {
      const res = await api<http.SendMessageResponse>(
        stack.gatewayUrl,
        'POST',
        `/api/admin/chats/${visitor.chatId}/messages`,
        {
          token: admin.token,
          body: { content: `reply ${i}`, client_id: randomUUID() },
        },
      );
      expect(res.status).toBe(201);
      sentSeqs.push(res.body.message.seq);
    }

    const second = await wsClient(stack.gatewayUrls[1]!, visitor.token);
    try {
      second.send({
        type: 'subscribe',
        channel: 'chat',
        chat_id: visitor.chatId,
        after_seq: lastSeen,
      });
      const resumed = await second.nextFrame<wsc.SubscribedFrame>((f) => f.type === 'subscribed');
      expect(resumed.recovered).toBe(true);
      await second.nextFrame((f) => f.type === 'new_message' && f.message.seq === sentSeqs.at(-1));
      const ack = await second.sendMessage(visitor.chatId, 'after the gap');
      await second.nextFrame((f) => f.type === 'new_message' && f.message.seq === ack.message.seq);
      const delivered = second.frames.flatMap((f) => (f.type === 'new_message' ? [f.message] : []));
      expect(delivered.map((m) => m.seq)).toEqual([...sentSeqs, ack.message.seq]);
      expect(delivered.slice(0, 50).map((m) => m.content)).toEqual(
        sentSeqs.map((_, i) => `reply ${i + 1}`),
      );
    } finally {
      await second.close();
    }
  });

  it('tells the client to reload when more was missed than the gateway replays', async () => {
    const gateway = await stack.addReplica('gateway', { WS_REPLAY_MAX_MESSAGES: '5' });
    const visitor = await visitorWithChat('one');
    for (let i = 0; i < 7; i++) {
      await api(stack.gatewayUrl, 'POST', '/api/support_chat/messages', {
        token: visitor.token,
        body: { content: `more ${i}`, client_id: randomUUID() },
      });
    }
    const client = await wsClient(gateway.url, visitor.token);
    try {
      client.send({ type: 'subscribe', channel: 'chat', chat_id: visitor.chatId, after_seq: 0 });
      const subscribed = await client.nextFrame<wsc.SubscribedFrame>(
        (f) => f.type === 'subscribed',
      );
      expect(subscribed).toMatchObject({ recovered: false, last_seq: 8 });
      // A client claiming seqs the chat never had must reload too.
      const ahead = await wsClient(stack.gatewayUrl, visitor.token);
      ahead.send({ type: 'subscribe', channel: 'chat', chat_id: visitor.chatId, after_seq: 999 });
      expect(await ahead.nextFrame((f) => f.type === 'subscribed')).toMatchObject({
        recovered: false,
        last_seq: 8,
      });
      await ahead.close();
      const ack = await client.sendMessage(visitor.chatId, 'live again');
      await client.nextFrame((f) => f.type === 'new_message' && f.message.seq === ack.message.seq);
      expect(
        client.frames
          .filter((f) => f.type === 'new_message')
          .map((f) => (f.type === 'new_message' ? f.message.seq : 0)),
      ).toEqual([9]);
    } finally {
      await client.close();
    }
  });
});
