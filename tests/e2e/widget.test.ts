/**
 * The visitor widget in a real browser, embedded in the demo host page with its one script tag,
 * against the real stack (NATS, Redis, chat, routing, gateway processes). The operator side is
 * driven through the same REST/WebSocket API the console uses.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import {
  startStack,
  type Stack,
  launchBrowser,
  repoRoot,
  api,
  loginOperator,
  wsClient,
} from '@parley/runtime/testing';
import { http, WsCloseCode } from '@parley/contracts';
import { buildApp } from '../../scripts/lib/apps.ts';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const screenshots = path.join(repoRoot, 'docs', 'screenshots');

let stack: Stack;
let browser: Browser;
let operatorToken: string;

beforeAll(async () => {
  // The widget needs chat, routing and the gateway (not the email service, nor the console app).
  buildApp(repoRoot, 'widget', { ifMissing: true });
  stack = await startStack({ services: ['chat', 'routing', 'gateway'], buildApps: false });
  browser = await launchBrowser([
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
  ]);
  operatorToken = (await loginOperator(stack)).token;
  mkdirSync(screenshots, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

// ------------------------------------------------------------------ helpers

interface Demo {
  context: BrowserContext;
  page: Page;
  /** The widget iframe (cross-origin, at the gateway). */
  widget: Frame;
}

async function openDemo(
  options: {
    query?: string;
    viewport?: { width: number; height: number };
    locale?: string;
    settings?: Record<string, unknown>;
    context?: BrowserContext;
  } = {},
): Promise<Demo> {
  const context =
    options.context ??
    (await browser.newContext({
      viewport: options.viewport ?? { width: 1280, height: 800 },
      locale: options.locale ?? 'en-US',
    }));
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      console.log(`[browser] ${message.text()}`);
  });
  if (options.settings) {
    await page.addInitScript((settings) => {
      (window as unknown as { ParleySettings: unknown }).ParleySettings = settings;
    }, options.settings);
  }
  await page.goto(`${stack.demoUrl}/${options.query ?? ''}`);
  await page.getByTestId('parley-launcher').waitFor();
  const widget = await waitForWidgetFrame(page);
  // The panel's UI downloads on first open; while closed the widget reports its connection to the
  // loader, which puts it on the host element.
  await page.locator('[data-parley][data-connected="true"]').waitFor({ state: 'attached' });
  return { context, page, widget };
}

async function waitForWidgetFrame(page: Page): Promise<Frame> {
  const element = await page.locator('[data-parley] iframe').elementHandle();
  const frame = await element?.contentFrame();
  if (!frame) throw new Error('the loader created no widget iframe');
  await frame.waitForURL(`${stack.gatewayUrl}/widget/**`);
  return frame;
}

async function openPanel(demo: Demo) {
  await demo.page.getByTestId('parley-launcher').click();
  await demo.page.locator('[data-parley][data-open="true"]').waitFor({ state: 'attached' });
  // The panel fades and slides in: wait until it has arrived.
  await expect
    .poll(() =>
      demo.page.locator('[data-parley] iframe').evaluate((el) => getComputedStyle(el).opacity),
    )
    .toBe('1');
}

async function fillPrechat(
  demo: Demo,
  name: string,
  message: string,
  email = `visitor-${randomUUID().slice(0, 8)}@example.test`,
) {
  const form = demo.widget.getByTestId('prechat');
  // By id: the labels are in the widget's language. An email always: with nobody online the
  // desk is away and the form rightly insists on one to reply to.
  await form.locator('#parley-name').fill(name);
  await form.locator('#parley-email').fill(email);
  await form.locator('#parley-first').fill(message);
  await form.locator('button[type="submit"]').click();
  await demo.widget
    .locator('[data-testid="message"][data-sender="user"][data-status="stored"]')
    .filter({ hasText: message })
    .waitFor();
}

async function chatOf(userName: string) {
  const res = await api<unknown>(stack.gatewayUrl, 'GET', '/api/admin/chats', {
    token: operatorToken,
  });
  const list = http.ChatListResponse.parse(res.body);
  const chat = list.find((c) => c.user_name === userName);
  if (!chat) throw new Error(`no chat for ${userName}`);
  return chat;
}

async function adminChat(chatId: string) {
  const res = await api(stack.gatewayUrl, 'GET', `/api/admin/chats/${chatId}`, {
    token: operatorToken,
  });
  return http.AdminChatResponse.parse(res.body);
}

