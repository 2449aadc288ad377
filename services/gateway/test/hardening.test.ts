/**
 * The gateway from outside, against real NATS and the real chat service (two replicas):
 * draining on SIGTERM, error frames that name their message, attachment names and
 * dispositions, and single-use WebSocket tickets with nothing secret in the logs.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, ws as wsc, type Attachment, type SupportChat } from '@parley/contracts';
import { api, createVisitor, startStack, wsClient, type Stack } from '@parley/runtime/testing';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ services: ['chat', 'gateway'], gateways: 2, buildApps: false });
});

afterAll(async () => {
  await stack?.stop();
});

async function visitorWithChat() {
  const session = await createVisitor(stack);
  const chat = await api<SupportChat>(stack.gatewayUrl, 'GET', '/api/support_chat', {
    token: session.token,
  });
  expect(chat.status).toBe(200);
  return { ...session, chatId: chat.body.id };
}

/** Every message of a chat, paged over REST. */
async function allMessages(token: string) {
  const messages: http.MessagesPage['messages'] = [];
  for (;;) {
    const after = messages.at(-1)?.seq ?? 0;
    const page = await api<http.MessagesPage>(
      stack.gatewayUrl,
      'GET',
      `/api/support_chat/messages?after_seq=${after}&limit=200`,
      { token },
    );
    expect(page.status).toBe(200);
    messages.push(...page.body.messages);
    if (!page.body.has_more) return messages;
  }
}

const wsBase = (url: string) => url.replace(/^http/, 'ws');

/** Opens /ws with a query; resolves with the first frame or the refusal's status. */
function connect(
  url: string,
): Promise<{ status: number; socket?: WebSocket; first?: wsc.ServerFrame }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      socket.terminate();
    });
    socket.once('message', (data) =>
      resolve({ status: 101, socket, first: wsc.ServerFrame.parse(JSON.parse(String(data))) }),
    );
    socket.once('error', (err) => {
      if (!String(err).includes('Unexpected server response')) reject(err);
    });
  });
}

describe('graceful shutdown', () => {
  it('acknowledges every message it stored while SIGTERM drains, then closes with 1012', async () => {
    const gateway = await stack.addReplica('gateway', {
      WS_MAX_MESSAGES_PER_SECOND: '100000',
      WS_MAX_MESSAGES_PER_SECOND_PER_IP: '100000',
    });
    const visitor = await visitorWithChat();
    const client = await wsClient(gateway.url, visitor.token);
    const acked = new Set<string>();
    let answered = 0;
    client.socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as wsc.ServerFrame;
      if (frame.type === 'ack') acked.add(frame.client_id);
      if (frame.type === 'ack' || (frame.type === 'error' && frame.client_id)) answered++;
    });
    // A client that sends continuously, a few frames in flight at all times, until the socket closes.
    let sent = 0;
    let open = true;
    void client.closed.then(() => (open = false));
    const pump = () => {
      while (open && sent - answered < 20) {
        client.send({
          type: 'send_message',
          chat_id: visitor.chatId,
          content: `m${sent}`,
          client_id: randomUUID(),
        });
        sent++;
      }
      if (open) setImmediate(pump);
    };
    pump();
    await client.nextFrame((f) => f.type === 'ack' && acked.size >= 50, 20_000);
    const stopped = gateway.stop();
    expect((await client.closed).code).toBe(1012);
    await stopped;

    const stored = await allMessages(visitor.token);
    expect(stored.length).toBeGreaterThanOrEqual(50);
    const unacked = stored.filter((m) => !acked.has(m.client_id!));
    expect(unacked.map((m) => m.content)).toEqual([]);
  });
});

describe('error frames', () => {
  it('names the message in every error answering a send_message, rate_limited included', async () => {
    const visitor = await visitorWithChat();
    const client = await wsClient(stack.gatewayUrl, visitor.token);
    try {
      const ids = Array.from({ length: 40 }, () => randomUUID());
      for (const id of ids) {
        client.send({ type: 'send_message', chat_id: visitor.chatId, content: 'x', client_id: id });
      }
      const answers = await Promise.all(
        ids.map((id) =>
          client.nextFrame(
            (f) =>
              (f.type === 'ack' || f.type === 'error') && 'client_id' in f && f.client_id === id,
          ),
        ),
      );
      const limited = answers.filter((f) => f.type === 'error' && f.code === 'rate_limited');
      expect(limited.length).toBeGreaterThan(0);
      expect(client.frames.filter((f) => f.type === 'error' && !f.client_id)).toEqual([]);
    } finally {
      await client.close();
    }
  });
});

