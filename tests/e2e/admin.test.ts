/**
 * The operator console in a real browser against the real stack (NATS, Redis, chat, routing,
 * notify and gateway processes). Two operators sit in separate browser contexts; visitors speak
 * the visitor REST/WebSocket API exactly as the widget does.
 *
 * The tests run in order and share one stack: each one sets the operators' statuses it needs.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  startStack,
  type Stack,
  launchBrowser,
  api,
  createVisitor,
  loginOperator,
  wsClient,
  type TestWsClient,
  repoRoot,
  startService,
  type ManagedProcess,
} from '@parley/runtime/testing';
import { http, WsCloseCode, type OperatorStatus } from '@parley/contracts';

const screenshots = path.join(repoRoot, 'docs', 'screenshots');

let stack: Stack;
let browser: Browser;
let adminToken: string;
const colleague = { name: 'Boris Agent', email: 'boris@parley.test', password: 'boris-password-1' };

interface Console {
  context: BrowserContext;
  page: Page;
}
let ada: Console;
let boris: Console;
const visitors: Visitor[] = [];
/** Gateways this file started itself (the stack stops its own). */
const restarted: ManagedProcess[] = [];

beforeAll(async () => {
  stack = await startStack({ services: ['chat', 'routing', 'notify', 'gateway'] });
  browser = await launchBrowser(['--autoplay-policy=no-user-gesture-required']);
  adminToken = (await loginOperator(stack)).token;
  mkdirSync(screenshots, { recursive: true });
  ada = await openConsole(stack.adminEmail, stack.adminPassword);
}, 240_000);

afterAll(async () => {
  for (const v of visitors) await v.ws.close().catch(() => undefined);
  await browser?.close();
  for (const p of restarted) await p.stop().catch(() => undefined);
  await stack?.stop();
});

// ------------------------------------------------------------------ helpers

async function openConsole(
  email: string,
  password: string,
  viewport = { width: 1280, height: 800 },
): Promise<Console> {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC' });
  await context.grantPermissions(['notifications'], { origin: stack.gatewayUrl });
  // Records the console's alerts while the real APIs still run: desktop notifications (kept,
  // so a test can click one) and the tones of the Web Audio chime.
  await context.addInitScript(() => {
    const w = window as unknown as {
      __alerts: Array<{ kind: string; title?: string; body?: string; n?: Notification }>;
    };
    w.__alerts = [];
    const RealNotification = window.Notification;
    class RecordedNotification extends RealNotification {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        w.__alerts.push({ kind: 'notification', title, body: options?.body ?? '', n: this });
      }
    }
    window.Notification = RecordedNotification;
    const createOscillator = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function (this: AudioContext) {
      w.__alerts.push({ kind: 'tone' });
      return createOscillator.call(this);
    };
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') console.log(`[${email}] ${message.text()}`);
  });
  page.on('pageerror', (err) => console.log(`[${email}] page error: ${err.message}`));
  // The address `npm start` prints: the console sends a signed-out operator to its login.
  await page.goto(`${stack.gatewayUrl}/admin/`);
  await page.waitForURL(/\/admin\/login/);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.connection[data-state="open"]').waitFor();
  return { context, page };
}

async function setStatus(c: Console, status: OperatorStatus) {
  await c.page.getByLabel('Your status').selectOption(status);
  await c.page.locator(`select[data-status="${status}"]`).waitFor();
}

interface Visitor {
  name: string;
  email: string;
  token: string;
  chatId: string;
  ws: TestWsClient;
  say(text: string): Promise<void>;
}

/** A visitor as the widget makes one: session, chat, WebSocket subscribed to the chat. */
async function newVisitor(prefix: string): Promise<Visitor> {
  const tag = randomUUID().slice(0, 6);
  const name = `${prefix} ${tag}`;
  const email = `${prefix.toLowerCase()}.${tag}@example.com`;
  const session = await createVisitor(stack, { name, email });
  const chatRes = await api(stack.gatewayUrl, 'GET', '/api/support_chat', { token: session.token });
  const chat = http.SupportChatResponse.parse(chatRes.body);
  const ws = await wsClient(stack.gatewayUrl, session.token);
  ws.send({ type: 'subscribe', channel: 'chat', chat_id: chat.id });
  await ws.nextFrame((f) => f.type === 'subscribed' && f.channel === 'chat');
  const visitor: Visitor = {
    name,
    email,
    token: session.token,
    chatId: chat.id,
    ws,
    async say(text) {
      const ack = await ws.sendMessage(chat.id, text);
      expect(ack.message.content).toBe(text);
    },
  };
  visitors.push(visitor);
  return visitor;
}

function card(c: Console, chatId: string) {
  return c.page.locator(`[data-testid="chat-card"][data-chat-id="${chatId}"]`);
}

