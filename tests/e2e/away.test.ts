/**
 * Business hours and nobody online, from the visitor's side: the widget says the desk is away
 * before the visitor writes, insists on an email, and the message becomes a queued chat marked
 * "offline message" whose reply reaches the visitor by the unread-reply email (local outbox).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { BusinessHours, EmailRecord, ErrorBody, QueueEntry, http } from '@parley/contracts';
import {
  api,
  createVisitor,
  launchBrowser,
  loginOperator,
  repoRoot,
  startStack,
  waitFor,
  wsClient,
  type Stack,
} from '@parley/runtime/testing';
import { buildApp } from '../../scripts/lib/apps.ts';

let stack: Stack;
let browser: Browser;
let adminToken: string;

const day = (offset: number) =>
  new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
/** Open 09:00–17:00 UTC every day, but the next twelve days are holidays: closed now. */
const closedForDays: BusinessHours = {
  enabled: true,
  time_zone: 'UTC',
  weekly: Object.fromEntries(
    ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((d) => [
      d,
      [{ open: '09:00', close: '17:00' }],
    ]),
  ) as BusinessHours['weekly'],
  holidays: Array.from({ length: 12 }, (_, i) => day(i)),
};

const putHours = (body: unknown, token = adminToken) =>
  api<BusinessHours & ErrorBody>(stack.gatewayUrl, 'PUT', '/api/admin/settings/business_hours', {
    token,
    body,
  });
const widgetConfig = () =>
  api<http.WidgetConfigResponse>(stack.gatewayUrl, 'GET', '/api/widget/config');