describe('attachment names and dispositions', () => {
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64',
  );
  /** Starts like a GIF (so it sniffs as image/gif) and is also an HTML page. */
  const polyglot = Buffer.concat([
    Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'),
    Buffer.from('<html><body><script>alert(document.domain)</script></body></html>'),
  ]);

  async function upload(
    token: string,
    chatId: string,
    name: string,
    body: Uint8Array,
    type: string,
  ) {
    const res = await fetch(`${stack.gatewayUrl}/api/attachments`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': type,
        'x-chat-id': chatId,
        'x-filename': encodeURIComponent(name),
      },
      body: new Uint8Array(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as Attachment;
  }

  const download = (token: string, url: string) =>
    fetch(`${stack.gatewayUrl}${url}`, { headers: { authorization: `Bearer ${token}` } });

  it('downloads a GIF/HTML polyglot named poly.html, sandboxed; inlines a GIF named .gif', async () => {
    const visitor = await visitorWithChat();
    const poly = await upload(visitor.token, visitor.chatId, 'poly.html', polyglot, 'image/gif');
    const asPage = await download(visitor.token, poly.url);
    expect(asPage.status).toBe(200);
    expect(asPage.headers.get('content-type')).toBe('image/gif');
    expect(asPage.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(asPage.headers.get('content-security-policy')).toContain('sandbox');

    const gif = await upload(visitor.token, visitor.chatId, 'poly.gif', polyglot, 'image/gif');
    const asImage = await download(visitor.token, gif.url);
    expect(asImage.headers.get('content-disposition')).toMatch(/^inline;/);
    expect(asImage.headers.get('content-security-policy')).toContain('sandbox');
  });

  it('strips bidi controls from a file name, so it shows what it is', async () => {
    const visitor = await visitorWithChat();
    const rlo = await upload(visitor.token, visitor.chatId, 'evil\u202Egnp.exe', png, 'image/png');
    expect(rlo.name).toBe('evilgnp.exe');
    const res = await download(visitor.token, rlo.url);
    expect(res.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''evilgnp.exe");
  });
});

describe('attachment size', () => {
  it("refuses an upload over the gateway's MAX_ATTACHMENT_BYTES with 413 before it reaches chat", async () => {
    const small = await stack.addReplica('gateway', { MAX_ATTACHMENT_BYTES: '2048' });
    const visitor = await visitorWithChat();
    const send = (url: string) =>
      fetch(`${url}/api/attachments`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${visitor.token}`,
          'content-type': 'text/plain',
          'x-chat-id': visitor.chatId,
          'x-filename': 'notes.txt',
        },
        body: 'x'.repeat(4096),
      });
    const refused = await send(small.url);
    expect(refused.status).toBe(413);
    expect(await refused.json()).toMatchObject({
      code: 'payload_too_large',
      message: 'Attachments are limited to 2048 bytes',
    });
    // The same file through a gateway with the default limit is stored.
    expect((await send(stack.gatewayUrl)).status).toBe(201);
  });
});

describe('WebSocket tickets', () => {
  it('opens a socket once with a ticket, on any replica, and never logs a token or ticket', async () => {
    const gateway = await stack.addReplica('gateway', { LOG_LEVEL: 'debug' });
    const visitor = await createVisitor(stack);
    const issued = await api<http.WsTicketResponse>(gateway.url, 'POST', '/api/ws_ticket', {
      token: visitor.token,
    });
    expect(issued.status).toBe(200);
    expect(issued.body.expires_in).toBe(30);
    const { ticket } = issued.body;

    const first = await connect(`${wsBase(gateway.url)}/ws?ticket=${encodeURIComponent(ticket)}`);
    expect(first.status).toBe(101);
    expect(first.first).toMatchObject({
      type: 'welcome',
      role: 'visitor',
      user_id: visitor.visitor.id,
    });
    first.socket?.close();
    // Spent: refused here and on the other replica.
    for (const url of [gateway.url, stack.gatewayUrls[1]!]) {
      expect((await connect(`${wsBase(url)}/ws?ticket=${encodeURIComponent(ticket)}`)).status).toBe(
        401,
      );
    }
    expect((await connect(`${wsBase(gateway.url)}/ws?ticket=forged`)).status).toBe(401);
    expect((await api(gateway.url, 'POST', '/api/ws_ticket')).status).toBe(401);
    // Existing clients keep working with ?token=.
    const legacy = await connect(
      `${wsBase(gateway.url)}/ws?token=${encodeURIComponent(visitor.token)}`,
    );
    expect(legacy.status).toBe(101);
    legacy.socket?.close();

    await gateway.stop();
    const logs = (gateway as unknown as { logs: () => string }).logs();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(visitor.token);
    expect(logs).not.toContain(ticket);
  });
});