async function openChat(c: Console, chatId: string) {
  await c.page.goto(`${stack.gatewayUrl}/admin/chats/${chatId}`);
  await c.page.getByTestId('chat-title').waitFor();
  await c.page.locator('.connection[data-state="open"]').waitFor();
}

function bubbles(c: Console, sender?: 'user' | 'admin') {
  return c.page.locator(
    sender ? `[data-testid="message"][data-sender="${sender}"]` : '[data-testid="message"]',
  );
}

async function reply(c: Console, text: string) {
  const composer = c.page.getByTestId('composer');
  await composer.fill(text);
  await composer.press('Enter');
  await bubbles(c, 'admin').filter({ hasText: text }).waitFor();
}

async function storedChat(chatId: string) {
  const res = await api(
    stack.gatewayUrl,
    'GET',
    `/api/admin/chats/${chatId}/messages?after_seq=0&limit=200`,
    {
      token: adminToken,
    },
  );
  return http.MessagesPage.parse(res.body).messages;
}

async function sessionOf(chatId: string) {
  const res = await api(stack.gatewayUrl, 'GET', `/api/routing/chats/${chatId}/session`, {
    token: adminToken,
  });
  return http.SessionResponse.parse(res.body);
}

/** A 1×1 PNG and a short silent WAV: real files, so the gateway's content sniffing accepts them. */
const PNG_1PX = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
function silentWav(ms = 300, rate = 8000): Buffer {
  const samples = Math.round((rate * ms) / 1000);
  const b = Buffer.alloc(44 + samples);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + samples, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate, 28);
  b.writeUInt16LE(1, 32);
  b.writeUInt16LE(8, 34);
  b.write('data', 36);
  b.writeUInt32LE(samples, 40);
  b.fill(128, 44);
  return b;
}

/** Clears the toasts so a screenshot shows the page itself. */
async function screenshot(c: Console, name: string) {
  const dismiss = c.page.locator('.notice button');
  // A confirmation may fade by itself between count() and click(): that is fine too.
  while ((await dismiss.count()) > 0)
    await dismiss
      .first()
      .click({ timeout: 1000 })
      .catch(() => undefined);
  await c.page.screenshot({ path: path.join(screenshots, name) });
}

