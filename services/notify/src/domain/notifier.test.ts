import { describe, expect, it } from 'vitest';
import type {
  ChatId,
  EmailRecord,
  MessageId,
  SupportChatListItem,
  SupportMessage,
  UserId,
  VisitorProfile,
} from '@parley/contracts/models';
import { Notifier } from './notifier.ts';
import type {
  ChatPort,
  ClaimOutcome,
  JobScheduler,
  Mailer,
  OutgoingEmail,
  PendingJob,
  UnreadReplyJob,
} from './ports.ts';

const chatId = '6f1c2f0e-8a4b-4c1e-9d55-0f3a1b2c3d4e' as ChatId;
const userId = 'v_visitor1' as UserId;

function msg(
  seq: number,
  sender: SupportMessage['sender_type'],
  content = `m${seq}`,
): SupportMessage {
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}` as MessageId,
    chat_id: chatId,
    content,
    sender_type: sender,
    sender_id: null,
    sender_name: 'Ada',
    read_at: null,
    created_at: new Date(1_700_000_000_000 + seq * 1000).toISOString(),
    client_id: null,
    seq,
    attachments: [],
  };
}

const chatItem: SupportChatListItem = {
  id: chatId,
  user_id: userId,
  user_email: null,
  user_name: null,
  last_message_at: null,
  last_message_preview: null,
  last_message_sender: null,
  message_count: 0,
  unread: true,
  archived: false,
  last_seq: 0,
  created_at: '2026-01-01T00:00:00.000Z',
};

/** In-memory chat store with the same claim rule as the chat service. */
class FakeChat implements ChatPort {
  messages: SupportMessage[] = [];
  archived = false;
  notifiedSeq = 0;
  profile: VisitorProfile | null = {
    id: userId,
    name: 'Grace',
    email: 'grace@example.com',
    identified: false,
    unsubscribed: false,
  };
  async hasAdminMessageAfter(_chat: ChatId, afterSeq: number) {
    return this.messages.some((m) => m.seq > afterSeq && m.sender_type === 'admin');
  }
  async claim(_chat: ChatId, upToSeq: number): Promise<ClaimOutcome> {
    const none = { chat: chatItem, profile: this.profile, unread: [] };
    if (this.archived) return { claimed: false, reason: 'archived', ...none };
    if (this.notifiedSeq >= upToSeq) return { claimed: false, reason: 'already_notified', ...none };
    const admin = this.messages.filter((m) => m.sender_type === 'admin' && m.seq <= upToSeq);
    if (admin.at(-1)?.read_at !== null)
      return { claimed: false, reason: 'nothing_unread', ...none };
    this.notifiedSeq = upToSeq;
    return { claimed: true, reason: null, ...none, unread: admin.filter((m) => !m.read_at) };
  }
  async visitorProfile() {
    return this.profile;
  }
}

class FakeScheduler implements JobScheduler {
  jobs = new Map<string, PendingJob>();
  private next = 1;
  async pendingFor(chat: ChatId) {
    return [...this.jobs.values()].filter((j) => j.data.chat_id === chat);
  }
  async schedule(data: UnreadReplyJob, runAt: Date) {
    const dup = [...this.jobs.values()].some((j) => j.data.up_to_seq === data.up_to_seq);
    if (dup) return;
    const id = String(this.next++);
    this.jobs.set(id, { id, data, runAt, running: false });
  }
  async cancel(ids: string[]) {
    let n = 0;
    for (const id of ids) if (this.jobs.delete(id)) n++;
    return n;
  }
}

class FakeMailer implements Mailer {
  sent: OutgoingEmail[] = [];
  async send(email: OutgoingEmail): Promise<EmailRecord> {
    this.sent.push(email);
    return {
      id: String(this.sent.length),
      to: email.to,
      subject: email.subject,
      text: email.text,
      html: email.html,
      chat_id: email.chatId,
      created_at: new Date().toISOString(),
      status: 'outbox',
      error: null,
    };
  }
}

function setup() {
  const chat = new FakeChat();
  const scheduler = new FakeScheduler();
  const mailer = new FakeMailer();
  const notifier = new Notifier({
    chat,
    scheduler,
    mailer,
    settings: {
      delayMs: 60_000,
      productName: 'Acme',
      subjectTemplate: 'New reply from {product} Support',
      emailFrom: 'support@acme.test',
      publicUrl: 'https://chat.acme.test',
      signUnsubscribe: async (id) => `signed-${id}`,
      signChatLink: async (id, chatId) => `link-${id}-${chatId}`,
    },
  });
  const post = async (m: SupportMessage) => {
    chat.messages.push(m);
    return notifier.onMessageCreated({ message: m, chat: chatItem });
  };
  return { chat, scheduler, mailer, notifier, post };
}

describe('Notifier scheduling', () => {
  it('keeps one pending job per chat, covering the newest reply', async () => {
    const { scheduler, post } = setup();
    await post(msg(1, 'user'));
    expect(await post(msg(2, 'admin'))).toBe('scheduled');
    expect(await post(msg(3, 'admin'))).toBe('scheduled');
    const pending = await scheduler.pendingFor(chatId);
    expect(pending.map((j) => j.data.up_to_seq)).toEqual([3]);
  });

  it('ignores visitor messages and schedules nothing twice for a redelivered reply', async () => {
    const { scheduler, notifier, post } = setup();
    expect(await post(msg(1, 'user'))).toBe('ignored');
    const reply = msg(2, 'admin');
    await post(reply);
    expect(await notifier.onMessageCreated({ message: reply, chat: chatItem })).toBe('covered');
    expect(await scheduler.pendingFor(chatId)).toHaveLength(1);
  });

  it('schedules no email for an internal note, and a note does not supersede a reply', async () => {
    const { scheduler, post } = setup();
    await post(msg(1, 'user'));
    expect(await post({ ...msg(2, 'admin'), internal: true })).toBe('ignored');
    expect(await scheduler.pendingFor(chatId)).toHaveLength(0);
    expect(await post(msg(3, 'admin'))).toBe('scheduled');
    expect(await post({ ...msg(4, 'admin'), internal: true })).toBe('ignored');
    expect((await scheduler.pendingFor(chatId)).map((j) => j.data.up_to_seq)).toEqual([3]);
  });

  it('cancels the pending job when the visitor reads the chat', async () => {
    const { scheduler, notifier, post } = setup();
    await post(msg(2, 'admin'));
    const cancelled = await notifier.onChatRead({
      chat_id: chatId,
      user_id: userId,
      read_at: new Date().toISOString(),
      up_to_seq: 2,
      chat: chatItem,
    });
    expect(cancelled).toBe(1);
    expect(await scheduler.pendingFor(chatId)).toHaveLength(0);
  });
});

describe('Notifier job run', () => {
  it('claims, then sends one email listing the unread replies', async () => {
    const { chat, mailer, notifier } = setup();
    chat.messages.push(msg(1, 'user'), msg(2, 'admin', 'first'), msg(3, 'admin', 'second'));
    expect(await notifier.runJob({ chat_id: chatId, up_to_seq: 3 })).toBe('sent');
    expect(mailer.sent).toHaveLength(1);
    const [email] = mailer.sent;
    expect(email?.to).toBe('grace@example.com');
    expect(email?.text).toContain('first');
    expect(email?.text).toContain('second');
    expect(email?.text).toContain('https://chat.acme.test/api/unsubscribe?token=signed-v_visitor1');
    // A second run (another replica, a retry) finds the claim spent.
    expect(await notifier.runJob({ chat_id: chatId, up_to_seq: 3 })).toBe('already_notified');
    expect(mailer.sent).toHaveLength(1);
  });

  it('steps aside when a newer reply exists (its own job covers both)', async () => {
    const { chat, mailer, notifier } = setup();
    chat.messages.push(msg(2, 'admin'), msg(3, 'admin'));
    expect(await notifier.runJob({ chat_id: chatId, up_to_seq: 2 })).toBe('superseded');
    expect(chat.notifiedSeq).toBe(0);
    expect(mailer.sent).toHaveLength(0);
  });

  const cases: Array<[string, (c: FakeChat) => void, string]> = [
    [
      'read',
      (c) => c.messages.forEach((m) => (m.read_at = new Date().toISOString())),
      'nothing_unread',
    ],
    ['archived', (c) => (c.archived = true), 'archived'],
    ['without email', (c) => c.profile && (c.profile.email = null), 'no_email'],
    [
      'with an invalid email',
      (c) => c.profile && (c.profile.email = 'a@b\r\nBcc: x@y'),
      'no_email',
    ],
    ['unsubscribed', (c) => c.profile && (c.profile.unsubscribed = true), 'unsubscribed'],
  ];
  it.each(cases)('sends nothing when the chat is %s', async (_label, change, outcome) => {
    const { chat, mailer, notifier } = setup();
    chat.messages.push(msg(2, 'admin'));
    change(chat);
    expect(await notifier.runJob({ chat_id: chatId, up_to_seq: 2 })).toBe(outcome);
    expect(mailer.sent).toHaveLength(0);
  });
});
