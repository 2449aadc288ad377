/**
 * Operator tools in real browsers against the real stack: a visitor in the real widget, two
 * operators in separate Chromium contexts. A canned reply goes in with its variables filled; an
 * internal note never shows in the widget, and its @mention alerts the colleague and lands in
 * their Mentions view.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { http } from '@parley/contracts';
import {
  api,
  launchBrowser,
  loginOperator,
  repoRoot,
  startStack,
  type Stack,
} from '@parley/runtime/testing';
import { buildApp } from '../../scripts/lib/apps.ts';

const screenshots = path.join(repoRoot, 'docs', 'screenshots');
const boris = { name: 'Boris Agent', email: 'boris@parley.test', password: 'boris-password-1' };
const secret = `note-${randomUUID().slice(0, 8)}`;

let stack: Stack;
let browser: Browser;
let admin: http.LoginResponse;
let ada: Page;
let borisPage: Page;
let widget: Frame;
let chatId: string;
const contexts: BrowserContext[] = [];

async function openConsole(email: string, password: string): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  contexts.push(context);
  await context.grantPermissions(['notifications'], { origin: stack.gatewayUrl });
  const page = await context.newPage();
  await page.goto(`${stack.gatewayUrl}/admin/`);
  await page.waitForURL(/\/admin\/login/);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.connection[data-state="open"]').waitFor();
  return page;
}

async function screenshot(page: Page, name: string) {
  const dismiss = page.locator('.notice button');
  while ((await dismiss.count()) > 0)
    await dismiss
      .first()
      .click({ timeout: 1000 })
      .catch(() => undefined);
  await page.screenshot({ path: path.join(screenshots, name) });
}

async function status(token: string, value: 'online' | 'away') {
  const res = await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
    token,
    body: { status: value },
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  buildApp(repoRoot, 'widget', { ifMissing: true });
  // The console changed with these tools: always build it fresh for this file.
  buildApp(repoRoot, 'admin');
  stack = await startStack({ buildApps: false });
  browser = await launchBrowser();
  mkdirSync(screenshots, { recursive: true });
  admin = await loginOperator(stack);
  const created = await api(stack.gatewayUrl, 'POST', '/api/admin/operators', {
    token: admin.token,
    body: boris,
  });
  expect(created.status).toBe(201);
  const canned = await api(stack.gatewayUrl, 'POST', '/api/admin/canned_responses', {
    token: admin.token,
    body: {
      shortcut: 'hello',
      title: 'Greeting',
      content:
        'Hello {{visitor.name|there}}, {{operator.name}} here. Your email: {{visitor.email|unknown}}.',
      scope: 'team',
    },
  });
  expect(canned.status).toBe(201);

  ada = await openConsole(stack.adminEmail, stack.adminPassword);
  borisPage = await openConsole(boris.email, boris.password);
  await status(admin.token, 'online');
  await status((await loginOperator(stack, boris.email, boris.password)).token, 'away');

  // The visitor, in the real widget on the demo page.
  const visitorContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  contexts.push(visitorContext);
  const page = await visitorContext.newPage();
  await page.goto(`${stack.demoUrl}/`);
  await page.getByTestId('parley-launcher').waitFor();
  const frameEl = await page.locator('[data-parley] iframe').elementHandle();
  widget = (await frameEl?.contentFrame())!;
  await page.getByTestId('parley-launcher').click();
  const form = widget.getByTestId('prechat');
  await form.locator('#parley-name').fill('Vera');
  await form.locator('#parley-first').fill('Where is my refund?');
  await form.locator('button[type="submit"]').click();
  await widget
    .locator('[data-testid="message"][data-sender="user"][data-status="stored"]')
    .filter({ hasText: 'Where is my refund?' })
    .waitFor();
  const list = await api(stack.gatewayUrl, 'GET', '/api/admin/chats', { token: admin.token });
  chatId = http.ChatListResponse.parse(list.body).find((c) => c.user_name === 'Vera')!.id;
}, 300_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
});

describe('operator tools in the console', () => {
  test('a canned reply goes into the composer with its variables filled, sent only on Enter', async () => {
    await ada.goto(`${stack.gatewayUrl}/admin/chats/${chatId}`);
    await ada.getByTestId('chat-title').waitFor();
    const composer = ada.getByTestId('composer');
    await composer.fill('/hel');
    await ada.getByTestId('canned-option').first().waitFor();
    await screenshot(ada, 'canned-replies.png');
    await composer.press('Enter');
    const filled = `Hello Vera, ${admin.operator.name} here. Your email: unknown.`;
    await expect.poll(() => composer.inputValue()).toBe(filled);
    // Inserted, not sent: nothing new in the chat until the operator's own Enter.
    expect(await ada.locator('[data-testid="message"][data-sender="admin"]').count()).toBe(0);
    await composer.press('Enter');
    await widget.locator('[data-testid="message"]').filter({ hasText: filled }).waitFor();
  });

  test('a note stays with the team, and its mention alerts the colleague', async () => {
    await ada.getByTestId('note-toggle').click();
    await ada.getByTestId('note-label').waitFor();
    const composer = ada.getByTestId('composer');
    await composer.fill(`@boris can we refund ${secret}?`);
    await composer.press('Enter');
    await ada.getByTestId('note').filter({ hasText: secret }).waitFor();
    await screenshot(ada, 'internal-note.png');
    // A reply after the note: once the widget shows it, the note would have come before.
    await ada.getByTestId('note-toggle').click();
    await composer.fill('One moment please.');
    await composer.press('Enter');
    await widget
      .locator('[data-testid="message"]')
      .filter({ hasText: 'One moment please.' })
      .waitFor();
    expect(await widget.locator('body').innerText()).not.toContain(secret);

    await borisPage.getByText(`${admin.operator.name} mentioned you in a note`).waitFor();
    await expect.poll(() => borisPage.getByTestId('mentions-count').innerText()).toBe('1');
    await borisPage.getByTestId('nav-mentions').click();
    await borisPage.getByTestId('mention').filter({ hasText: secret }).waitFor();
    await screenshot(borisPage, 'mentions.png');
    await borisPage.getByTestId('mention').filter({ hasText: secret }).locator('a').click();
    await borisPage.getByTestId('note').filter({ hasText: secret }).waitFor();
    await expect.poll(() => borisPage.getByTestId('mentions-count').innerText()).toBe('0');
  });

  test('? lists the keyboard shortcuts, Alt+T toggles a note from the composer', async () => {
    await ada.locator('h1, [data-testid="chat-title"]').first().click();
    await ada.keyboard.press('?');
    const list = ada.getByTestId('shortcuts');
    await list.getByText('Toggle between reply and internal note').waitFor();
    await screenshot(ada, 'keyboard-shortcuts.png');
    await ada.keyboard.press('Escape');
    await list.waitFor({ state: 'detached' });
    await ada.getByTestId('composer').focus();
    await ada.keyboard.press('Alt+t');
    await ada.getByTestId('note-label').waitFor();
    await ada.keyboard.press('Alt+t');
    await ada.getByTestId('note-label').waitFor({ state: 'detached' });
  });
});