/** Ends the routing sessions of these visitors, so the next test starts with free operators. */
async function closeOpenSessions(list: Visitor[]) {
  for (const v of list) {
    const session = await sessionOf(v.chatId);
    if (!session || session.status === 'closed') continue;
    const res = await api(stack.gatewayUrl, 'POST', `/api/routing/chats/${v.chatId}/close`, {
      token: adminToken,
    });
    if (res.status >= 300)
      throw new Error(`close failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

// ------------------------------------------------------------------ tests

describe('operator console', () => {
  test('login, session expiry sends back to login and returns to the page afterwards', async () => {
    const own = await openConsole(stack.adminEmail, stack.adminPassword);
    const { page } = own;
    await page.getByRole('heading', { name: 'Support Chats' }).waitFor();

    // A token past its expiry: the reload bounces to login, which then comes back here.
    await page.goto(`${stack.gatewayUrl}/admin/queue`);
    await page.evaluate(() => {
      const raw = localStorage.getItem('parley.admin.session');
      if (!raw) throw new Error('no session stored');
      const session = JSON.parse(raw) as { expires_at: string };
      session.expires_at = new Date(Date.now() - 1000).toISOString();
      localStorage.setItem('parley.admin.session', JSON.stringify(session));
    });
    await page.reload();
    await page.waitForURL(/\/admin\/login\?/);
    await page.getByText('Your session has expired').waitFor();
    await page.getByLabel('Email').fill(stack.adminEmail);
    await page.getByLabel('Password').fill('wrong password!');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Wrong email or password.').waitFor();
    await page.getByLabel('Password').fill(stack.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.gatewayUrl}/admin/queue`);
    await page.getByRole('heading', { name: 'Waiting visitors' }).waitFor();

    // A token the server no longer accepts (revoked elsewhere): the gateway closes the live
    // connection as unauthorized and the console bounces to login.
    const token = await page.evaluate(
      () =>
        (JSON.parse(localStorage.getItem('parley.admin.session') ?? '{}') as { token: string })
          .token,
    );
    const revoked = await api(stack.gatewayUrl, 'POST', '/api/auth/logout', { token });
    expect(revoked.status).toBe(204);
    await page.waitForURL(/\/admin\/login\?.*expired=1/);
    await page.getByText('Your session has expired').waitFor();
    await own.context.close();
  }, 60_000);

  test('an admin adds a colleague, who signs in in another browser context', async () => {
    await ada.page.goto(`${stack.gatewayUrl}/admin/operators`);
    const form = ada.page.locator('form.create');
    await form.getByLabel('Name').fill(colleague.name);
    await form.getByLabel('Email').fill(colleague.email);
    await form.getByLabel('Password').fill(colleague.password);
    await form.getByLabel('Capacity').fill('3');
    await form.getByRole('button', { name: 'Add operator' }).click();
    const row = ada.page.locator(`[data-testid="operator-row"][data-email="${colleague.email}"]`);
    await row.waitFor();
    await expect.poll(() => row.getByLabel('Role').inputValue()).toBe('agent');

    boris = await openConsole(colleague.email, colleague.password);
    await boris.page.getByRole('heading', { name: 'Support Chats' }).waitFor();
    // Agents see their own chats and the queue, not the admin views.
    expect(await boris.page.getByRole('link', { name: 'Operators' }).count()).toBe(0);
    await setStatus(boris, 'online');
    await boris.page.getByTestId('load').filter({ hasText: '0 / 3 chats' }).waitFor();
    // Colleagues see the status change live: on the operators page and in every sidebar.
    await row.locator('.pill.online').waitFor();
    await ada.page
      .getByTestId('team-member')
      .filter({ hasText: colleague.name })
      .and(ada.page.locator('[data-status="online"]'))
      .waitFor();
    await boris.page.getByTestId('team-member').filter({ hasText: 'Ada Admin' }).waitFor();

    // Deactivating an account: marked in the list, and that operator can no longer sign in.
    await form.getByLabel('Name').fill('Carl Temp');
    await form.getByLabel('Email').fill('carl@parley.test');
    await form.getByLabel('Password').fill('carl-password-1');
    await form.getByRole('button', { name: 'Add operator' }).click();
    const carl = ada.page.locator('[data-testid="operator-row"][data-email="carl@parley.test"]');
    await carl.getByRole('button', { name: 'Deactivate' }).click();
    await carl.getByText('Deactivated').waitFor();
    const refused = await api(stack.gatewayUrl, 'POST', '/api/auth/login', {
      body: { email: 'carl@parley.test', password: 'carl-password-1' },
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
  }, 60_000);

  test('console checklist: live arrival, instant reply, order, no duplicates, archive, restore, auto-unarchive', async () => {
    // Nobody online: these chats wait in the queue, so only visitor and operator lines show.
    await setStatus(boris, 'away');
    await setStatus(ada, 'away');
    await ada.page.goto(`${stack.gatewayUrl}/admin/chats?tab=active`);
    await ada.page.getByRole('heading', { name: 'Support Chats' }).waitFor();

    const first = await newVisitor('Olga');
    const second = await newVisitor('Pavel');
    await first.say('Hello, my parcel is late');
    await card(ada, first.chatId).filter({ hasText: 'Hello, my parcel is late' }).waitFor();
    await second.say('Do you ship to Norway?');
    await card(ada, second.chatId).waitFor();

    // Newest first, unread highlighted, email, preview, count and relative time.
    const cards = ada.page.getByTestId('chat-card');
    await expect.poll(async () => cards.first().getAttribute('data-chat-id')).toBe(second.chatId);
    const secondCard = card(ada, second.chatId);
    expect(await secondCard.getAttribute('data-unread')).toBe('true');
    expect(await secondCard.textContent()).toContain(second.email);
    expect(await secondCard.getByTestId('meta').textContent()).toMatch(/1 message · just now/);

    // A new message moves the older chat to the top, live.
    await first.say('Order number 4711');
    await expect.poll(async () => cards.first().getAttribute('data-chat-id')).toBe(first.chatId);
    await expect
      .poll(() => card(ada, first.chatId).getByTestId('meta').textContent())
      .toMatch(/2 messages/);
    await screenshot(ada, 'admin-list.png');

    // Open: messages left, marked viewed server-side, reply reaches the visitor at once.
    await card(ada, first.chatId).click();
    await ada.page.getByTestId('chat-title').filter({ hasText: first.email }).waitFor();
    await bubbles(ada, 'user').filter({ hasText: 'Order number 4711' }).waitFor();
    await ada.page.getByTestId('date-divider').first().waitFor();
    const replyText = 'Sorry about that, checking now.';
    const arrived = first.ws.nextFrame(
      (f) =>
        f.type === 'new_message' &&
        f.message.content === replyText &&
        f.message.sender_type === 'admin',
    );
    await reply(ada, replyText);
    await arrived;
    const listRes = await api(stack.gatewayUrl, 'GET', '/api/admin/chats', { token: adminToken });
    const listed = http.ChatListResponse.parse(listRes.body).find((c) => c.id === first.chatId);
    expect(listed?.unread).toBe(false);
    expect(listed?.last_message_sender).toBe('admin');

    // Message content is text, never markup.
    const markup = '<img src=x onerror="document.body.dataset.pwned=1"><b>bold</b>';
    await first.say(markup);
    await bubbles(ada, 'user').filter({ hasText: markup }).waitFor();
    expect(await bubbles(ada).locator('b, img[src="x"]').count()).toBe(0);
    expect(await ada.page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();

    // Several quick visitor messages: shown once each, in order.
    for (const n of [1, 2, 3]) await first.say(`line ${n}`);
    await bubbles(ada, 'user').filter({ hasText: 'line 3' }).waitFor();
    const stored = (await storedChat(first.chatId)).filter((m) => m.sender_type !== 'system');
    await expect.poll(() => bubbles(ada).count()).toBe(stored.length);
    const shown = await bubbles(ada).locator('.text').allTextContents();
    expect(shown).toEqual(stored.map((m) => m.content));
    await screenshot(ada, 'admin-detail.png');

    // Olga never reads the reply: notify emails her after NOTIFY_DELAY. Waited for before the
    // archiving below, because an archived chat gets no email (the job would race the click).
    await expect
      .poll(
        async () => {
          const res = await api(stack.gatewayUrl, 'GET', '/api/admin/outbox', {
            token: adminToken,
          });
          return http.OutboxResponse.parse(res.body).some((e) => e.to.includes(first.email));
        },
        { timeout: 20_000 },
      )
      .toBe(true);

    // Archive / restore.
    await ada.page.getByTestId('archive-toggle').filter({ hasText: 'Archive' }).click();
    await ada.page.getByTestId('archive-toggle').filter({ hasText: 'Restore' }).waitFor();
    await ada.page.goto(`${stack.gatewayUrl}/admin/chats?tab=archived`);
    await card(ada, first.chatId).waitFor();
    await card(ada, first.chatId).click();
    await ada.page.getByTestId('archive-toggle').filter({ hasText: 'Restore' }).click();
    await ada.page.getByTestId('archive-toggle').filter({ hasText: 'Archive' }).waitFor();

    // Archive again, then a visitor message brings it back to Active, live and unread.
    await ada.page.getByTestId('archive-toggle').filter({ hasText: 'Archive' }).click();
    await ada.page.getByTestId('archive-toggle').filter({ hasText: 'Restore' }).waitFor();
    await ada.page.getByRole('link', { name: 'All chats' }).click();
    await ada.page.getByRole('heading', { name: 'Support Chats' }).waitFor();
    await expect.poll(() => card(ada, first.chatId).count()).toBe(0);
    await first.say('Are you still there?');
    await card(ada, first.chatId).and(ada.page.locator('[data-unread="true"]')).waitFor();
    expect(await ada.page.locator(`[data-chat-id="${first.chatId}"]`).count()).toBe(1);
    await closeOpenSessions([first, second]);
  }, 90_000);

  test('queue: a waiting visitor with wait time, taken by hand', async () => {
    await setStatus(ada, 'away');
    await setStatus(boris, 'away');
    const v = await newVisitor('Quinn');
    await v.say('Anyone there?');
    await ada.page.getByRole('link', { name: /Queue/ }).click();
    const entry = ada.page.locator(`[data-testid="queue-entry"][data-chat-id="${v.chatId}"]`);
    await entry.waitFor();
    await entry
      .getByTestId('wait-time')
      .filter({ hasText: /waiting \d+ s/ })
      .waitFor();
    expect(await entry.textContent()).toContain('Anyone there?');
    await screenshot(ada, 'admin-queue.png');

    // Boris sees the same queue live; Ada takes the chat.
    await boris.page.getByRole('link', { name: /Queue/ }).click();
    const borisEntry = boris.page.locator(
      `[data-testid="queue-entry"][data-chat-id="${v.chatId}"]`,
    );
    await borisEntry.waitFor();
    const joined = v.ws.nextFrame(
      (f) => f.type === 'session_status' && f.session.status === 'active',
    );
    await entry.getByTestId('take').click();
    await ada.page.waitForURL(new RegExp(`/admin/chats/${v.chatId}$`));
    await ada.page.getByTestId('session-status').filter({ hasText: 'Assigned to You' }).waitFor();
    await joined;
    await borisEntry.waitFor({ state: 'detached' });
    await ada.page.getByRole('link', { name: /My chats/ }).click();
    await card(ada, v.chatId).waitFor();
    await closeOpenSessions([v]);
    await card(ada, v.chatId).waitFor({ state: 'detached' });
  }, 60_000);

  test('auto-assignment notifies the operator: notice, chime, desktop notification, title with the unread count, My chats', async () => {
    await setStatus(ada, 'away');
    await boris.page.goto(`${stack.gatewayUrl}/admin/chats`);
    await setStatus(boris, 'online');
    // Boris is looking at another window: only then does the console raise a desktop notification.
    await boris.page.evaluate(() => {
      document.hasFocus = () => false;
      (window as unknown as { __alerts: unknown[] }).__alerts.length = 0;
    });
    const v = await newVisitor('Rita');
    await v.say('I need help with billing');
    await boris.page
      .locator('.notice')
      .filter({ hasText: `New chat assigned: ${v.name}` })
      .waitFor();
    await card(boris, v.chatId).waitFor();
    await expect.poll(() => boris.page.title()).toMatch(/^\(\d+\) Parley console$/);
    const alerts = await boris.page.evaluate(() =>
      (
        window as unknown as { __alerts: Array<{ kind: string; title?: string; body?: string }> }
      ).__alerts.map(({ kind, title, body }) => ({ kind, title, body })),
    );
    expect(alerts.filter((a) => a.kind === 'tone').length).toBe(2);
    expect(alerts.filter((a) => a.kind === 'notification')).toEqual([
      { kind: 'notification', title: 'Parley console', body: `New chat assigned: ${v.name}` },
    ]);
    const session = await sessionOf(v.chatId);
    expect(session?.operator?.name).toBe(colleague.name);
    // Clicking the desktop notification opens the assigned chat.
    await boris.page.evaluate(() => {
      const { __alerts } = window as unknown as { __alerts: Array<{ n?: Notification }> };
      const n = __alerts.find((a) => a.n)?.n;
      n?.onclick?.(new Event('click'));
    });
    await boris.page.waitForURL(new RegExp(`/admin/chats/${v.chatId}$`));
    await bubbles(boris, 'user').filter({ hasText: 'billing' }).waitFor();
    await expect.poll(() => boris.page.title()).toBe('Parley console');
    await boris.page.evaluate(() => {
      document.hasFocus = Document.prototype.hasFocus;
    });
  }, 60_000);

  test('typing both ways', async () => {
    const v = visitors.at(-1)!;
    // Visitor types: Boris sees the indicator under the conversation.
    v.ws.send({ type: 'typing', chat_id: v.chatId });
    await boris.page
      .getByTestId('typing')
      .filter({ hasText: `${v.name} is typing…` })
      .waitFor();
    // Boris types: the visitor's connection receives an operator typing frame.
    const seen = v.ws.nextFrame((f) => f.type === 'typing' && f.sender_type === 'admin');
    await boris.page.getByTestId('composer').pressSequentially('Let me look', { delay: 20 });
    const frame = await seen;
    expect(frame.type === 'typing' && frame.sender_name).toBe(colleague.name);
  }, 30_000);

  test('transfer between two operators, then close and reopen', async () => {
    const v = visitors.at(-1)!;
    await setStatus(ada, 'online');
    await boris.page.getByTestId('transfer').click();
    const dialog = boris.page.getByTestId('transfer-dialog');
    await dialog.getByTestId('transfer-to').filter({ hasText: 'Ada Admin' }).click();
    await dialog.waitFor({ state: 'hidden' });

    await ada.page
      .locator('.notice')
      .filter({ hasText: `transferred by ${colleague.name}` })
      .waitFor();
    await boris.page.locator('.notice').filter({ hasText: 'transferred to a colleague' }).waitFor();
    await boris.page
      .getByTestId('system-message')
      .filter({ hasText: `Transferred from ${colleague.name} to Ada Admin` })
      .waitFor();
    await boris.page
      .getByTestId('session-status')
      .filter({ hasText: 'Assigned to Ada Admin' })
      .waitFor();

    await openChat(ada, v.chatId);
    await ada.page.getByTestId('session-status').filter({ hasText: 'Assigned to You' }).waitFor();
    ada.page.once('dialog', (d) => void d.accept());
    const ended = v.ws.nextFrame(
      (f) => f.type === 'session_status' && f.session.status === 'closed',
    );
    await ada.page.getByTestId('close-chat').click();
    await ada.page.getByTestId('session-status').filter({ hasText: 'Closed' }).waitFor();
    await ada.page
      .getByTestId('system-message')
      .filter({ hasText: 'Chat closed by Ada Admin' })
      .waitFor();
    await ended;

    // The visitor writes again: a new session, assigned to an online operator (Ada).
    await setStatus(boris, 'away');
    await v.say('One more question');
    await ada.page.getByTestId('session-status').filter({ hasText: 'Assigned to You' }).waitFor();
    await bubbles(ada, 'user').filter({ hasText: 'One more question' }).waitFor();
  }, 60_000);

  test('online visitors: live list with page, invite with a message', async () => {
    const v = await newVisitor('Sven');
    v.ws.send({
      type: 'page_view',
      url: 'https://shop.example.com/pricing',
      title: 'Pricing – Example Shop',
      referrer: 'https://search.example.org/',
      timezone: 'Europe/Oslo',
    });
    await ada.page.getByRole('link', { name: /Visitors online/ }).click();
    const row = ada.page
      .locator(`[data-testid="online-visitor"][data-user-id]`)
      .filter({ hasText: v.email });
    await row.filter({ hasText: 'Pricing – Example Shop' }).waitFor();
    await screenshot(ada, 'admin-visitors.png');
    // The server pages and searches the list; the page shown follows live changes.
    const search = ada.page.getByTestId('visitor-search');
    await search.fill('no-visitor-matches-this');
    await ada.page.getByText('No visitors are browsing right now.').waitFor();
    await search.fill(v.email);
    await row.waitFor();
    await ada.page.getByTestId('visitor-range').filter({ hasText: '1–1 of 1' }).waitFor();
    v.ws.send({ type: 'page_view', url: 'https://shop.example.com/pricing#faq', title: 'FAQ' });
    await row.filter({ hasText: 'FAQ' }).waitFor();
    v.ws.send({
      type: 'page_view',
      url: 'https://shop.example.com/pricing',
      title: 'Pricing – Example Shop',
    });
    await row.filter({ hasText: 'Pricing – Example Shop' }).waitFor();

    const invitation = v.ws.nextFrame((f) => f.type === 'invitation');
    await row.getByTestId('invite').click();
    const dialog = ada.page.getByTestId('invite-dialog');
    await dialog.getByTestId('invite-message').fill('Hi Sven, questions about our plans?');
    await dialog.getByRole('button', { name: 'Send invitation' }).click();
    const frame = await invitation;
    expect(frame.type === 'invitation' && frame.message.content).toBe(
      'Hi Sven, questions about our plans?',
    );
    await ada.page.waitForURL(/\/admin\/chats\/[0-9a-f-]+$/);
    await bubbles(ada, 'admin').filter({ hasText: 'questions about our plans' }).waitFor();
    // The visitor panel beside the chat shows where the visitor is.
    const panel = ada.page.getByTestId('visitor-panel');
    await panel.getByTestId('current-page').filter({ hasText: 'Pricing – Example Shop' }).waitFor();
    expect(await panel.getByTestId('identified').textContent()).toBe('Anonymous');
  }, 60_000);

  test('images and voice messages: shown and playable; the operator attaches an image', async () => {
    const v = await newVisitor('Uma');
    const form = new FormData();
    form.set(http.ATTACHMENT_CHAT_FIELD, v.chatId);
    form.set(
      http.ATTACHMENT_FILE_FIELD,
      new Blob([new Uint8Array(silentWav())], { type: 'audio/wav' }),
      'voice.wav',
    );
    const upload = await fetch(`${stack.gatewayUrl}/api/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${v.token}` },
      body: form,
    });
    expect(upload.status).toBeLessThan(300);
    const audio = http.AttachmentResponse.parse(await upload.json());
    expect(audio.kind).toBe('audio');
    const clientId = randomUUID();
    v.ws.send({
      type: 'send_message',
      chat_id: v.chatId,
      content: '',
      client_id: clientId,
      attachment_ids: [audio.id],
    });
    await v.ws.nextFrame((f) => f.type === 'ack' && f.client_id === clientId);

    await openChat(ada, v.chatId);
    const player = bubbles(ada, 'user').locator('[data-kind="audio"] audio');
    await player.waitFor();
    expect(await player.getAttribute('src')).toMatch(/^blob:/);
    const playable = await player.evaluate(
      (el: HTMLAudioElement) =>
        new Promise<number>((resolve, reject) => {
          if (el.readyState >= 1) return resolve(el.duration);
          el.addEventListener('loadedmetadata', () => resolve(el.duration));
          el.addEventListener('error', () => reject(new Error('audio failed to load')));
        }),
    );
    expect(playable).toBeGreaterThan(0);

    const received = v.ws.nextFrame(
      (f) =>
        f.type === 'new_message' &&
        f.message.sender_type === 'admin' &&
        f.message.attachments.length === 1,
    );
    await ada.page
      .getByTestId('attach-input')
      .setInputFiles({ name: 'screenshot.png', mimeType: 'image/png', buffer: PNG_1PX });
    await ada.page.locator('.chip').filter({ hasText: 'screenshot.png' }).waitFor();
    await ada.page.getByTestId('composer').fill('Here is where to click');
    await ada.page.getByTestId('composer').press('Enter');
    const image = bubbles(ada, 'admin')
      .filter({ hasText: 'Here is where to click' })
      .locator('img');
    await image.waitFor();
    await expect
      .poll(() => image.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth))
      .toBe(1);
    const frame = await received;
    expect(frame.type === 'new_message' && frame.message.attachments[0]?.kind).toBe('image');
  }, 60_000);

  test('Alt+N opens the next unread chat; the email outbox shows the unread-reply email', async () => {
    const v = await newVisitor('Wim');
    await v.say('Ping for the shortcut');
    await ada.page.goto(`${stack.gatewayUrl}/admin/chats?tab=active`);
    await card(ada, v.chatId).and(ada.page.locator('[data-unread="true"]')).waitFor();
    await ada.page.keyboard.press('Alt+N');
    await ada.page.waitForURL(new RegExp(`/admin/chats/${v.chatId}$`));

    // Wim never reads Ada's reply: notify emails it after NOTIFY_DELAY. (Wim's chat stays in
    // Active: an archived chat gets no email, so a chat the checklist archives is no witness.)
    const replyText = 'Pong: how can I help?';
    await reply(ada, replyText);
    await expect
      .poll(
        async () => {
          const res = await api(stack.gatewayUrl, 'GET', '/api/admin/outbox', {
            token: adminToken,
          });
          return http.OutboxResponse.parse(res.body).some((e) => e.to.includes(v.email));
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    await ada.page.getByRole('link', { name: 'Email outbox' }).click();
    const email = ada.page.getByTestId('outbox-email').filter({ hasText: v.email });
    await email.getByRole('button').click();
    const frame = email.locator('iframe');
    await frame.waitFor();
    expect(await frame.getAttribute('sandbox')).toBe('');
    await ada.page
      .frameLocator(`[data-testid="outbox-email"] iframe`)
      .getByText(replyText)
      .waitFor();
  }, 60_000);

  test('an operator message refused as unavailable is retried by itself and stored once', async () => {
    const v = await newVisitor('Rolf');
    await v.say('Is anyone there?');
    const own = await openConsole(stack.adminEmail, stack.adminPassword);
    await openChat(own, v.chatId);
    await bubbles(own, 'user').filter({ hasText: 'Is anyone there?' }).waitFor();

    // From now on every new socket is closed with "back off", so the console sends over REST,
    // which answers 503 twice.
    await own.context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
      void ws.close({ code: WsCloseCode.rateLimited, reason: 'blocked by test' });
    });
    await own.context.setOffline(true);
    await own.page.locator('.connection[data-state="open"]').waitFor({ state: 'detached' });
    const clientIds: string[] = [];
    let refused = 0;
    await own.context.route(`**/api/admin/chats/${v.chatId}/messages`, async (route) => {
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
    await own.context.setOffline(false);
    const composer = own.page.getByTestId('composer');
    await composer.fill('Retried for the operator');
    await composer.press('Enter');
    await bubbles(own, 'admin').filter({ hasText: 'Retried for the operator' }).waitFor();
    expect(refused).toBe(2);
    expect(clientIds).toHaveLength(3);
    expect(new Set(clientIds).size).toBe(1);
    const res = await api(stack.gatewayUrl, 'GET', `/api/admin/chats/${v.chatId}`, {
      token: adminToken,
    });
    const stored = (res.body as { messages: Array<{ content: string }> }).messages;
    expect(stored.filter((m) => m.content === 'Retried for the operator')).toHaveLength(1);
    await own.context.close();
  }, 60_000);

  test('a frozen gateway: "Live" goes off within 10 s and comes back after', async () => {
    const live = ada.page.locator('.connection[data-state="open"]');
    await live.waitFor();
    // SIGSTOP: the socket stays open but nothing answers (a hung server, a dead link).
    const gateway = stack.services.gateway[0]!.proc;
    gateway.kill('SIGSTOP');
    try {
      await live.waitFor({ state: 'detached', timeout: 10_000 });
    } finally {
      gateway.kill('SIGCONT');
    }
    await live.waitFor({ timeout: 30_000 });
    // The visitors' test sockets may have been dropped by the gateway's own heartbeat meanwhile.
    for (const x of visitors) {
      await x.ws.close();
      x.ws = await wsClient(stack.gatewayUrl, x.token);
      x.ws.send({ type: 'subscribe', channel: 'chat', chat_id: x.chatId });
    }
  }, 60_000);

  test('a gateway restart: the console reconnects and resumes, missed messages once and in order', async () => {
    const v = await newVisitor('Xena');
    await v.say('before the drop');
    await openChat(ada, v.chatId);
    await bubbles(ada, 'user').filter({ hasText: 'before the drop' }).waitFor();

    // The visitor writes through a second gateway while the console's gateway is down.
    const other = await stack.addReplica('gateway');
    restarted.push(other);
    const first = stack.services.gateway[0]!;
    await first.stop();
    await ada.page.locator('.connection[data-state="open"]').waitFor({ state: 'detached' });
    for (const n of [1, 2, 3, 4, 5]) {
      const res = await api(other.url, 'POST', '/api/support_chat/messages', {
        token: v.token,
        body: { content: `missed ${n}`, client_id: randomUUID() },
      });
      expect(res.status).toBeLessThan(300);
    }
    restarted.push(await startService('gateway', stack.envOf('gateway'), { port: first.port }));
    await ada.page.locator('.connection[data-state="open"]').waitFor();
    await bubbles(ada, 'user').filter({ hasText: 'missed 5' }).waitFor();
    const shown = await bubbles(ada, 'user').locator('.text').allTextContents();
    expect(shown).toEqual([
      'before the drop',
      'missed 1',
      'missed 2',
      'missed 3',
      'missed 4',
      'missed 5',
    ]);
    // The restarted gateway knows nothing of the old visitor sockets: give the visitors new ones.
    for (const x of visitors) {
      x.ws = await wsClient(stack.gatewayUrl, x.token);
      x.ws.send({ type: 'subscribe', channel: 'chat', chat_id: x.chatId });
    }
  }, 90_000);

  test('an operator going offline (browser gone) has their chat reassigned to a colleague', async () => {
    await closeOpenSessions(visitors);
    await setStatus(ada, 'away');
    await boris.page.goto(`${stack.gatewayUrl}/admin/chats`);
    await setStatus(boris, 'online');
    const v = await newVisitor('Tove');
    await v.say('Hello from Tove');
    await card(boris, v.chatId).waitFor();
    await expect.poll(async () => (await sessionOf(v.chatId))?.operator?.name).toBe(colleague.name);
    await ada.page.goto(`${stack.gatewayUrl}/admin/operators`);
    const borisRow = ada.page.locator(
      `[data-testid="operator-row"][data-email="${colleague.email}"]`,
    );
    await borisRow.locator('.pill.online').waitFor();

    // Boris's browser goes away: after the grace period (2 s in the test stack) he is offline
    // and the chat goes back to the queue, then to Ada, who is online.
    await setStatus(ada, 'online');
    await boris.context.close();
    await borisRow.locator('.pill.offline').waitFor();
    await ada.page
      .locator('.notice')
      .filter({ hasText: `New chat assigned: ${v.name}` })
      .waitFor();
    await expect.poll(async () => (await sessionOf(v.chatId))?.operator?.name).toBe('Ada Admin');
    const arrived = v.ws.frames.some(
      (f) => f.type === 'session_status' && f.session.operator?.name === 'Ada Admin',
    );
    expect(
      arrived ||
        (await v.ws.nextFrame(
          (f) => f.type === 'session_status' && f.session.operator?.name === 'Ada Admin',
        )),
    ).toBeTruthy();
  }, 60_000);

  test('thousands-ready list: 50 per page, the next page on scroll, no duplicates, newest first', async () => {
    // Enough chats for a second page (the console asks for 50 at a time).
    for (let batch = 0; batch < 9; batch++) {
      await Promise.all(
        Array.from({ length: 5 }, async (_, k) => {
          const visitor = await createVisitor(stack, { name: `Bulk ${batch}-${k}` });
          const res = await api(stack.gatewayUrl, 'POST', '/api/support_chat/messages', {
            token: visitor.token,
            body: { content: `bulk message ${batch}-${k}`, client_id: randomUUID() },
          });
          expect(res.status).toBeLessThan(300);
        }),
      );
    }
    let total = 0;
    let cursor: string | null = null;
    do {
      const res: { body: unknown; headers: Headers } = await api(
        stack.gatewayUrl,
        'GET',
        `/api/admin/chats?archived=false${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: adminToken },
      );
      total += http.ChatListResponse.parse(res.body).length;
      cursor = res.headers.get(http.NEXT_CURSOR_HEADER);
    } while (cursor);
    expect(total).toBeGreaterThan(50);

    await ada.page.goto(`${stack.gatewayUrl}/admin/chats?tab=active`);
    const cards = ada.page.getByTestId('chat-card');
    await expect.poll(() => cards.count()).toBe(50);
    await cards.last().scrollIntoViewIfNeeded();
    await expect.poll(() => cards.count()).toBe(total);
    const ids = await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-chat-id')));
    expect(new Set(ids).size).toBe(total);
    expect(await cards.first().textContent()).toContain('bulk message 8-');
  }, 90_000);

  test('works on a tablet: list and chat fit a 768×1024 screen', async () => {
    const tablet = await openConsole(stack.adminEmail, stack.adminPassword, {
      width: 768,
      height: 1024,
    });
    await tablet.page.goto(`${stack.gatewayUrl}/admin/chats?tab=active`);
    await tablet.page.getByTestId('chat-card').first().waitFor();
    const overflow = await tablet.page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await tablet.page.getByTestId('chat-card').first().click();
    await tablet.page.getByTestId('composer').waitFor();
    expect(await tablet.page.getByTestId('composer').isVisible()).toBe(true);
    await tablet.context.close();
  }, 60_000);
});
