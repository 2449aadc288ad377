import type {
  ChatId,
  EmailRecord,
  SupportChatListItem,
  SupportMessage,
  UserId,
  VisitorProfile,
} from '@parley/contracts/models';
import type { JobData } from '@parley/contracts/jobs';

export type UnreadReplyJob = JobData<'unread-reply-email'>;

/** A scheduled unread-reply job as the scheduler sees it. */
export interface PendingJob {
  id: string;
  data: UnreadReplyJob;
  runAt: Date | null;
  /** Locked by a worker right now: it must not be changed or removed under its feet. */
  running: boolean;
}

/** Delayed jobs (Agenda). */
export interface JobScheduler {
  /** Jobs of this chat that have not finished yet (scheduled, due or running). */
  pendingFor(chatId: ChatId): Promise<PendingJob[]>;
  /** Creates the job unless one with the same chat and seq exists (a redelivered event). */
  schedule(data: UnreadReplyJob, runAt: Date): Promise<void>;
  cancel(ids: string[]): Promise<number>;
}

export interface ClaimOutcome {
  claimed: boolean;
  reason: string | null;
  chat: SupportChatListItem | null;
  profile: VisitorProfile | null;
  unread: SupportMessage[];
}

/** The chat service, the store of record. */
export interface ChatPort {
  /** True when an operator message newer than `afterSeq` exists (its own job covers this one). */
  hasAdminMessageAfter(chatId: ChatId, afterSeq: number): Promise<boolean>;
  /** Atomic "notified up to seq" claim; only a claimed job may send. */
  claim(chatId: ChatId, upToSeq: number): Promise<ClaimOutcome>;
  visitorProfile(userId: UserId): Promise<VisitorProfile | null>;
}

export interface OutgoingEmail {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  chatId: ChatId;
}

/** Delivers one email (SendGrid, or the local outbox) and records it. */
export interface Mailer {
  send(email: OutgoingEmail): Promise<EmailRecord>;
}

/** Kept copies of emails, newest first, for the operator console. */
export interface EmailLog {
  add(record: EmailRecord): Promise<void>;
  list(limit: number): Promise<EmailRecord[]>;
}
