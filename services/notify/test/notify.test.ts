/**
 * The unread-reply email end to end: real nats-server and redis-server, the real chat service
 * process (store of record, atomic claim) and real notify processes. The chat side is driven
 * through its NATS RPCs; emails are observed through notify.rpc.outbox_list.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatId, EmailRecord } from '@parley/contracts/models';
import {
  connectBus,
  createLogger,
  verifyChatLinkToken,
  verifyUnsubscribeToken,
  type Bus,
} from '@parley/runtime';
import {
  startNatsServer,
  startRedisServer,
  startService,
  waitFor,
  type ManagedProcess,
} from '@parley/runtime/testing';

type Service = Awaited<ReturnType<typeof startService>>;

const UNSUBSCRIBE_SECRET = 'notify-test-unsubscribe-secret-0123456789';
const PUBLIC_URL = 'http://parley.test:8080';
const DELAY_MS = 2000;

let nats: ManagedProcess;
let redis: ManagedProcess;
let redisDir: string;
let dataDir: string;
let chat: Service;
let bus: Bus;
let notifies: Service[] = [];
/** Other processes a test started (stopped with the suite). */
let others: Service[] = [];
/** Agenda and outbox backend under test; MongoDB only when MONGO_URL is set. */
let mongoEnv: Record<string, string> = {};

function notifyEnv(): Record<string, string> {
  return {
    NATS_URL: nats.url,
    REDIS_URL: redis.url,
    DATA_DIR: dataDir,
    NOTIFY_DELAY: `${DELAY_MS}ms`,
    JOB_POLL_INTERVAL: '200ms',
    JOB_LOCK_LIFETIME: '3s',
    UNSUBSCRIBE_SECRET,
    PUBLIC_URL,
    PRODUCT_NAME: 'Acme',
    ...mongoEnv,
  };
}

async function startNotify(): Promise<Service> {
  const svc = await startService('notify', notifyEnv());
  notifies.push(svc);
  return svc;
}

async function newVisitor(profile: { email?: string; name?: string } = {}) {
  const userId = `v_${randomUUID()}`;
  const visitorChat = await bus.request('chat.rpc.visitor_chat', {
    visitor: { user_id: userId, identified: false, email: null, name: null },
  });
  if (profile.email || profile.name) {
    await bus.request('chat.rpc.update_visitor', { user_id: userId, update: profile });
  }
  await bus.request('chat.rpc.send_message', {
    chat_id: visitorChat.id,
    content: 'Hello, I need help',
    client_id: randomUUID(),
    sender_type: 'user',
    sender_id: userId,
    sender_name: null,
  });
  return { userId, chatId: visitorChat.id };
}

async function reply(chatId: ChatId, content: string) {
  const { message } = await bus.request('chat.rpc.send_message', {
    chat_id: chatId,
    content,
    client_id: randomUUID(),
    sender_type: 'admin',
    sender_id: randomUUID(),
    sender_name: 'Ada',
  });
  return message;
}

async function emailsFor(chatId: ChatId): Promise<EmailRecord[]> {
  const all = await bus.request('notify.rpc.outbox_list', { limit: 500 });
  return all.filter((e) => e.chat_id === chatId);
}

/** Waits for the chat's first email. */
async function firstEmailFor(
  chatId: ChatId,
  what: string,
  timeoutMs = 20_000,
): Promise<EmailRecord> {
  return waitFor(async () => (await emailsFor(chatId))[0], { timeoutMs, what });
}

/** Sum of one Prometheus counter across the given notify processes. */
async function counter(svcs: Service[], name: string, labels: Record<string, string> = {}) {
  let total = 0;
  for (const svc of svcs) {
    if (svc.proc.exitCode !== null || svc.proc.signalCode !== null) continue;
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
        total += Number(line.split(' ').at(-1));
    }
  }
  return total;
}

const live = () => notifies.filter((s) => s.proc.exitCode === null && s.proc.signalCode === null);
const completed = (outcome: string) => counter(live(), 'notify_jobs_completed_total', { outcome });

/** Waits until `outcome` was counted once more than `before` (the job ran and decided). */
async function waitForOutcome(outcome: string, before: number) {
  await waitFor(async () => (await completed(outcome)) >= before + 1, {
    timeoutMs: 20_000,
    what: `a job ending with ${outcome}`,
  });
}

const backends: Array<'redis' | 'mongo'> = ['redis'];
if (process.env.MONGO_URL) backends.push('mongo');
else
  console.log(
    'notify: MongoDB backend suite skipped (MONGO_URL is not set; MongoDB cannot run here)',
  );