async function reply(chatId: string, content: string) {
  const res = await api(stack.gatewayUrl, 'POST', `/api/admin/chats/${chatId}/messages`, {
    token: operatorToken,
    body: { content, client_id: randomUUID() },
  });
  if (res.status >= 300) throw new Error(`reply failed: ${res.status} ${JSON.stringify(res.body)}`);
}

function messages(demo: Demo, sender?: 'user' | 'admin' | 'system') {
  return demo.widget.locator(
    sender ? `[data-testid="message"][data-sender="${sender}"]` : '[data-testid="message"]',
  );
}

function badge(demo: Demo) {
  return demo.page.getByTestId('parley-badge');
}

function uniqueName(prefix: string) {
  return `${prefix} ${randomUUID().slice(0, 8)}`;
}

// ------------------------------------------------------------------ tests

describe('visitor widget on the demo host page', () => {
  test('send, live reply, unread badge cleared on open, order and no duplicates', async () => {
    const demo = await openDemo();
    await demo.page.screenshot({ path: path.join(screenshots, 'widget-closed.png') });
    await openPanel(demo);
    const name = uniqueName('Vera');
    await fillPrechat(demo, name, 'Hello, is my order shipped?', 'vera@example.com');

    const chat = await chatOf(name);
    await reply(chat.id, 'Hi Vera, let me check.');
    await messages(demo, 'admin').filter({ hasText: 'let me check' }).waitFor();

    // Closed panel: operator messages count as unread on the launcher badge.
    await demo.page.getByTestId('parley-launcher').click();
    await demo.page.locator('[data-parley][data-open="false"]').waitFor({ state: 'attached' });
    await reply(chat.id, 'It left the warehouse today.');
    await reply(chat.id, 'Tracking: https://example.com/track?id=1');
    await expect.poll(() => badge(demo).textContent()).toBe('2');

    await openPanel(demo);
    await expect.poll(() => badge(demo).isHidden()).toBe(true);
    await expect
      .poll(
        async () =>
          (await adminChat(chat.id)).messages.filter((m) => m.sender_type === 'admin' && !m.read_at)
            .length,
      )
      .toBe(0);

    await demo.widget.getByLabel('Your message').fill('Thanks!');
    await demo.widget.getByLabel('Your message').press('Enter');
    await messages(demo, 'user')
      .filter({ hasText: 'Thanks!' })
      .and(demo.widget.locator('[data-status="stored"]'))
      .waitFor();
    await demo.page.screenshot({ path: path.join(screenshots, 'widget-open.png') });

    // Escape closes the panel from the keyboard and gives focus back to the launcher.
    await demo.widget.getByLabel('Your message').press('Escape');
    await demo.page.locator('[data-parley][data-open="false"]').waitFor({ state: 'attached' });
    await expect
      .poll(() =>
        demo.page.evaluate(() =>
          document
            .querySelector('[data-parley]')
            ?.shadowRoot?.activeElement?.getAttribute('data-testid'),
        ),
      )
      .toBe('parley-launcher');

    const texts = await messages(demo).allTextContents();
    const stored = (await adminChat(chat.id)).messages.filter((m) => m.sender_type !== 'system');
    expect(texts.filter((t) => !/joined|ended/.test(t))).toHaveLength(stored.length);
    const order = stored.map((m) => m.content.slice(0, 10));
    const shown = await messages(demo).locator('.text').allTextContents();
    expect(shown.map((s) => s.slice(0, 10))).toEqual(order);
    await demo.context.close();
  }, 60_000);

  test('waiting with queue position, operator joined, typing, ended, and start again', async () => {
    const demo = await openDemo();
    await openPanel(demo);
    const name = uniqueName('Wade');
    await fillPrechat(demo, name, 'Anyone there?');
    const status = demo.widget.getByTestId('session-status');
    await status.and(demo.widget.locator('[data-status="waiting"]')).waitFor();
    expect(await status.textContent()).toMatch(
      /Waiting for an operator.*Your place in the queue: \d+/s,
    );

    const chat = await chatOf(name);
    const operator = await wsClient(stack.gatewayUrl, operatorToken);
    try {
      await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
        token: operatorToken,
        body: { status: 'online' },
      });
      // Online operators get queued chats automatically; take makes it certain for this one.
      await api(stack.gatewayUrl, 'POST', `/api/routing/chats/${chat.id}/take`, {
        token: operatorToken,
      });
      await status.and(demo.widget.locator('[data-status="active"]')).waitFor();
      expect(await status.textContent()).toContain('Ada Admin joined the chat');

      operator.send({ type: 'subscribe', channel: 'chat', chat_id: chat.id });
      await operator.nextFrame((f) => f.type === 'subscribed' && f.chat_id === chat.id);
      operator.send({ type: 'typing', chat_id: chat.id });
      await demo.widget.getByText('Ada Admin is typing…').waitFor();

      await api(stack.gatewayUrl, 'POST', `/api/routing/chats/${chat.id}/close`, {
        token: operatorToken,
      });
      await status.and(demo.widget.locator('[data-status="closed"]')).waitFor();
      expect(await status.textContent()).toContain('This chat has ended.');
      expect(await status.textContent()).toContain('Write a message to start a new chat.');

      await demo.widget.getByLabel('Your message').fill('One more question');
      await demo.widget.getByLabel('Your message').press('Enter');
      await messages(demo, 'user')
        .filter({ hasText: 'One more question' })
        .and(demo.widget.locator('[data-status="stored"]'))
        .waitFor();
      await expect
        .poll(async () => demo.widget.getByTestId('session-status').getAttribute('data-status'))
        .not.toBe('closed');
    } finally {
      await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
        token: operatorToken,
        body: { status: 'offline' },
      });
      await operator.close();
      await demo.context.close();
    }
  }, 60_000);

  test('reload resumes the same chat and history, without the pre-chat form; mute is remembered', async () => {
    const demo = await openDemo();
    await openPanel(demo);
    const name = uniqueName('Rita');
    await fillPrechat(demo, name, 'Before reload');
    const chat = await chatOf(name);
    await reply(chat.id, 'Reply before reload');
    await messages(demo, 'admin').filter({ hasText: 'Reply before reload' }).waitFor();
    await demo.widget.getByRole('button', { name: 'Turn notification sound off' }).click();

    await demo.page.reload();
    const widget = await waitForWidgetFrame(demo.page);
    const again: Demo = { ...demo, widget };
    await openPanel(again);
    await messages(again, 'user').filter({ hasText: 'Before reload' }).waitFor();
    await messages(again, 'admin').filter({ hasText: 'Reply before reload' }).waitFor();
    expect(await widget.getByTestId('prechat').count()).toBe(0);
    expect(await messages(again).count()).toBe(2);
    const mute = widget.getByRole('button', { name: 'Turn notification sound on' });
    expect(await mute.getAttribute('aria-pressed')).toBe('true');
    await demo.context.close();
  }, 60_000);

  test('a long history shows its latest page and loads earlier pages on request', async () => {
    const demo = await openDemo();
    await openPanel(demo);
    const name = uniqueName('Lena');
    await fillPrechat(demo, name, 'Start of a long conversation');
    const chat = await chatOf(name);
    for (let i = 1; i <= 55; i++) await reply(chat.id, `History ${i}`);
    await messages(demo, 'admin').filter({ hasText: 'History 55' }).waitFor();

    await demo.page.reload();
    const widget = await waitForWidgetFrame(demo.page);
    const again: Demo = { ...demo, widget };
    await openPanel(again);
    await messages(again, 'admin').filter({ hasText: 'History 55' }).waitFor();
    const earlier = widget.getByRole('button', { name: 'Show earlier messages' });
    await earlier.waitFor();
    expect(await messages(again).count()).toBe(50);
    await earlier.click();
    await messages(again, 'user').filter({ hasText: 'Start of a long conversation' }).waitFor();
    expect(await messages(again).count()).toBe(56);
    await earlier.waitFor({ state: 'detached' });
    expect(await widget.getByRole('button', { name: /New messages/ }).count()).toBe(0);
    await demo.context.close();
  }, 90_000);

  test('an identified user (host-signed) skips the pre-chat form', async () => {
    const userId = `cust-${randomUUID().slice(0, 8)}`;
    const userHash = createHmac('sha256', stack.secrets.IDENTITY_HMAC_SECRET)
      .update(userId)
      .digest('hex');
    const demo = await openDemo({
      settings: {
        user: {
          user_id: userId,
          user_hash: userHash,
          name: 'Ivan Identified',
          email: 'ivan@example.com',
        },
      },
    });
    await openPanel(demo);
    await demo.widget.getByLabel('Your message').fill('I am logged in');
    await demo.widget.getByLabel('Your message').press('Enter');
    await messages(demo, 'user')
      .filter({ hasText: 'I am logged in' })
      .and(demo.widget.locator('[data-status="stored"]'))
      .waitFor();
    expect(await demo.widget.getByTestId('prechat').count()).toBe(0);
    const chat = await chatOf('Ivan Identified');
    expect(chat.user_id).toBe(`u_${userId}`);
    await demo.context.close();
  }, 60_000);

  test('image: preview before sending, upload, operator gets it, full-size view', async () => {
    const demo = await openDemo();
    await openPanel(demo);
    const name = uniqueName('Ines');
    await fillPrechat(demo, name, 'Here is a photo of the damage');
    const png = await demo.page.evaluate(() => {
      const canvas = document.createElement('canvas');
      canvas.width = 120;
      canvas.height = 80;
      const g = canvas.getContext('2d')!;
      g.fillStyle = '#c0392b';
      g.fillRect(0, 0, 120, 80);
      return canvas.toDataURL('image/png').split(',')[1]!;
    });
    await demo.widget.getByTestId('image-input').setInputFiles({
      name: 'damage.png',
      mimeType: 'image/png',
      buffer: Buffer.from(png, 'base64'),
    });
    await demo.widget.getByRole('button', { name: 'Remove image' }).waitFor();
    await demo.widget.getByRole('button', { name: 'Send message' }).click();
    const image = demo.widget.locator('[data-status="stored"] [data-testid="image-attachment"]');
    await image.waitFor();
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(120);

    const stored = (await adminChat((await chatOf(name)).id)).messages.find(
      (m) => m.attachments.length > 0,
    );
    expect(stored?.attachments[0]).toMatchObject({ kind: 'image', content_type: 'image/png' });

    await demo.widget.getByRole('button', { name: 'Open image full size' }).click();
    await demo.widget.getByTestId('image-full').waitFor();
    await demo.widget.getByRole('button', { name: /Close image/ }).click();
    await demo.widget.getByTestId('image-full').waitFor({ state: 'detached' });
    await demo.context.close();
  }, 60_000);

  test('voice message: recorded with the (fake) microphone, sent as audio, plays inline', async () => {
    const demo = await openDemo();
    await openPanel(demo);
    const name = uniqueName('Olga');
    await fillPrechat(demo, name, 'I will say it instead');
    await demo.widget.getByRole('button', { name: 'Record a voice message' }).click();
    await demo.widget.getByTestId('recording-time').filter({ hasText: '0:01' }).waitFor();
    await demo.widget.getByRole('button', { name: 'Stop and send the voice message' }).click();
    const audio = demo.widget.locator('[data-status="stored"] [data-testid="audio-attachment"]');
    await audio.waitFor();
    const played = await audio.evaluate(
      (el: HTMLAudioElement) =>
        new Promise<boolean>((resolve, reject) => {
          el.addEventListener('playing', () => resolve(true), { once: true });
          el.addEventListener('error', () => reject(new Error('audio error')), { once: true });
          void el.play();
        }),
    );
    expect(played).toBe(true);
    const stored = (await adminChat((await chatOf(name)).id)).messages.find(
      (m) => m.attachments.length > 0,
    );
    expect(stored?.attachments[0]?.kind).toBe('audio');
    await demo.context.close();
  }, 60_000);

  test('a denied microphone gives a clear message', async () => {
    // Without --use-fake-ui-for-media-stream headless Chromium refuses the permission prompt.
    const denyingBrowser = await launchBrowser(['--use-fake-device-for-media-stream']);
    try {
      const context = await denyingBrowser.newContext();
      const page = await context.newPage();
      await page.goto(stack.demoUrl + '/');
      const widget = await waitForWidgetFrame(page);
      const demo: Demo = { context, page, widget };
      await openPanel(demo);
      await fillPrechat(demo, uniqueName('Mia'), 'Can you hear me?');
      await widget.getByRole('button', { name: 'Record a voice message' }).click();
      await widget.getByRole('alert').filter({ hasText: 'Microphone access was denied' }).waitFor();
    } finally {
      await denyingBrowser.close();
    }
  }, 60_000);

  test('an operator invitation opens the panel with the operator message', async () => {
    const demo = await openDemo();
    const visitorId = await demo.widget.evaluate(
      () =>
        (JSON.parse(localStorage.getItem('parley.visitor') ?? '{}') as { visitor_id?: string })
          .visitor_id,
    );
    expect(visitorId).toBeTruthy();
    await expect
      .poll(async () => {
        const res = await api<Array<{ user_id: string }>>(
          stack.gatewayUrl,
          'GET',
          '/api/visitors/online',
          {
            token: operatorToken,
          },
        );
        return res.body.some((v) => v.user_id === visitorId);
      })
      .toBe(true);
    // Inviting takes an online operator with free capacity: a fresh one, so earlier tests' queue does not matter.
    const inviterEmail = `inviter-${randomUUID().slice(0, 8)}@parley.test`;
    const created = await api(stack.gatewayUrl, 'POST', '/api/admin/operators', {
      token: operatorToken,
      body: {
        email: inviterEmail,
        name: 'Irene Inviter',
        password: 'correct horse battery',
        max_chats: 100,
      },
    });
    expect(created.status).toBe(201);
    const inviter = await loginOperator(stack, inviterEmail, 'correct horse battery');
    const inviterSocket = await wsClient(stack.gatewayUrl, inviter.token);
    await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
      token: inviter.token,
      body: { status: 'online' },
    });
    const res = await api(stack.gatewayUrl, 'POST', `/api/visitors/${visitorId}/invite`, {
      token: inviter.token,
      body: { message: 'Hi! Can I help you pick a bike?' },
    });
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    await demo.page.locator('[data-parley][data-open="true"]').waitFor({ state: 'attached' });
    await messages(demo, 'admin').filter({ hasText: 'Can I help you pick a bike?' }).waitFor();
    expect(await demo.widget.getByTestId('prechat').count()).toBe(0);
    await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
      token: inviter.token,
      body: { status: 'offline' },
    });
    await inviterSocket.close();
    await demo.context.close();
  }, 60_000);

  test('offline: messages queue, then are sent once after reconnecting; missed replies arrive', async () => {
    const context = await browser.newContext();
    const socketControl = await controlSockets(context);
    const demo = await openDemo({ context });
    await openPanel(demo);
    const name = uniqueName('Otto');
    await fillPrechat(demo, name, 'Online message');
    const chat = await chatOf(name);

    await context.setOffline(true);
    await socketControl.drop();
    await demo.widget
      .locator('[data-testid="connection-state"]:not([data-state="connected"])')
      .waitFor({
        state: 'attached',
      });
    await demo.widget.getByLabel('Your message').fill('Typed while offline');
    await demo.widget.getByLabel('Your message').press('Enter');
    await messages(demo, 'user')
      .filter({ hasText: 'Typed while offline' })
      .and(demo.widget.locator('[data-status="queued"]'))
      .waitFor();
    await reply(chat.id, 'Reply sent while you were offline');

    socketControl.allow();
    await context.setOffline(false);
    await demo.widget.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({
      state: 'attached',
    });
    await messages(demo, 'user')
      .filter({ hasText: 'Typed while offline' })
      .and(demo.widget.locator('[data-status="stored"]'))
      .waitFor();
    await messages(demo, 'admin')
      .filter({ hasText: 'Reply sent while you were offline' })
      .waitFor();
    const stored = (await adminChat(chat.id)).messages;
    expect(stored.filter((m) => m.content === 'Typed while offline')).toHaveLength(1);
    expect(await messages(demo).filter({ hasText: 'Typed while offline' }).count()).toBe(1);
    await context.close();
  }, 90_000);

  test('repeated WebSocket failures switch to polling, and back to the socket', async () => {
    const context = await browser.newContext();
    const socketControl = await controlSockets(context);
    const demo = await openDemo({ context });
    await openPanel(demo);
    const name = uniqueName('Paul');
    await fillPrechat(demo, name, 'Before the socket breaks');
    const chat = await chatOf(name);

    await socketControl.drop();
    const state = demo.widget.getByTestId('connection-state');
    await demo.widget.locator('[data-testid="connection-state"][data-state="polling"]').waitFor({
      state: 'attached',
      timeout: 30_000,
    });
    await reply(chat.id, 'Delivered by polling');
    await messages(demo, 'admin').filter({ hasText: 'Delivered by polling' }).waitFor();
    await demo.widget.getByLabel('Your message').fill('Sent over REST');
    await demo.widget.getByLabel('Your message').press('Enter');
    await messages(demo, 'user')
      .filter({ hasText: 'Sent over REST' })
      .and(demo.widget.locator('[data-status="stored"]'))
      .waitFor();

    socketControl.allow();
    await demo.widget.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({
      state: 'attached',
      timeout: 30_000,
    });
    expect(await state.getAttribute('data-state')).toBe('connected');
    const stored = (await adminChat(chat.id)).messages;
    expect(stored.filter((m) => m.content === 'Sent over REST')).toHaveLength(1);
    await context.close();
  }, 90_000);

  test('a frozen gateway shows as disconnected within 10 s, and the chat recovers after', async () => {
    const demo = await openDemo();
    await openPanel(demo);
    const name = uniqueName('Freda');
    await fillPrechat(demo, name, 'Before the freeze');
    const chat = await chatOf(name);
    const connected = demo.widget.locator(
      '[data-testid="connection-state"][data-state="connected"]',
    );
    await connected.waitFor({ state: 'attached' });

    // SIGSTOP: the gateway's sockets stay open but nothing answers (a hung server, a dead link).
    const gateway = stack.services.gateway[0]!.proc;
    gateway.kill('SIGSTOP');
    try {
      await connected.waitFor({ state: 'detached', timeout: 10_000 });
    } finally {
      gateway.kill('SIGCONT');
    }
    await connected.waitFor({ state: 'attached', timeout: 30_000 });
    await reply(chat.id, 'After the thaw');
    await messages(demo, 'admin').filter({ hasText: 'After the thaw' }).waitFor();
    await demo.context.close();
  }, 90_000);

  test('browser offline: shown at once; a reply sent meanwhile arrives, queued messages go once', async () => {
    const demo = await openDemo();
    await openPanel(demo);
    const name = uniqueName('Olga');
    await fillPrechat(demo, name, 'Before going offline');
    const chat = await chatOf(name);
    const state = (value: string) =>
      demo.widget.locator(`[data-testid="connection-state"][data-state="${value}"]`);
    await state('connected').waitFor({ state: 'attached' });

    await demo.context.setOffline(true);
    // The browser's offline event, not a missed ping: well before a heartbeat could notice.
    await state('offline').waitFor({ state: 'attached', timeout: 2_000 });
    await reply(chat.id, 'Sent while the visitor was offline');
    for (const text of ['Queued one', 'Queued two']) {
      await demo.widget.getByLabel('Your message').fill(text);
      await demo.widget.getByLabel('Your message').press('Enter');
    }
    await messages(demo, 'user').filter({ hasText: 'Queued two' }).waitFor();

    await demo.context.setOffline(false);
    await state('connected').waitFor({ state: 'attached', timeout: 5_000 });
    await messages(demo, 'admin')
      .filter({ hasText: 'Sent while the visitor was offline' })
      .waitFor();
    for (const text of ['Queued one', 'Queued two']) {
      await messages(demo, 'user')
        .filter({ hasText: text })
        .and(demo.widget.locator('[data-status="stored"]'))
        .waitFor();
      expect(await messages(demo).filter({ hasText: text }).count()).toBe(1);
    }
    const stored = (await adminChat(chat.id)).messages.map((m) => m.content);
    expect(stored.filter((c) => c === 'Queued one')).toHaveLength(1);
    expect(stored.filter((c) => c === 'Queued two')).toHaveLength(1);
    expect(stored.indexOf('Queued one')).toBeLessThan(stored.indexOf('Queued two'));
    await demo.context.close();
  }, 90_000);

  test('a refused token (4001) gets a new visitor session instead of retrying the same token', async () => {
    const context = await browser.newContext();
    const routed: Array<{ close(options: { code: number; reason: string }): Promise<void> }> = [];
    await context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
      ws.connectToServer();
      routed.push(ws);
    });
    let sessions = 0;
    context.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/api/visitor/session'))
        sessions += 1;
    });
    const demo = await openDemo({ context });
    await openPanel(demo);
    await fillPrechat(demo, uniqueName('Ulla'), 'Before the token is refused');
    const connected = demo.widget.locator(
      '[data-testid="connection-state"][data-state="connected"]',
    );
    await connected.waitFor({ state: 'attached' });
    const sessionsBefore = sessions;
    const connectionsBefore = routed.length;

    await routed.at(-1)!.close({ code: WsCloseCode.unauthorized, reason: 'Token invalid' });
    await connected.waitFor({ state: 'detached' });
    await connected.waitFor({ state: 'attached' });
    expect(sessions).toBe(sessionsBefore + 1);
    // One new connection, made after the new session: no retries with the refused token.
    expect(routed.length).toBe(connectionsBefore + 1);
    await context.close();
  }, 60_000);

  test('a send refused as unavailable is retried by itself with the same client_id', async () => {
    const context = await browser.newContext();
    const socketControl = await controlSockets(context);
    const demo = await openDemo({ context });
    await openPanel(demo);
    const name = uniqueName('Rita');
    await fillPrechat(demo, name, 'Before the outage');
    const chat = await chatOf(name);
    await messages(demo, 'user')
      .filter({ hasText: 'Before the outage' })
      .and(demo.widget.locator('[data-status="stored"]'))
      .waitFor();

    // The socket is gone, so the message goes over REST, which answers 503 twice.
    await socketControl.drop();
    await demo.widget
      .locator('[data-testid="connection-state"]:not([data-state="connected"])')
      .waitFor({ state: 'attached' });
    const clientIds: string[] = [];
    let refused = 0;
    await context.route('**/api/support_chat/messages', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      clientIds.push((route.request().postDataJSON() as { client_id: string }).client_id);
      if (refused >= 2) return route.continue();
      refused += 1;
      return route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ code: 'unavailable', message: 'chat is restarting' }),
      });
    });
    await demo.widget.getByLabel('Your message').fill('Retried by itself');
    await demo.widget.getByLabel('Your message').press('Enter');
    await messages(demo, 'user')
      .filter({ hasText: 'Retried by itself' })
      .and(demo.widget.locator('[data-status="stored"]'))
      .waitFor();
    expect(refused).toBe(2);
    expect(clientIds).toHaveLength(3);
    expect(new Set(clientIds).size).toBe(1);
    const stored = (await adminChat(chat.id)).messages;
    expect(stored.filter((m) => m.content === 'Retried by itself')).toHaveLength(1);
    await context.close();
  }, 60_000);

  test('Chinese and Russian: every string translated', async () => {
    const zh = await openDemo({ query: '?lang=zh' });
    await openPanel(zh);
    await zh.widget.getByRole('heading', { name: '在线咨询' }).waitFor();
    const zhText = await zh.widget.locator('body').innerText();
    expect(zhText).not.toMatch(/[A-Za-z]{2,}/);
    await zh.page.screenshot({ path: path.join(screenshots, 'widget-zh.png') });
    await fillPrechat(zh, '李雷', '你好');
    expect(await zh.widget.locator('body').innerText()).not.toMatch(/\b(Send|Waiting|You|Write)\b/);
    await zh.context.close();

    // No data-lang: the browser's language decides.
    const ru = await openDemo({ locale: 'ru-RU' });
    await openPanel(ru);
    await ru.widget.getByRole('heading', { name: 'Напишите нам' }).waitFor();
    expect(await ru.widget.locator('body').innerText()).not.toMatch(/[A-Za-z]{2,}/);
    expect(await ru.page.getByTestId('parley-launcher').getAttribute('aria-label')).toBe(
      'Закрыть чат',
    );
    await ru.context.close();
  }, 60_000);

  test('phone viewport: the panel fills the screen; focus moves in and back out', async () => {
    const demo = await openDemo({ viewport: { width: 390, height: 844 } });
    await openPanel(demo);
    await expect
      .poll(() => demo.widget.evaluate(() => document.activeElement?.id))
      .toBe('parley-name');
    // Polled: the panel slides into place.
    await expect
      .poll(async () => {
        const box = await demo.page.locator('[data-parley] iframe').boundingBox();
        return box && [box.x, box.y, box.width, box.height].map(Math.round);
      })
      .toEqual([0, 0, 390, 844]);
    await demo.page.screenshot({ path: path.join(screenshots, 'widget-phone.png') });
    await demo.widget.getByRole('button', { name: 'Close chat' }).click();
    await demo.page.locator('[data-parley][data-open="false"]').waitFor({ state: 'attached' });
    await expect
      .poll(() =>
        demo.page.evaluate(() =>
          document
            .querySelector('[data-parley]')
            ?.shadowRoot?.activeElement?.getAttribute('data-testid'),
        ),
      )
      .toBe('parley-launcher');
    await demo.context.close();
  }, 60_000);

  test('axe-core finds no serious or critical violation (launcher, pre-chat form, chat)', async () => {
    const demo = await openDemo();
    type AxeResult = { violations: Array<{ id: string; impact: string | null; nodes: unknown[] }> };
    const serious = (result: AxeResult) =>
      result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => v.id);

    await demo.page.addScriptTag({ path: axePath });
    const launcherResult = await demo.page.evaluate(() =>
      (window as unknown as { axe: { run(c: unknown): Promise<AxeResult> } }).axe.run({
        include: [['[data-parley]']],
      }),
    );
    expect(serious(launcherResult)).toEqual([]);

    await openPanel(demo);
    await demo.widget.addScriptTag({ path: axePath });
    const runInWidget = () =>
      demo.widget.evaluate(() =>
        (window as unknown as { axe: { run(): Promise<AxeResult> } }).axe.run(),
      );
    expect(serious(await runInWidget())).toEqual([]);

    const name = uniqueName('Axel');
    await fillPrechat(demo, name, 'Accessibility check');
    await reply((await chatOf(name)).id, 'Reply with a link https://example.com/help');
    await messages(demo, 'admin').waitFor();
    expect(serious(await runInWidget())).toEqual([]);
    await demo.context.close();
  }, 60_000);

  test('markup stays text, links are safe, badge caps at 9+, new-messages pill, Shift+Enter newline', async () => {
    const demo = await openDemo();
    await openPanel(demo);
    const name = uniqueName('Xena');
    await fillPrechat(demo, name, 'Security check');
    const chat = await chatOf(name);

    await reply(
      chat.id,
      '<img src=x onerror="window.__xss=1"><b>bold</b> javascript:alert(1) https://example.com/ok.',
    );
    const bubble = messages(demo, 'admin').filter({ hasText: '<b>bold</b>' });
    await bubble.waitFor();
    expect(await bubble.locator('img, b').count()).toBe(0);
    const links = bubble.locator('a');
    expect(await links.count()).toBe(1);
    expect(await links.getAttribute('href')).toBe('https://example.com/ok');
    expect(await links.getAttribute('rel')).toBe('noopener noreferrer');
    expect(
      await demo.widget.evaluate(() => (window as unknown as { __xss?: number }).__xss),
    ).toBeUndefined();

    const textarea = demo.widget.getByLabel('Your message');
    await textarea.fill('line one');
    await textarea.press('Shift+Enter');
    await textarea.pressSequentially('line two');
    await textarea.press('Enter');
    const multiLine = messages(demo, 'user').filter({ hasText: 'line two' });
    await multiLine.and(demo.widget.locator('[data-status="stored"]')).waitFor();
    expect(await multiLine.locator('.text').innerText()).toBe('line one\nline two');

    // The visitor scrolls up to read: new replies do not yank the list, a pill offers them.
    for (let i = 1; i <= 12; i++) await reply(chat.id, `Filler ${i}`);
    await messages(demo, 'admin').filter({ hasText: 'Filler 12' }).waitFor();
    await demo.widget.getByRole('list').evaluate((list) => {
      list.scrollTop = 0;
      list.dispatchEvent(new Event('scroll'));
    });
    await reply(chat.id, 'While you were reading');
    const pill = demo.widget.getByRole('button', { name: /New messages/ });
    await pill.waitFor();
    await pill.click();
    await pill.waitFor({ state: 'detached' });

    // Closed panel: ten unread replies show as 9+.
    await demo.page.getByTestId('parley-launcher').click();
    await demo.page.locator('[data-parley][data-open="false"]').waitFor({ state: 'attached' });
    for (let i = 1; i <= 10; i++) await reply(chat.id, `Unread ${i}`);
    await expect.poll(() => badge(demo).textContent()).toBe('9+');
    await demo.context.close();
  }, 90_000);
});

/** Lets a test cut the widget's WebSocket (and refuse new ones) while REST keeps working. */
async function controlSockets(context: BrowserContext) {
  let blocked = false;
  const live: Array<{ close(): Promise<void> }> = [];
  await context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
    if (blocked) {
      // 4100: "reconnect after a backoff" in the close-code catalogue (4000s mean never).
      void ws.close({ code: WsCloseCode.rateLimited, reason: 'blocked by test' });
      return;
    }
    ws.connectToServer();
    live.push(ws);
  });
  return {
    async drop() {
      blocked = true;
      for (const ws of live.splice(0)) await ws.close();
    },
    allow() {
      blocked = false;
    },
  };
}
