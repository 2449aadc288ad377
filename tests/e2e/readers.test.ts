/**
 * What a visitor and an operator see, in a real browser against the real stack: system lines in
 * the reader's language, one time format per locale, voice messages with their length before
 * playing, the offline cue in words, the inline name/email offer after an invitation, links in
 * the console, the console's layout under its banner, and an axe scan of every console page.
 *
 * The tests share one stack and run in order; each ends the routing sessions it opened and sets
 * its operators offline, so the next one starts with an empty queue.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import {
  api,
  launchBrowser,
  loginOperator,
  repoRoot,
  startStack,
  wsClient,
  type Stack,
  type TestWsClient,
} from '@parley/runtime/testing';
import { http, WsCloseCode } from '@parley/contracts';
import { formatMessageTime } from '@parley/chat-client/time-format';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const screenshots = path.join(repoRoot, 'docs', 'screenshots');

let stack: Stack;
let browser: Browser;
let adminToken: string;
const sockets: TestWsClient[] = [];

beforeAll(async () => {
  stack = await startStack({ services: ['chat', 'routing', 'notify', 'gateway'] });
  browser = await launchBrowser([
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
  ]);
  adminToken = (await loginOperator(stack)).token;
  mkdirSync(screenshots, { recursive: true });
}, 240_000);

afterAll(async () => {
  for (const s of sockets) await s.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
});

// ------------------------------------------------------------------ helpers

interface Operator {
  id: string;
  name: string;
  email: string;
  password: string;
  token: string;
  setStatus(status: 'online' | 'away' | 'offline'): Promise<void>;
}

/** A new operator, signed in with a WebSocket open (routing counts only connected operators). */
async function newOperator(name: string): Promise<Operator> {
  const email = `op-${randomUUID().slice(0, 8)}@parley.test`;
  const password = 'correct horse battery';
  const created = await api<{ id: string }>(stack.gatewayUrl, 'POST', '/api/admin/operators', {
    token: adminToken,
    body: { email, name, password, max_chats: 10 },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const { token } = await loginOperator(stack, email, password);
  sockets.push(await wsClient(stack.gatewayUrl, token));
  const operator: Operator = {
    id: created.body.id,
    name,
    email,
    password,
    token,
    async setStatus(status) {
      const res = await api(stack.gatewayUrl, 'PUT', '/api/routing/status', {
        token,
        body: { status },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    },
  };
  // Connected operators may start online: each test decides who takes chats.
  await operator.setStatus('away');
  return operator;
}

interface Demo {
  context: BrowserContext;
  page: Page;
  widget: Frame;
}

function newWidgetContext(
  options: { locale?: string; viewport?: { width: number; height: number } } = {},
) {
  return browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    locale: options.locale ?? 'en-US',
    timezoneId: 'UTC',
  });
}

/** Lets the test cut the widget's WebSockets and keep new ones from connecting. */
async function controlSockets(context: BrowserContext) {
  let blocked = false;
  const live: Array<{ close(): Promise<void> }> = [];
  await context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
    if (blocked) {
      // A code the client retries after a backoff (4000–4099 would stop it for good).
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

async function openDemo(
  options: {
    query?: string;
    locale?: string;
    viewport?: { width: number; height: number };
    context?: BrowserContext;
  } = {},
): Promise<Demo> {
  const context = options.context ?? (await newWidgetContext(options));
  const page = await context.newPage();
  page.on('pageerror', (err) => console.log(`[widget] page error: ${err.message}`));
  await page.goto(`${stack.demoUrl}/${options.query ?? ''}`);
  await page.getByTestId('parley-launcher').waitFor();
  const element = await page.locator('[data-parley] iframe').elementHandle();
  const widget = await element?.contentFrame();
  if (!widget) throw new Error('the loader created no widget iframe');
  await widget.waitForURL(`${stack.gatewayUrl}/widget/**`);
  await page.locator('[data-parley][data-connected="true"]').waitFor({ state: 'attached' });
  return { context, page, widget };
}

async function openPanel(demo: Demo) {
  await demo.page.getByTestId('parley-launcher').click();
  await demo.page.locator('[data-parley][data-open="true"]').waitFor({ state: 'attached' });
  await expect
    .poll(() =>
      demo.page.locator('[data-parley] iframe').evaluate((el) => getComputedStyle(el).opacity),
    )
    .toBe('1');
}

async function fillPrechat(demo: Demo, name: string, message: string, email?: string) {
  const form = demo.widget.getByTestId('prechat');
  await form.locator('#parley-name').fill(name);
  // With nobody online the desk is away and the form asks for an email to reply to.
  if (email) await form.locator('#parley-email').fill(email);
  await form.locator('#parley-first').fill(message);
  await form.locator('button[type="submit"]').click();
  await bubbles(demo.widget, 'user', message).waitFor();
}

function bubbles(frame: Frame | Page, sender: 'user' | 'admin', text?: string) {
  const all = frame.locator(
    `[data-testid="message"][data-sender="${sender}"]:not([data-status="queued"]):not([data-status="sending"])`,
  );
  return text ? all.filter({ hasText: text }) : all;
}

async function chatOf(userName: string) {
  const res = await api(stack.gatewayUrl, 'GET', '/api/admin/chats', { token: adminToken });
  const chat = http.ChatListResponse.parse(res.body).find((c) => c.user_name === userName);
  if (!chat) throw new Error(`no chat for ${userName}`);
  return chat;
}

async function storedMessages(chatId: string) {
  const res = await api(
    stack.gatewayUrl,
    'GET',
    `/api/admin/chats/${chatId}/messages?after_seq=0&limit=200`,
    { token: adminToken },
  );
  return http.MessagesPage.parse(res.body).messages;
}

async function post(token: string, route: string, body?: unknown) {
  const res = await api(stack.gatewayUrl, 'POST', route, { token, body });
  expect(res.status, `${route}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body;
}

async function closeIfOpen(chatId: string) {
  const res = await api<{ status: string } | null>(
    stack.gatewayUrl,
    'GET',
    `/api/routing/chats/${chatId}/session`,
    { token: adminToken },
  );
  if (res.body && res.body.status !== 'closed')
    await post(adminToken, `/api/routing/chats/${chatId}/close`);
}

interface Console {
  context: BrowserContext;
  page: Page;
}

/** The console signed in; notifications are left undecided, so their banner shows. */
async function openConsole(email: string, password: string): Promise<Console> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.log(`[console] page error: ${err.message}`));
  await page.goto(`${stack.gatewayUrl}/admin/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.connection[data-state="open"]').waitFor();
  return { context, page };
}

type AxeResult = { violations: Array<{ id: string; impact: string | null; nodes: unknown[] }> };

/** axe-core's findings on the page (or frame), as "rule (impact)". */
async function axeFindings(target: Page | Frame): Promise<{ blocking: string[]; all: string[] }> {
  await target.addScriptTag({ path: axePath });
  const result = await target.evaluate(() =>
    (window as unknown as { axe: { run(): Promise<AxeResult> } }).axe.run(),
  );
  const all = result.violations.map((v) => `${v.id} (${v.impact})`);
  const blocking = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact})`);
  return { blocking, all };
}

// ------------------------------------------------------------------ widget

describe('the widget as a visitor reads it', () => {
  test.each([
    {
      lang: 'zh',
      first: '王芳',
      second: '张伟',
      notes: ['王芳 已加入聊天', '聊天已从 王芳 转接给 张伟', '张伟 已结束聊天'],
      locale: 'zh-CN',
    },
    {
      lang: 'ru',
      first: 'Анна',
      second: 'Борис',
      notes: [
        'Анна подключается к чату',
        'Чат передан: Анна → Борис',
        'Чат закрыт оператором Борис',
      ],
      locale: 'ru',
    },
  ])(
    '$lang: joins, transfers and closes are said in the reader language, times in its format',
    async ({ lang, first, second, notes, locale }) => {
      const a = await newOperator(first);
      const b = await newOperator(second);
      await a.setStatus('online');
      const demo = await openDemo({ query: `?lang=${lang}` });
      const visitorName = lang === 'zh' ? '李雷' : 'Иван';
      try {
        await openPanel(demo);
        await fillPrechat(demo, visitorName, lang === 'zh' ? '你好' : 'Здравствуйте');
        const chat = await chatOf(visitorName);
        const systemNotes = demo.widget.getByTestId('system-note');
        await systemNotes
          .filter({ hasText: notes[0]! })
          .waitFor()
          .catch(async (err: unknown) => {
            console.log(await demo.widget.locator('body').innerText());
            throw err;
          });

        await b.setStatus('online');
        await post(a.token, `/api/routing/chats/${chat.id}/transfer`, { to_operator_id: b.id });
        await systemNotes.filter({ hasText: notes[1]! }).waitFor();
        await post(b.token, `/api/routing/chats/${chat.id}/close`);
        await systemNotes.filter({ hasText: notes[2]! }).waitFor();
        expect(await systemNotes.allTextContents()).toEqual(notes);

        // The stored text stays English for clients that do not know events.
        const stored = (await storedMessages(chat.id)).filter((m) => m.sender_type === 'system');
        expect(stored.map((m) => m.event?.kind)).toEqual(['joined', 'transferred', 'closed']);
        expect(stored[0]?.content).toBe(`${first} joined the chat`);

        // No English word anywhere in the panel, the time in the locale's own format.
        const text = await demo.widget.locator('body').innerText();
        expect(text.replace(/[А-яЁё]|[\u4e00-\u9fff]/g, '')).not.toMatch(/[A-Za-z]{2,}/);
        const sent = (await storedMessages(chat.id)).find((m) => m.sender_type === 'user')!;
        expect(await bubbles(demo.widget, 'user').first().locator('time').textContent()).toBe(
          formatMessageTime(sent.created_at, locale, 'UTC'),
        );
        expect((await axeFindings(demo.widget)).blocking).toEqual([]);
        await demo.page.screenshot({ path: path.join(screenshots, `widget-${lang}-chat.png`) });
      } finally {
        await a.setStatus('offline');
        await b.setStatus('offline');
        await demo.context.close();
      }
    },
    90_000,
  );

  test('a voice message shows its length before it is played, in the widget and the console', async () => {
    const demo = await openDemo();
    const name = `Vera ${randomUUID().slice(0, 6)}`;
    try {
      await openPanel(demo);
      await fillPrechat(demo, name, 'Listen to this', 'vera@example.test');
      await demo.widget.getByRole('button', { name: 'Record a voice message' }).click();
      await demo.widget.getByTestId('recording-time').filter({ hasText: '0:02' }).waitFor();
      await demo.widget.getByRole('button', { name: 'Stop and send the voice message' }).click();
      const stored = demo.widget.locator('[data-status="stored"]');
      const length = stored.getByTestId('audio-duration');
      await length.waitFor();
      expect(await length.innerText()).toMatch(/(^|\s)0:0[2-4]$/);
      // Nothing was played to learn it: the player is at its start and paused.
      expect(
        await stored
          .getByTestId('audio-attachment')
          .evaluate((el: HTMLAudioElement) => [el.paused, el.currentTime]),
      ).toEqual([true, 0]);

      const chat = await chatOf(name);
      const operator = await openConsole(stack.adminEmail, stack.adminPassword);
      try {
        await operator.page.goto(`${stack.gatewayUrl}/admin/chats/${chat.id}`);
        const consoleLength = operator.page.getByTestId('audio-duration');
        await consoleLength.waitFor();
        expect((await consoleLength.innerText()).trim()).toMatch(/0:0[2-4]$/);
      } finally {
        await operator.context.close();
      }
      await closeIfOpen(chat.id);
    } finally {
      await demo.context.close();
    }
  }, 90_000);

  test('offline and reconnecting are said in words; the typing line never hides the newest time', async () => {
    const context = await newWidgetContext();
    const sockets_ = await controlSockets(context);
    const demo = await openDemo({ context });
    const name = `Olaf ${randomUUID().slice(0, 6)}`;
    const typist = await newOperator('Tina Typist');
    try {
      await typist.setStatus('online');
      await openPanel(demo);
      await fillPrechat(demo, name, 'Is anyone typing?');
      const chat = await chatOf(name);
      await demo.widget
        .getByTestId('system-note')
        .filter({ hasText: 'Tina Typist joined the chat' })
        .waitFor();
      await post(typist.token, `/api/admin/chats/${chat.id}/messages`, {
        content: 'A reply with its time',
        client_id: randomUUID(),
      });
      await bubbles(demo.widget, 'admin', 'A reply with its time').waitFor();

      const socket = sockets.at(-1)!;
      socket.send({ type: 'subscribe', channel: 'chat', chat_id: chat.id });
      await socket.nextFrame((f) => f.type === 'subscribed' && f.chat_id === chat.id);
      socket.send({ type: 'typing', chat_id: chat.id });
      await demo.widget.getByText('Tina Typist is typing…').waitFor();
      const time = bubbles(demo.widget, 'admin').last().locator('time');
      const list = demo.widget.getByRole('list', { name: 'Messages' });
      await expect
        .poll(async () => {
          const [t, l] = [await time.boundingBox(), await list.boundingBox()];
          return t !== null && l !== null && t.y + t.height <= l.y + l.height;
        })
        .toBe(true);

      const notice = demo.widget.getByTestId('connection-notice');
      expect((await notice.innerText()).trim()).toBe('');
      // Every wording the notice takes while the connection is gone, in order of appearance.
      await notice.evaluate((el) => {
        const seen: string[] = [];
        (window as unknown as { seenNotices: string[] }).seenNotices = seen;
        new MutationObserver(() => {
          const text = el.textContent?.trim() ?? '';
          if (text && !seen.includes(text)) seen.push(text);
        }).observe(el, { subtree: true, childList: true, characterData: true });
      });
      const seenNotices = () =>
        demo.widget.evaluate(() => (window as unknown as { seenNotices: string[] }).seenNotices);
      // The browser goes offline: said at once. Back online with the gateway still unreachable:
      // the widget says it is reconnecting.
      await demo.context.setOffline(true);
      await sockets_.drop();
      await expect
        .poll(seenNotices)
        .toEqual(['You are offline — messages will be sent when you are back']);
      await demo.context.setOffline(false);
      await expect
        .poll(seenNotices)
        .toEqual(['You are offline — messages will be sent when you are back', 'Reconnecting…']);
      // Reachable again; an online event makes the socket retry now rather than after its backoff.
      sockets_.allow();
      await demo.context.setOffline(true);
      await demo.context.setOffline(false);
      await notice
        .and(demo.widget.locator('[data-state="connected"]'))
        .waitFor({ state: 'attached' });
      expect((await notice.innerText()).trim()).toBe('');
      await closeIfOpen(chat.id);
    } finally {
      await typist.setStatus('offline');
      await demo.context.close();
    }
  }, 90_000);

  test('an invited anonymous visitor is offered the name and email step inline after replying', async () => {
    const demo = await openDemo({ viewport: { width: 390, height: 844 } });
    const inviter = await newOperator('Irina Inviter');
    try {
      const visitorId = await demo.widget.evaluate(
        () =>
          (JSON.parse(localStorage.getItem('parley.visitor') ?? '{}') as { visitor_id?: string })
            .visitor_id,
      );
      await inviter.setStatus('online');
      await expect
        .poll(async () => {
          const res = await api<Array<{ user_id: string }>>(
            stack.gatewayUrl,
            'GET',
            '/api/visitors/online',
            { token: inviter.token },
          );
          return res.body.some((v) => v.user_id === visitorId);
        })
        .toBe(true);
      await post(inviter.token, `/api/visitors/${visitorId}/invite`, {
        message: 'Hello! Looking for something?',
      });
      await bubbles(demo.widget, 'admin', 'Looking for something?').waitFor();
      // Not a blocking form: the chat is usable and the offer waits for the visitor's answer.
      expect(await demo.widget.getByTestId('intro-offer').count()).toBe(0);
      const box = demo.widget.getByLabel('Your message');
      // On a phone the message box is 16 px or more, so iOS does not zoom into it.
      expect(
        await box.evaluate((el) => parseFloat(getComputedStyle(el).fontSize)),
      ).toBeGreaterThanOrEqual(16);
      await box.fill('Yes, a red bike');
      await box.press('Enter');
      await bubbles(demo.widget, 'user', 'Yes, a red bike').waitFor();

      const offer = demo.widget.getByTestId('intro-offer');
      await offer.waitFor();
      expect((await axeFindings(demo.widget)).blocking).toEqual([]);
      await demo.page.screenshot({ path: path.join(screenshots, 'widget-invited-offer.png') });
      await offer.getByLabel('Your name').fill('Rita Red');
      await offer.getByLabel('Email (optional)').fill('rita@example.com');
      await offer.getByRole('button', { name: 'Save' }).click();
      await demo.widget.getByText('Thank you, Rita Red.').waitFor();
      await expect.poll(async () => (await chatOf('Rita Red')).user_email).toBe('rita@example.com');
      await closeIfOpen((await chatOf('Rita Red')).id);
    } finally {
      await inviter.setStatus('offline');
      await demo.context.close();
    }
  }, 90_000);
});

// ------------------------------------------------------------------ console

describe('the console as an operator sees it', () => {
  test('the chat view fills the window under the notification banner (1280×800, 1366×768, 1920×1080)', async () => {
    const v = await wsVisitor('Lena');
    await v.say('Where is my order?');
    const c = await openConsole(stack.adminEmail, stack.adminPassword);
    try {
      await c.page.getByRole('region', { name: 'notifications' }).waitFor();
      await c.page.goto(`${stack.gatewayUrl}/admin/chats/${v.chatId}`);
      await c.page.getByRole('region', { name: 'notifications' }).waitFor();
      await bubbles(c.page, 'user', 'Where is my order?').waitFor();
      for (const size of [
        { width: 1280, height: 800 },
        { width: 1366, height: 768 },
        { width: 1920, height: 1080 },
      ]) {
        await c.page.setViewportSize(size);
        await expect
          .poll(async () => {
            const box = await c.page.getByTestId('composer').boundingBox();
            return box !== null && box.y + box.height <= size.height;
          })
          .toBe(true);
        const scrolls = await c.page.evaluate(() => {
          const content = document.querySelector('main.content') as HTMLElement;
          return [
            document.documentElement.scrollHeight - window.innerHeight,
            content.scrollHeight - content.clientHeight,
          ];
        });
        expect(scrolls, `${size.width}×${size.height}`).toEqual([0, 0]);
      }
      await c.page.setViewportSize({ width: 1280, height: 800 });
      await c.page.screenshot({ path: path.join(screenshots, 'admin-detail-banner.png') });
    } finally {
      await c.context.close();
      await closeIfOpen(v.chatId);
    }
  }, 90_000);

  test('links are clickable; system lines are small notes kept out of the preview and count', async () => {
    const op = await newOperator('Lars Linker');
    await op.setStatus('online');
    const v = await wsVisitor('Nina');
    await v.say('The manual at https://docs.example.com/manual?page=2 is wrong.');
    const c = await openConsole(op.email, op.password);
    try {
      // Assigned to Lars: the chat has a "joined" line, yet the list shows the visitor's words.
      await expect
        .poll(async () => (await storedMessages(v.chatId)).map((m) => m.sender_type))
        .toEqual(['user', 'system']);
      await c.page.goto(`${stack.gatewayUrl}/admin/chats?tab=active`);
      const card = c.page.locator(`[data-testid="chat-card"][data-chat-id="${v.chatId}"]`);
      await card.getByTestId('preview').filter({ hasText: 'The manual at' }).waitFor();
      expect(await card.getByTestId('meta').innerText()).toMatch(/^1 message\b/);

      await card.click();
      const note = c.page.getByTestId('system-message');
      await note.filter({ hasText: 'Lars Linker joined the chat' }).waitFor();
      expect(await note.locator('.icon').count()).toBe(1);
      const link = c.page.getByRole('link', { name: 'https://docs.example.com/manual?page=2' });
      expect(await link.getAttribute('href')).toBe('https://docs.example.com/manual?page=2');
      expect(await link.getAttribute('target')).toBe('_blank');
      expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
      await c.context.route('https://docs.example.com/**', (route) =>
        route.fulfill({ contentType: 'text/html', body: '<title>Manual</title>The manual' }),
      );
      const [opened] = await Promise.all([c.context.waitForEvent('page'), link.click()]);
      await opened.waitForURL('https://docs.example.com/manual?page=2');
      expect(await opened.evaluate(() => window.opener)).toBeNull();

      // The same message shows the same time in the console as in an English widget.
      const sent = (await storedMessages(v.chatId))[0]!;
      expect(await bubbles(c.page, 'user').first().locator('time').textContent()).toBe(
        formatMessageTime(sent.created_at, 'en-US', 'UTC'),
      );
    } finally {
      await c.context.close();
      await closeIfOpen(v.chatId);
      await op.setStatus('offline');
    }
  }, 90_000);

  test('axe finds no serious or critical violation on any console page', async () => {
    const v = await wsVisitor('Axel');
    await v.say('Accessibility, please: https://example.com/a11y');
    const demo = await openDemo();
    const login = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const c = await openConsole(stack.adminEmail, stack.adminPassword);
    try {
      const loginPage = await login.newPage();
      await loginPage.goto(`${stack.gatewayUrl}/admin/login`);
      await loginPage.getByRole('button', { name: 'Sign in' }).waitFor();
      const results: Record<string, { blocking: string[]; all: string[] }> = {
        login: await axeFindings(loginPage),
      };
      // Away and online members show in the team list, each with its status pill.
      const away = await newOperator('Abby Away');
      await away.setStatus('away');
      await c.page.getByLabel('Your status').selectOption('online');
      await c.page.locator('select[data-status="online"]').waitFor();
      const pages: Array<[string, string, string]> = [
        ['my chats', '/admin/chats', 'Support Chats'],
        ['all chats', '/admin/chats?tab=active', 'Support Chats'],
        ['archived', '/admin/chats?tab=archived', 'Support Chats'],
        ['queue', '/admin/queue', 'Waiting visitors'],
        ['visitors', '/admin/visitors', 'Visitors online'],
        ['operators', '/admin/operators', 'Operators'],
        ['outbox', '/admin/outbox', 'Email outbox'],
        ['chat', `/admin/chats/${v.chatId}`, ''],
      ];
      for (const [label, route, heading] of pages) {
        await c.page.goto(`${stack.gatewayUrl}${route}`);
        if (heading) await c.page.getByRole('heading', { name: heading }).first().waitFor();
        else await bubbles(c.page, 'user').first().waitFor();
        await c.page.locator('.connection[data-state="open"]').waitFor();
        results[label] = await axeFindings(c.page);
        if (label === 'visitors') {
          await c.page.getByTestId('online-visitor').first().waitFor();
          results[label] = await axeFindings(c.page);
          // The Actions cell is a table cell like the others, level with its row.
          const cells = await c.page
            .getByTestId('online-visitor')
            .first()
            .locator('td')
            .evaluateAll((tds) =>
              tds.map((td) => {
                const r = td.getBoundingClientRect();
                return [getComputedStyle(td).display, Math.round(r.top), Math.round(r.height)];
              }),
            );
          expect(new Set(cells.map((x) => JSON.stringify(x))).size, JSON.stringify(cells)).toBe(1);
          // Its link's text sits on the same line as the visitor's name.
          const row = c.page
            .getByTestId('online-visitor')
            .filter({ has: c.page.getByRole('link', { name: 'Open chat' }) })
            .first();
          const name = await row.locator('td strong').first().boundingBox();
          const link = await row.getByRole('link', { name: 'Open chat' }).boundingBox();
          expect(Math.abs(name!.y + name!.height - (link!.y + link!.height))).toBeLessThanOrEqual(
            2,
          );
        }
      }
      const blocking = Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.blocking]));
      expect(blocking).toEqual(Object.fromEntries(Object.keys(results).map((k) => [k, []])));
      for (const [label, r] of Object.entries(results)) {
        for (const rule of ['landmark-one-main', 'region', 'empty-table-header'])
          expect(r.all.join(' '), label).not.toContain(rule);
      }
      await away.setStatus('offline');
    } finally {
      await c.page.getByLabel('Your status').selectOption('offline');
      await c.context.close();
      await login.close();
      await demo.context.close();
      await closeIfOpen(v.chatId);
    }
  }, 120_000);
});

/** A visitor speaking the widget's REST/WebSocket API, with a name and email. */
async function wsVisitor(prefix: string) {
  const tag = randomUUID().slice(0, 6);
  const session = await api<unknown>(stack.gatewayUrl, 'POST', '/api/visitor/session', {
    body: { name: `${prefix} ${tag}`, email: `${prefix.toLowerCase()}.${tag}@example.com` },
  });
  const { token } = http.VisitorSessionResponse.parse(session.body);
  const chatRes = await api(stack.gatewayUrl, 'GET', '/api/support_chat', { token });
  const chat = http.SupportChatResponse.parse(chatRes.body);
  const ws = await wsClient(stack.gatewayUrl, token);
  sockets.push(ws);
  return {
    chatId: chat.id,
    async say(text: string) {
      await ws.sendMessage(chat.id, text);
    },
  };
}