describe.each(backends)('unread-reply email (%s backend)', (backend) => {
  beforeAll(async () => {
    notifies = [];
    others = [];
    mongoEnv =
      backend === 'mongo' && process.env.MONGO_URL
        ? { MONGO_URL: process.env.MONGO_URL, MONGO_DB: `parley_notify_test_${Date.now()}` }
        : {};
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-notify-'));
    nats = await startNatsServer();
    redisDir = mkdtempSync(path.join(os.tmpdir(), 'parley-notify-redis-'));
    redis = await startRedisServer({ dir: redisDir, appendfsync: 'always' });
    chat = await startService('chat', { NATS_URL: nats.url, DATA_DIR: dataDir });
    bus = await connectBus({
      servers: nats.url,
      name: 'notify-test',
      logger: createLogger('test', 'silent'),
    });
    await startNotify();
  });

  afterAll(async () => {
    await bus?.drain();
    for (const svc of [...others, ...notifies]) await svc.stop();
    await chat?.stop();
    await redis?.stop();
    await nats?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (redisDir) rmSync(redisDir, { recursive: true, force: true });
  });

  it('emails once, after the delay, with the reply, a widget link and a working unsubscribe link', async () => {
    const { userId, chatId } = await newVisitor({ email: 'grace@example.com', name: 'Grace' });
    const sentBefore = await completed('sent');
    const sent = await reply(chatId, 'We shipped your order today.');

    const email = await firstEmailFor(chatId, 'the email in the outbox', 20_000);
    await waitForOutcome('sent', sentBefore);

    expect(await emailsFor(chatId)).toHaveLength(1);
    expect(email.to).toBe('grace@example.com');
    expect(email.subject).toBe('New reply from Acme Support');
    expect(email.status).toBe('outbox');
    // Not before the delay: the visitor had NOTIFY_DELAY to read it in the widget.
    expect(Date.parse(email.created_at)).toBeGreaterThanOrEqual(
      Date.parse(sent.created_at) + DELAY_MS,
    );
    expect(email.text).toContain('Ada: We shipped your order today.');
    expect(email.html).toContain('We shipped your order today.');
    // The widget link names this visitor and chat (a signed single-use token).
    const open = new URL(/\S+\/widget\/\?open=1&link=\S+/.exec(email.text)?.[0] ?? 'x:');
    expect(open.origin).toBe(PUBLIC_URL);
    const linkToken = open.searchParams.get('link') ?? '';
    expect(await verifyChatLinkToken(UNSUBSCRIBE_SECRET, linkToken)).toMatchObject({
      ok: true,
      userId,
      chatId,
    });
    expect(email.html).toContain(`href="${open.href.replaceAll('&', '&amp;')}"`);

    const link = /https?:\/\/\S+\/api\/unsubscribe\?token=([\w.%-]+)/.exec(email.text);
    if (!link?.[1]) throw new Error(`no unsubscribe link in:\n${email.text}`);
    const token = decodeURIComponent(link[1]);
    expect(await verifyUnsubscribeToken(UNSUBSCRIBE_SECRET, token)).toBe(userId);
    expect(email.headers?.['List-Unsubscribe']).toBe(`<${link[0]}>`);
    expect(email.headers?.['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
  });

  it('sends nothing when the visitor reads the reply before the delay', async () => {
    const { chatId } = await newVisitor({ email: 'reader@example.com' });
    const cancelledBefore = await counter(live(), 'notify_events_total', {
      event: 'chat_read',
      result: 'cancelled',
    });
    const startedBefore = await counter(live(), 'notify_jobs_started_total');
    await reply(chatId, 'Are you still there?');
    await bus.request('chat.rpc.mark_read', { chat_id: chatId });
    await waitFor(
      async () =>
        (await counter(live(), 'notify_events_total', {
          event: 'chat_read',
          result: 'cancelled',
        })) > cancelledBefore,
      { timeoutMs: 20_000, what: 'the pending job to be cancelled' },
    );

    // A later unread reply in another chat is emailed after this chat's job would have run
    // (Agenda runs due jobs in order): once it is out, this chat's moment has passed.
    const later = await newVisitor({ email: 'later@example.com' });
    await reply(later.chatId, 'Following up.');
    await waitFor(async () => (await emailsFor(later.chatId)).length === 1, {
      timeoutMs: 20_000,
      what: "the later chat's email",
    });
    expect(await emailsFor(chatId)).toHaveLength(0);
    // Only the later chat's job ever ran.
    expect(await counter(live(), 'notify_jobs_started_total')).toBe(startedBefore + 1);
  });

  it("stops emailing a visitor who confirmed the email's unsubscribe link (GET/HEAD only ask; POST, also one-click, unsubscribes)", async () => {
    const gateway = await startService('gateway', {
      NATS_URL: nats.url,
      DATA_DIR: dataDir,
      UNSUBSCRIBE_SECRET,
      CHAT_INTERNAL_URL: chat.url,
    });
    others.push(gateway);
    const { userId, chatId } = await newVisitor({ email: 'leaver@example.com' });
    await reply(chatId, 'First reply.');
    const email = await firstEmailFor(chatId, 'the first email');
    const link = new URL(/\S+\/api\/unsubscribe\?token=\S+/.exec(email.text)?.[0] ?? '');
    expect(link.origin).toBe(PUBLIC_URL);
    const url = `${gateway.url}${link.pathname}${link.search}`;
    const unsubscribed = async () =>
      (await bus.request('chat.rpc.visitor_profile', { user_id: userId }))?.unsubscribed;

    // A mail scanner prefetching the link (HEAD, GET) changes nothing; GET asks to confirm.
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
    const confirm = await fetch(url);
    expect(confirm.status).toBe(200);
    const html = await confirm.text();
    expect(html).toContain('<form method="post" action="">');
    expect(html).toContain('<button type="submit">Unsubscribe</button>');
    expect(await unsubscribed()).toBe(false);

    // RFC 8058 one-click: a POST to the same URL, as a mail client sends it.
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Unsubscribed');
    expect(await unsubscribed()).toBe(true);
    const forged = await fetch(url.replace(/token=[^&]+/, 'token=forged'), { method: 'POST' });
    expect(forged.status).toBe(400);

    const before = await completed('unsubscribed');
    await reply(chatId, 'Second reply.');
    await waitForOutcome('unsubscribed', before);
    expect(await emailsFor(chatId)).toHaveLength(1);
  });

  it('sends nothing for an archived chat', async () => {
    const { chatId } = await newVisitor({ email: 'archived@example.com' });
    const before = await completed('archived');
    await reply(chatId, 'Closing this one.');
    await bus.request('chat.rpc.archive', { chat_id: chatId });
    await waitForOutcome('archived', before);
    expect(await emailsFor(chatId)).toHaveLength(0);
  });

  it('sends nothing when the visitor left no email address', async () => {
    const { chatId } = await newVisitor();
    const before = await completed('no_email');
    await reply(chatId, 'Anyone?');
    await waitForOutcome('no_email', before);
    expect(await emailsFor(chatId)).toHaveLength(0);
  });

  it('sends nothing to a visitor who unsubscribed', async () => {
    const { userId, chatId } = await newVisitor({ email: 'optout@example.com' });
    await bus.request('chat.rpc.unsubscribe', { user_id: userId });
    const before = await completed('unsubscribed');
    await reply(chatId, 'News for you.');
    await waitForOutcome('unsubscribed', before);
    expect(await emailsFor(chatId)).toHaveLength(0);
  });

  it('merges three quick replies into one email listing each of them', async () => {
    const { chatId } = await newVisitor({ email: 'three@example.com' });
    const sentBefore = await completed('sent');
    await reply(chatId, 'First: checking.');
    await reply(chatId, 'Second: found it.');
    await reply(chatId, 'Third: fixed.');
    await waitForOutcome('sent', sentBefore);
    const [email, ...others] = await emailsFor(chatId);
    expect(others).toHaveLength(0);
    for (const text of ['First: checking.', 'Second: found it.', 'Third: fixed.']) {
      expect(email?.text).toContain(text);
      expect(email?.html).toContain(text);
    }
    expect(email?.text).toContain('3 new replies');
  });

  it('schedules nothing twice for a redelivered reply event', async () => {
    const { chatId } = await newVisitor({ email: 'redelivered@example.com' });
    const sentBefore = await completed('sent');
    const coveredBefore = await counter(live(), 'notify_events_total', {
      event: 'message_created',
      result: 'covered',
    });
    const message = await reply(chatId, 'Said once.');
    const summary = await bus.request('chat.rpc.chat_summary', { chat_id: chatId });
    if (!summary) throw new Error('chat summary missing');
    // The same fact again, as JetStream redelivers it after a lost ack.
    await bus.publishDurable('chat.evt.message_created', { message, chat: summary });
    await waitFor(
      async () =>
        (await counter(live(), 'notify_events_total', {
          event: 'message_created',
          result: 'covered',
        })) > coveredBefore,
      { timeoutMs: 20_000, what: 'the redelivered event to be recognised' },
    );
    await waitForOutcome('sent', sentBefore);
    expect(await emailsFor(chatId)).toHaveLength(1);
  });

  it('keeps an HTML/script payload in a reply inert and truncates long replies', async () => {
    const { chatId } = await newVisitor({ email: 'xss@example.com', name: '<b>Eve</b>' });
    const payload = '<script>alert(1)</script><img src=x onerror="alert(2)">';
    await reply(chatId, `${payload} ${'x'.repeat(400)}`);
    const email = await firstEmailFor(chatId, 'the email', 20_000);
    expect(email.html).not.toContain('<script');
    expect(email.html).not.toContain('<img');
    expect(email.html).not.toContain('<b>Eve');
    expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(email.text).not.toContain('x'.repeat(250));
    expect(email.text).toContain('…');
  });

  it('still emails replies sent while notify was down, once it is back', async () => {
    const { chatId } = await newVisitor({ email: 'outage@example.com' });
    for (const svc of live()) {
      await svc.stop();
      // SIGTERM: an orderly stop (consumer closed, running jobs finished), not a crash.
      expect(svc.proc.exitCode).toBe(0);
    }
    await reply(chatId, 'Sent during the outage.');
    await startNotify();
    const email = await firstEmailFor(chatId, 'the email after restart', 20_000);
    expect(email.text).toContain('Sent during the outage.');
    expect(await emailsFor(chatId)).toHaveLength(1);
  });

  it('sends exactly one email when the replica running the job is killed mid-job', async () => {
    await startNotify();
    const replicas = live();
    expect(replicas).toHaveLength(2);
    const { chatId } = await newVisitor({ email: 'crash@example.com' });
    const scheduledBefore = await counter(replicas, 'notify_events_total', {
      event: 'message_created',
      result: 'scheduled',
    });
    const startedBefore = await Promise.all(
      replicas.map((s) => counter([s], 'notify_jobs_started_total')),
    );
    await reply(chatId, 'This one survives a crash.');
    await waitFor(
      async () =>
        (await counter(replicas, 'notify_events_total', {
          event: 'message_created',
          result: 'scheduled',
        })) > scheduledBefore,
      { timeoutMs: 20_000, what: 'the job to be scheduled' },
    );
    // Freeze the chat service: the job that starts now hangs on its first request, before the claim.
    chat.proc.kill('SIGSTOP');
    let victim: Service | undefined;
    try {
      victim = await waitFor(
        async () => {
          for (const [i, s] of replicas.entries()) {
            if ((await counter([s], 'notify_jobs_started_total')) > (startedBefore[i] ?? 0))
              return s;
          }
          return undefined;
        },
        { timeoutMs: 20_000, what: 'a replica to start the job' },
      );
      await victim.kill();
    } finally {
      chat.proc.kill('SIGCONT');
    }
    const survivor = replicas.find((s) => s !== victim)!;
    const email = await firstEmailFor(chatId, 'the survivor to send the email', 30_000);
    expect(email.text).toContain('This one survives a crash.');
    await waitFor(
      async () =>
        (await counter([survivor], 'notify_jobs_completed_total', { outcome: 'sent' })) > 0,
      {
        what: 'the survivor to finish the job',
      },
    );
    expect(await emailsFor(chatId)).toHaveLength(1);
  });

  it.runIf(backend === 'redis').each(['SIGKILL', 'SIGTERM'] as const)(
    'survives a Redis restart (%s): not ready while Redis is away, the email due later goes out once',
    async (signal) => {
      const replicas = live();
      const { chatId } = await newVisitor({ email: `blink-${signal}@example.com` });
      const scheduledBefore = await counter(replicas, 'notify_events_total', {
        event: 'message_created',
        result: 'scheduled',
      });
      await reply(chatId, `Sent before Redis went away (${signal}).`);
      await waitFor(
        async () =>
          (await counter(replicas, 'notify_events_total', {
            event: 'message_created',
            result: 'scheduled',
          })) > scheduledBefore,
        { timeoutMs: 20_000, what: 'the job to be scheduled' },
      );
      const port = redis.port;
      if (signal === 'SIGKILL') await redis.kill();
      else await redis.stop();
      for (const svc of replicas) {
        await waitFor(async () => (await fetch(`${svc.url}/readyz`)).status === 503, {
          what: 'notify to report not ready while Redis is away',
        });
      }
      redis = await startRedisServer({ port, dir: redisDir, appendfsync: 'always' });
      for (const svc of replicas) {
        await waitFor(async () => (await fetch(`${svc.url}/readyz`)).ok, {
          timeoutMs: 20_000,
          what: 'notify to be ready again after Redis is back',
        });
      }
      const email = await firstEmailFor(chatId, 'the email after Redis is back', 30_000);
      expect(email.text).toContain(`Sent before Redis went away (${signal}).`);
      for (const svc of replicas) expect(svc.proc.exitCode).toBeNull();
      for (const svc of replicas) expect(svc.logs()).not.toContain('uncaught');
      // A second job run (a duplicate) would add a second email: give every replica a poll.
      const sentNow = await completed('sent');
      const check = await newVisitor({ email: `after-${signal}@example.com` });
      await reply(check.chatId, 'A later reply, sent after the restart.');
      await firstEmailFor(check.chatId, 'a later email');
      await waitForOutcome('sent', sentNow);
      expect(await emailsFor(chatId)).toHaveLength(1);
    },
  );
});
