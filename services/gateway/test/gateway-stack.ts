/** What the gateway test files share: their stack (chat and two gateways) and helpers. */
import { createHmac, randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { expect } from 'vitest';
import type { http } from '@parley/contracts';
import { api, createVisitor, loginOperator, startStack, type Stack } from '@parley/runtime/testing';

/** Chat and two gateway replicas; the bootstrapped admin logged in. */
export async function startGatewayStack(): Promise<{ stack: Stack; admin: http.LoginResponse }> {
  const stack = await startStack({
    services: ['chat', 'gateway'],
    gateways: 2,
    buildApps: false,
    env: { LOGIN_FREE_ATTEMPTS_PER_ADDRESS: '3' },
  });
  return { stack, admin: await loginOperator(stack) };
}

/** Helpers on the file's stack (read when called: the stack starts in beforeAll). */
export function stackHelpers(stackOf: () => Stack) {
  const userHash = (userId: string) =>
    createHmac('sha256', stackOf().secrets.IDENTITY_HMAC_SECRET).update(userId).digest('hex');

  /** A visitor with a chat that holds one message of theirs. */
  async function visitorWithChat(content = 'hello') {
    const stack = stackOf();
    const session = await createVisitor(stack);
    const chat = await api<http.SendMessageResponse>(
      stack.gatewayUrl,
      'POST',
      '/api/support_chat/messages',
      {
        token: session.token,
        body: { content, client_id: randomUUID() },
      },
    );
    expect(chat.status).toBe(201);
    return { ...session, chatId: chat.body.message.chat_id, firstMessage: chat.body.message };
  }
  return { userHash, visitorWithChat };
}

export async function upgradeStatus(
  url: string,
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('error', (err) => {
      if (!String(err).includes('Unexpected server response')) reject(err);
    });
  });
}

export const wsUrl = (base: string, token?: string) =>
  `${base.replace(/^http/, 'ws')}/ws${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`;
