import { VisitorEmail } from '@parley/contracts/models';
import type { EventPayload } from '@parley/contracts/nats';
import { renderUnreadReplyEmail, sanitizeHeader } from './email.ts';
import { planForRead, planForReply } from './scheduling.ts';
import type { ChatPort, JobScheduler, Mailer, UnreadReplyJob } from './ports.ts';

/** Why a job ended; `sent` is the only outcome that emailed anyone. */
export type JobOutcome =
  | 'sent'
  | 'send_failed'
  | 'superseded'
  | 'no_email'
  | 'unsubscribed'
  | 'already_notified'
  | 'nothing_unread'
  | 'archived'
  | 'not_found'
  | 'not_claimed';

export interface NotifierSettings {
  delayMs: number;
  productName: string;
  subjectTemplate: string;
  emailFrom: string;
  publicUrl: string;
  signUnsubscribe: (userId: string) => Promise<string>;
  /** Signs the single-use link that reopens this visitor's chat in the widget on any device. */
  signChatLink: (userId: string, chatId: string) => Promise<string>;
}

export class Notifier {
  private readonly scheduler: JobScheduler;
  private readonly chat: ChatPort;
  private readonly mailer: Mailer;
  private readonly settings: NotifierSettings;

  constructor(deps: {
    scheduler: JobScheduler;
    chat: ChatPort;
    mailer: Mailer;
    settings: NotifierSettings;
  }) {
    this.scheduler = deps.scheduler;
    this.chat = deps.chat;
    this.mailer = deps.mailer;
    this.settings = deps.settings;
  }

  /** An operator reply: (re)schedules the chat's one pending job. Returns what it did. */
  async onMessageCreated(
    event: EventPayload<'chat.evt.message_created'>,
  ): Promise<'scheduled' | 'covered' | 'ignored'> {
    const { message, chat } = event;
    // Internal notes never reach the visitor, so they never make an email either.
    if (message.sender_type !== 'admin' || message.internal || chat.archived) return 'ignored';
    const pending = await this.scheduler.pendingFor(message.chat_id);
    const plan = planForReply(pending, message, this.settings.delayMs);
    if (!plan.create) return 'covered';
    // Create first, then cancel: a crash in between leaves an extra job that steps aside at
    // run time, never a chat without one.
    await this.scheduler.schedule(plan.create.data, plan.create.runAt);
    if (plan.cancel.length > 0) await this.scheduler.cancel(plan.cancel);
    return 'scheduled';
  }

  /** The visitor read the chat: pending jobs for read replies are cancelled. */
  async onChatRead(event: EventPayload<'chat.evt.chat_read'>): Promise<number> {
    const pending = await this.scheduler.pendingFor(event.chat_id);
    const ids = planForRead(pending, event.up_to_seq);
    return ids.length > 0 ? this.scheduler.cancel(ids) : 0;
  }

  /**
   * The job fired. Claim first (atomically in the chat store), then send: once claimed, no
   * other run (another replica, a retry after a crash) can claim the same replies again, so
   * the email goes out at most once. See README.md.
   */
  async runJob(job: UnreadReplyJob): Promise<JobOutcome> {
    if (await this.chat.hasAdminMessageAfter(job.chat_id, job.up_to_seq)) return 'superseded';
    const claim = await this.chat.claim(job.chat_id, job.up_to_seq);
    if (!claim.claimed || !claim.chat) return claimOutcome(claim.reason);
    const profile = claim.profile ?? (await this.chat.visitorProfile(claim.chat.user_id));
    if (!profile) return 'not_found';
    if (profile.unsubscribed) return 'unsubscribed';
    const to = profile.email ? VisitorEmail.safeParse(profile.email) : null;
    if (!to?.success) return 'no_email';
    if (claim.unread.length === 0) return 'nothing_unread';

    const token = await this.settings.signUnsubscribe(profile.id);
    const chatLink = await this.settings.signChatLink(profile.id, job.chat_id);
    const base = this.settings.publicUrl;
    const rendered = renderUnreadReplyEmail({
      productName: this.settings.productName,
      subjectTemplate: this.settings.subjectTemplate,
      visitorName: profile.name,
      replies: claim.unread,
      chatUrl: `${base}/widget/?open=1&link=${encodeURIComponent(chatLink)}`,
      unsubscribeUrl: `${base}/api/unsubscribe?token=${encodeURIComponent(token)}`,
    });
    const record = await this.mailer.send({
      to: to.data,
      from: sanitizeHeader(this.settings.emailFrom),
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      headers: rendered.headers,
      chatId: job.chat_id,
    });
    return record.status === 'failed' ? 'send_failed' : 'sent';
  }
}

function claimOutcome(reason: string | null): JobOutcome {
  switch (reason) {
    case 'already_notified':
    case 'nothing_unread':
    case 'archived':
    case 'not_found':
      return reason;
    default:
      return 'not_claimed';
  }
}
