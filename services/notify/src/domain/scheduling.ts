import type { PendingJob, UnreadReplyJob } from './ports.ts';

export interface SchedulePlan {
  /** The job to create, or null when a pending job already covers this reply. */
  create: { data: UnreadReplyJob; runAt: Date } | null;
  /** Older pending jobs of the chat the new job supersedes (one pending job per chat). */
  cancel: string[];
}

/**
 * An operator reply arrived (or was redelivered). The email goes out `delayMs` after the
 * newest reply, so each reply pushes the chat's job back. The run time comes from the
 * message, not the clock, so a redelivered or late event (notify was down) schedules the
 * same moment, and a job whose moment has passed runs at once.
 */
export function planForReply(
  pending: PendingJob[],
  reply: { chat_id: UnreadReplyJob['chat_id']; seq: number; created_at: string },
  delayMs: number,
): SchedulePlan {
  const covered = pending.some((job) => job.data.up_to_seq >= reply.seq);
  if (covered) return { create: null, cancel: [] };
  return {
    create: {
      data: { chat_id: reply.chat_id, up_to_seq: reply.seq },
      runAt: new Date(Date.parse(reply.created_at) + delayMs),
    },
    // A running job is left alone: it sees the newer reply and steps aside by itself.
    cancel: pending.filter((job) => !job.running).map((job) => job.id),
  };
}

/**
 * The visitor read the chat up to `readUpToSeq`: jobs covering only read replies are
 * cancelled. A running job is not touched; its own check at run time finds nothing unread.
 */
export function planForRead(pending: PendingJob[], readUpToSeq: number): string[] {
  return pending
    .filter((job) => !job.running && job.data.up_to_seq <= readUpToSeq)
    .map((job) => job.id);
}