beforeAll(async () => {
  buildApp(repoRoot, 'widget', { ifMissing: true });
  buildApp(repoRoot, 'admin', { ifMissing: true });
  stack = await startStack({
    buildApps: false,
    env: { NOTIFY_DELAY: '1s', VISITOR_OFFLINE_GRACE: '1s' },
  });
  browser = await launchBrowser();
  adminToken = (await loginOperator(stack)).token;
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('business hours over REST', () => {
  it('lets admins read and set them, validated, and tells the widget without a token', async () => {
    const initial = await api<BusinessHours>(
      stack.gatewayUrl,
      'GET',
      '/api/admin/settings/business_hours',
      { token: adminToken },
    );
    expect(initial.status).toBe(200);
    expect(initial.body.enabled).toBe(false);
    expect((await widgetConfig()).body.availability.state).toBe('nobody_online');

    const badZone = await putHours({ ...closedForDays, time_zone: 'Mars/Olympus' });
    expect(badZone.status).toBe(400);
    expect(badZone.body.code).toBe('bad_request');
    const backwards = await putHours({
      ...closedForDays,
      weekly: { ...closedForDays.weekly, monday: [{ open: '18:00', close: '08:00' }] },
    });
    expect(backwards.status).toBe(400);
    expect((await widgetConfig()).body.availability.state).toBe('nobody_online');

    expect((await putHours(closedForDays)).status).toBe(200);
    const config = (await widgetConfig()).body.availability;
    expect(config.state).toBe('closed');
    expect(config.opens_at).toBe(`${day(12)}T09:00:00.000Z`);

    const unauthenticated = await api(
      stack.gatewayUrl,
      'PUT',
      '/api/admin/settings/business_hours',
      {
        body: closedForDays,
      },
    );
    expect(unauthenticated.status).toBe(401);
    const visitor = await createVisitor(stack);
    expect((await putHours(closedForDays, visitor.token)).status).toBe(403);
  });
});

describe('the widget outside business hours', () => {
  it(
    'says so, asks for an email, queues an offline message and the reply arrives by email',
    { timeout: 90_000 },
    async () => {
      expect((await putHours(closedForDays)).status).toBe(200);
      const context = await browser.newContext({ locale: 'en-GB' });
      const page = await context.newPage();
      await page.goto(`${stack.gatewayUrl}/widget/?open=1`);
      const notice = page.getByTestId('away-notice');
      await notice.waitFor();
      expect(await notice.getAttribute('data-state')).toBe('closed');
      expect(await notice.innerText()).toMatch(
        /^We're away until .+ — leave a message and we'll reply by email\.$/,
      );

      const form = page.getByTestId('prechat');
      await form.locator('#parley-name').fill('Olga');
      const question = `Can I return an opened box? (${randomUUID().slice(0, 8)})`;
      await form.locator('#parley-first').fill(question);
      await form.locator('button[type="submit"]').click();
      await page.getByText('Please enter your email so we can reply.').waitFor();
      await page.screenshot({ path: path.join(repoRoot, 'docs/screenshots/widget-away.png') });
      await form.locator('#parley-email').fill('olga@example.com');
      await form.locator('button[type="submit"]').click();
      await page
        .locator('[data-testid="message"][data-sender="user"][data-status="stored"]')
        .filter({ hasText: question })
        .waitFor();
      await context.close();

      const queued = await waitFor(
        async () => {
          const queue = await api<QueueEntry[]>(stack.gatewayUrl, 'GET', '/api/routing/queue', {
            token: adminToken,
          });
          return queue.body.find((q) => q.user_email === 'olga@example.com' && q.visitor_left_at);
        },
        { what: 'the offline message in the queue, its visitor gone' },
      );
      expect(queued.offline_message).toBe(true);

      // In the console: the queue marks it, and the admin turns the schedule off on the hours page.
      const admin = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const consolePage = await admin.newPage();
      await consolePage.goto(`${stack.gatewayUrl}/admin/`);
      await consolePage.waitForURL(/\/admin\/login/);
      await consolePage.getByLabel('Email').fill(stack.adminEmail);
      await consolePage.getByLabel('Password').fill(stack.adminPassword);
      await consolePage.getByRole('button', { name: 'Sign in' }).click();
      await consolePage.locator('.connection[data-state="open"]').waitFor();
      await consolePage.getByRole('link', { name: 'Queue' }).click();
      await consolePage
        .locator(`[data-testid="queue-entry"][data-chat-id="${queued.chat_id}"]`)
        .getByTestId('offline-message')
        .waitFor();
      await consolePage.getByRole('link', { name: 'Business hours' }).click();
      const hoursForm = consolePage.getByTestId('business-hours');
      await hoursForm.waitFor();
      expect(await hoursForm.getByTestId('hours-holiday').count()).toBe(12);
      await consolePage.screenshot({
        path: path.join(repoRoot, 'docs/screenshots/admin-business-hours.png'),
        fullPage: true,
      });
      await hoursForm.getByTestId('hours-enabled').uncheck();
      await hoursForm.getByRole('button', { name: 'Save' }).click();
      await consolePage.getByText('Business hours saved.').waitFor();
      await admin.close();
      const saved = await api<BusinessHours>(
        stack.gatewayUrl,
        'GET',
        '/api/admin/settings/business_hours',
        {
          token: adminToken,
        },
      );
      expect(saved.body).toEqual({ ...closedForDays, enabled: false });

      // The desk opens again; the operator answers and the visitor, gone, gets the reply by email.
      const operator = await wsClient(stack.gatewayUrl, adminToken);
      operator.send({ type: 'subscribe', channel: 'operator' });
      const online = await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
        token: adminToken,
        body: { status: 'online' },
      });
      expect(online.status).toBe(200);
      // A visitor who has left is not handed out automatically: an operator takes it by hand.
      const taken = await api(
        stack.gatewayUrl,
        'POST',
        `/api/routing/chats/${queued.chat_id}/take`,
        {
          token: adminToken,
        },
      );
      expect(taken.status).toBe(200);
      const answer = 'Yes, within 30 days.';
      await operator.sendMessage(queued.chat_id, answer);
      const email = await waitFor(
        async () => {
          const outbox = await api<EmailRecord[]>(stack.gatewayUrl, 'GET', '/api/admin/outbox', {
            token: adminToken,
          });
          return outbox.body.find((e) => e.chat_id === queued.chat_id);
        },
        { timeoutMs: 30_000, what: 'the unread-reply email' },
      );
      expect(email.to).toBe('olga@example.com');
      expect(email.text).toContain(answer);
      await operator.close();
    },
  );

  it('says nobody is online in Chinese and Russian, with full-width punctuation in Chinese', async () => {
    expect((await putHours({ ...closedForDays, enabled: false })).status).toBe(200);
    const offline = await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
      token: adminToken,
      body: { status: 'offline' },
    });
    expect(offline.status).toBe(200);
    await waitFor(
      async () => (await widgetConfig()).body.availability.state === 'nobody_online' || undefined,
      {
        what: 'nobody online',
      },
    );
    for (const [lang, text] of [
      ['zh', '目前没有客服在线——请留言，我们会通过邮件回复。'],
      ['ru', 'Сейчас никого нет на связи — оставьте сообщение, и мы ответим по электронной почте.'],
    ] as const) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${stack.gatewayUrl}/widget/?open=1&lang=${lang}`);
      const notice = page.getByTestId('away-notice');
      await notice.waitFor();
      expect(await notice.innerText()).toBe(text);
      await context.close();
    }
  });
});
