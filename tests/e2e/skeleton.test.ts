/**
 * The walking skeleton, end to end in real browsers: a visitor on the demo customer site writes
 * "hello" in the widget → gateway (ws) → NATS → chat service (stored) → event → gateway fan-out →
 * the operator console shows it live; the operator's reply travels back the same way.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Frame, Page } from 'playwright-core';
import { startStack, type Stack, launchBrowser } from '@parley/runtime/testing';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function widgetFrame(page: Page): Promise<Frame> {
  const element = await page.locator('[data-parley] iframe').elementHandle();
  const frame = await element?.contentFrame();
  if (!frame) throw new Error('the loader created no widget iframe');
  await frame.waitForURL(`${stack.gatewayUrl}/widget/**`);
  return frame;
}

describe('walking skeleton', () => {
  test('visitor says hello in the widget, the operator sees it live and the reply comes back', async () => {
    // Operator console, logged in, on the chat list.
    const operatorCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const console_ = await operatorCtx.newPage();
    await console_.goto(`${stack.gatewayUrl}/admin/chats?tab=active`);
    await console_.getByLabel('Email').fill(stack.adminEmail);
    await console_.getByLabel('Password').fill(stack.adminPassword);
    await console_.getByRole('button', { name: 'Sign in' }).click();
    await console_.getByRole('heading', { name: 'Support Chats' }).waitFor();
    await console_.locator('.connection[data-state="open"]').waitFor();

    // Visitor on the customer's site, with the widget from the one script tag.
    const visitorCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const site = await visitorCtx.newPage();
    await site.goto(`${stack.demoUrl}/`);
    await site.getByTestId('parley-launcher').click();
    const widget = await widgetFrame(site);
    await widget
      .locator('[data-testid="connection-state"][data-state="connected"]')
      .waitFor({ state: 'attached' });
    const prechat = widget.getByTestId('prechat');
    await prechat.getByLabel(/name/i).fill('Vera Visitor');
    await prechat.getByLabel(/help/i).fill('hello');
    await prechat.getByRole('button').click();
    await widget
      .locator('[data-testid="message"][data-sender="user"][data-status="stored"]')
      .filter({ hasText: 'hello' })
      .waitFor();

    // The console's list shows it live, without a reload.
    const card = console_.getByTestId('chat-card').filter({ hasText: 'Vera Visitor' });
    await card.waitFor();
    await card.click();
    await console_.getByTestId('chat-title').waitFor();
    await console_
      .locator('[data-testid="message"][data-sender="user"]')
      .filter({ hasText: 'hello' })
      .waitFor();

    // The reply travels back to the widget.
    const composer = console_.getByTestId('composer');
    await composer.fill('Hi Vera, how can we help?');
    await composer.press('Enter');
    await widget
      .locator('[data-testid="message"][data-sender="admin"]')
      .filter({ hasText: 'Hi Vera, how can we help?' })
      .waitFor();

    // Each message appears once on both sides.
    expect(
      await widget.locator('[data-testid="message"]').filter({ hasText: 'hello' }).count(),
    ).toBe(1);
    expect(
      await console_
        .locator('[data-testid="message"]')
        .filter({ hasText: 'Hi Vera, how can we help?' })
        .count(),
    ).toBe(1);
    await operatorCtx.close();
    await visitorCtx.close();
  }, 90_000);
});
