/**
 * Rating after the chat: when an operator closes the session, the widget asks "How was this
 * chat?" once; the rating shows on the chat in the console, and a second rating is refused.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { EmailRecord, ErrorBody, RoutingSession, SupportChat, http } from '@parley/contracts';
import {
  api,
  createVisitor,
  launchBrowser,
  loginOperator,
  repoRoot,
  startStack,
  wsClient,
  type Stack,
} from '@parley/runtime/testing';
import { buildApp } from '../../scripts/lib/apps.ts';

let stack: Stack;
let browser: Browser;
let adminToken: string;

beforeAll(async () => {
  buildApp(repoRoot, 'widget', { ifMissing: true });
  buildApp(repoRoot, 'admin', { ifMissing: true });
  stack = await startStack({ buildApps: false });
  browser = await launchBrowser();
  adminToken = (await loginOperator(stack)).token;
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('rating a chat', () => {
  it(
    'asks once after the operator closes, and the console shows the rating',
    { timeout: 90_000 },
    async () => {
      const operator = await wsClient(stack.gatewayUrl, adminToken);
      operator.send({ type: 'subscribe', channel: 'operator' });
      const online = await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
        token: adminToken,
        body: { status: 'online' },
      });
      expect(online.status).toBe(200);

      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${stack.gatewayUrl}/widget/?open=1`);
      const form = page.getByTestId('prechat');
      await form.locator('#parley-name').fill('Rita');
      await form.locator('#parley-first').fill('Does the blue one come in XL?');
      await form.locator('button[type="submit"]').click();
      const assigned = await operator.nextFrame((f) => f.type === 'chat_assigned');
      if (assigned.type !== 'chat_assigned') throw new Error('unexpected frame');
      const chatId = assigned.chat_id;
      await operator.sendMessage(chatId, 'It does, from next week.');
      await page.getByText('It does, from next week.', { exact: true }).waitFor();

      // Not closed yet: nothing to rate.
      const token = await page.evaluate(() => {
        for (let i = 0; i < localStorage.length; i++) {
          const value = localStorage.getItem(localStorage.key(i) ?? '') ?? '';
          const match = /"token":"([^"]+)"/.exec(value);
          if (match) return match[1];
        }
        return null;
      });
      expect(token).not.toBeNull();
      const active = await api<RoutingSession>(
        stack.gatewayUrl,
        'GET',
        '/api/support_chat/session',
        {
          token: token ?? '',
        },
      );
      const early = await api<ErrorBody>(stack.gatewayUrl, 'POST', '/api/support_chat/rating', {
        token: token ?? '',
        body: { session_id: active.body.id, score: 'good' },
      });
      expect(early.status).toBe(409);

      const closed = await api(stack.gatewayUrl, 'POST', `/api/routing/chats/${chatId}/close`, {
        token: adminToken,
      });
      expect(closed.status).toBe(200);
      const prompt = page.getByTestId('rating');
      await prompt.waitFor();
      expect(await prompt.getByText('How was this chat?').count()).toBe(1);
      await prompt.locator('[data-score="good"]').click();
      await prompt.getByRole('textbox').fill('Quick and friendly');
      await page.screenshot({ path: path.join(repoRoot, 'docs/screenshots/widget-rating.png') });
      await prompt.getByRole('button', { name: 'Send rating' }).click();
      await page.getByTestId('rating-thanks').waitFor();

      const again = await api<ErrorBody>(stack.gatewayUrl, 'POST', '/api/support_chat/rating', {
        token: token ?? '',
        body: { session_id: active.body.id, score: 'bad' },
      });
      expect(again.status).toBe(409);
      const wrong = await api<ErrorBody>(stack.gatewayUrl, 'POST', '/api/support_chat/rating', {
        token: token ?? '',
        body: { session_id: 'not-a-session', score: 'bad' },
      });
      expect(wrong.status).toBe(404);
      const badScore = await api<ErrorBody>(stack.gatewayUrl, 'POST', '/api/support_chat/rating', {
        token: token ?? '',
        body: { session_id: active.body.id, score: 'meh' },
      });
      expect(badScore.status).toBe(400);
      await context.close();

      const session = await api<RoutingSession>(
        stack.gatewayUrl,
        'GET',
        `/api/routing/chats/${chatId}/session`,
        { token: adminToken },
      );
      expect(session.body.rating).toMatchObject({ score: 'good', comment: 'Quick and friendly' });

      const admin = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const consolePage = await admin.newPage();
      await consolePage.goto(`${stack.gatewayUrl}/admin/`);
      await consolePage.waitForURL(/\/admin\/login/);
      await consolePage.getByLabel('Email').fill(stack.adminEmail);
      await consolePage.getByLabel('Password').fill(stack.adminPassword);
      await consolePage.getByRole('button', { name: 'Sign in' }).click();
      await consolePage.locator('.connection[data-state="open"]').waitFor();
      await consolePage.goto(`${stack.gatewayUrl}/admin/chats/${chatId}`);
      const shown = consolePage.getByTestId('chat-rating');
      await shown.waitFor();
      expect(await shown.getAttribute('data-score')).toBe('good');
      expect(await shown.innerText()).toContain('Quick and friendly');
      await consolePage.screenshot({
        path: path.join(repoRoot, 'docs/screenshots/admin-rating.png'),
      });
      await admin.close();
      await operator.close();
    },
  );
});

describe('the transcript by email', () => {
  it(
    'sends exactly one email per request, with only what the visitor saw, within the per-chat limit',
    { timeout: 60_000 },
    async () => {
      const visitor = await createVisitor(stack, { name: 'Tom', email: 'tom@example.com' });
      const chat = await api<SupportChat>(stack.gatewayUrl, 'GET', '/api/support_chat', {
        token: visitor.token,
      });
      const widget = await wsClient(stack.gatewayUrl, visitor.token);
      await widget.sendMessage(chat.body.id, 'Please send me the manual.');
      await widget.close();
      const outboxCount = async () =>
        (
          await api<EmailRecord[]>(stack.gatewayUrl, 'GET', '/api/admin/outbox', {
            token: adminToken,
          })
        ).body.filter((e) => e.chat_id === chat.body.id && e.subject.includes('conversation'));
      expect(await outboxCount()).toHaveLength(0);

      const sent = await api<http.TranscriptResponse>(
        stack.gatewayUrl,
        'POST',
        '/api/support_chat/transcript',
        { token: visitor.token, body: {} },
      );
      expect(sent.status).toBe(200);
      expect(sent.body.to).toBe('tom@example.com');
      const emails = await outboxCount();
      expect(emails).toHaveLength(1);
      expect(emails[0]?.text).toContain('Please send me the manual.');

      const byOperator = await api(
        stack.gatewayUrl,
        'POST',
        `/api/admin/chats/${chat.body.id}/transcript`,
        {
          token: adminToken,
        },
      );
      expect(byOperator.status).toBe(200);
      expect(await outboxCount()).toHaveLength(2);
      // The third of the hour passes, the fourth is refused with Retry-After.
      expect(
        (
          await api(stack.gatewayUrl, 'POST', '/api/support_chat/transcript', {
            token: visitor.token,
            body: {},
          })
        ).status,
      ).toBe(200);
      const refused = await api(stack.gatewayUrl, 'POST', '/api/support_chat/transcript', {
        token: visitor.token,
        body: {},
      });
      expect(refused.status).toBe(429);
      expect(await outboxCount()).toHaveLength(3);

      const anonymous = await createVisitor(stack);
      const noEmail = await api<ErrorBody>(
        stack.gatewayUrl,
        'POST',
        '/api/support_chat/transcript',
        {
          token: anonymous.token,
          body: {},
        },
      );
      expect(noEmail.status).toBe(409);
    },
  );
});
