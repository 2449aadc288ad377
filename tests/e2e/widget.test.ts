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
import { repoRoot } from '@parley/runtime/testing';
import { http } from '@parley/contracts';
import { startStack, type Stack } from '../support/stack.ts';
import { launchBrowser } from '../support/browser.ts';
import { api, loginOperator, wsClient } from '../support/api.ts';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const screenshots = path.join(repoRoot, 'docs', 'screenshots');

let stack: Stack;
let browser: Browser;
let operatorToken: string;

beforeAll(async () => {
  // The widget needs chat, routing and the gateway; the email service plays no part here.
  // The widget build (npm run build -w @parley/widget) must be current; the admin app is not used.
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
  await widget.locator('[data-testid="connection-state"][data-state="connected"]').waitFor({
    state: 'attached',
  });
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
}

async function fillPrechat(demo: Demo, name: string, message: string, email = '') {
  const form = demo.widget.getByTestId('prechat');
  await form.getByLabel(/name/i).fill(name);
  if (email) await form.getByLabel(/email/i).fill(email);
  await form.getByLabel(/help/i).fill(message);
  await form.getByRole('button').click();
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

    const texts = await messages(demo).allTextContents();
    const stored = (await adminChat(chat.id)).messages.filter((m) => m.sender_type !== 'system');
    expect(texts.filter((t) => !/joined|ended/.test(t))).toHaveLength(stored.length);
    const order = stored.map((m) => m.content.slice(0, 10));
    const shown = await messages(demo).locator('.text').allTextContents();
    expect(shown.map((s) => s.slice(0, 10))).toEqual(order);
    await demo.context.close();
  }, 60_000);
});
