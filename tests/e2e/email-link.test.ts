/**
 * The unread-reply email's "Open the conversation" link: a signed, expiring, single-use token
 * for one visitor and chat. Over REST across two gateway replicas, and in Chromium from a fresh
 * browser that never saw the widget.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { ChatId, EmailRecord, ErrorBody, SupportChat, http } from '@parley/contracts';
import { signChatLinkToken } from '@parley/runtime';
import {
  startStack,
  type Stack,
  launchBrowser,
  api,
  createVisitor,
  loginOperator,
  wsClient,
  repoRoot,
  waitFor,
} from '@parley/runtime/testing';
import { buildApp } from '../../scripts/lib/apps.ts';

let stack: Stack;
let browser: Browser;
let operatorToken: string;
let visitor: Awaited<ReturnType<typeof createVisitor>>;
let chatId: ChatId;
const reply = `Your parcel left our warehouse (${randomUUID().slice(0, 8)}).`;

beforeAll(async () => {
  // npm test builds the apps first; a run of this file alone builds them when missing.
  buildApp(repoRoot, 'widget', { ifMissing: true });
  stack = await startStack({ gateways: 2, buildApps: false, env: { NOTIFY_DELAY: '1s' } });
  browser = await launchBrowser();
  const op = await loginOperator(stack);
  operatorToken = op.token;
  const console_ = await wsClient(stack.gatewayUrl, op.token);
  console_.send({ type: 'subscribe', channel: 'operator' });
  expect(
    (
      await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
        token: op.token,
        body: { status: 'online' },
      })
    ).status,
  ).toBe(200);
  visitor = await createVisitor(stack, { name: 'Ines', email: 'ines@example.com' });
  const chat = await api<SupportChat>(stack.gatewayUrl, 'GET', '/api/support_chat', {
    token: visitor.token,
  });
  chatId = chat.body.id as ChatId;
  const widget = await wsClient(stack.gatewayUrl, visitor.token);
  await widget.sendMessage(chatId, 'Where is my parcel?');
  await widget.close();
  await console_.nextFrame((f) => f.type === 'chat_assigned' && f.chat_id === chatId);
  await console_.sendMessage(chatId, reply);
  await console_.close();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const exchange = (token: string, gateway = stack.gatewayUrl) =>
  api<http.EmailLinkResponse & ErrorBody>(gateway, 'POST', '/api/visitor/email_link', {
    body: { token },
  });

const signLink = (ttlMs = 60_000) =>
  signChatLinkToken(stack.secrets.UNSUBSCRIBE_SECRET, {
    userId: visitor.visitor.id,
    chatId,
    ttlMs,
  });

describe("the email's Open the conversation link", () => {
  it('carries a token that opens that chat once, on any gateway replica', async () => {
    const email = await waitFor(
      async () => {
        const outbox = await api<EmailRecord[]>(stack.gatewayUrl, 'GET', '/api/admin/outbox', {
          token: operatorToken,
        });
        return outbox.body.find((e) => e.chat_id === chatId);
      },
      { timeoutMs: 30_000, what: 'the unread-reply email' },
    );
    const link = new URL(/\S+\/widget\/\?open=1&link=\S+/.exec(email.text)?.[0] ?? 'x:');
    expect(email.html).toContain(`href="${link.href.replaceAll('&', '&amp;')}"`);
    const token = link.searchParams.get('link') ?? '';

    const opened = await exchange(token, stack.gatewayUrls[1]);
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({
      chat_id: chatId,
      visitor: { id: visitor.visitor.id, email: 'ines@example.com' },
    });
    const chat = await api<SupportChat>(stack.gatewayUrl, 'GET', '/api/support_chat', {
      token: opened.body.token,
    });
    expect(chat.body.id).toBe(chatId);
    expect(chat.body.messages.map((m) => m.content)).toContain(reply);

    // Spent, whichever replica sees it next.
    const again = await exchange(token, stack.gatewayUrls[0]);
    expect(again.status).toBe(409);
    expect(again.body.details).toEqual({ reason: 'spent' });
  });

  it('refuses an expired or forged link, saying which', async () => {
    const expired = await exchange(await signLink(-1000));
    expect(expired.status).toBe(401);
    expect(expired.body.details).toEqual({ reason: 'expired' });
    const forged = await signChatLinkToken('another-secret-entirely-0123456789', {
      userId: visitor.visitor.id,
      chatId,
      ttlMs: 60_000,
    });
    const refused = await exchange(forged);
    expect(refused.status).toBe(401);
    expect(refused.body.details).toEqual({ reason: 'invalid' });
  });

  it('restores the chat in a fresh browser, then explains a spent link and offers a new chat', async () => {
    const url = `${stack.gatewayUrl}/widget/?open=1&link=${encodeURIComponent(await signLink())}`;
    const first = await browser.newContext();
    const page = await first.newPage();
    await page.goto(url);
    await page.getByText(reply).waitFor();
    expect(new URL(page.url()).searchParams.has('link')).toBe(false);
    await first.close();

    const second = await browser.newContext();
    const other = await second.newPage();
    await other.goto(url);
    const notice = other.getByTestId('email-link-notice');
    await notice.waitFor();
    expect(await notice.getAttribute('data-reason')).toBe('spent');
    await other.getByTestId('prechat').waitFor();
    expect(await other.getByText(reply).count()).toBe(0);
    await second.close();
  });
});
