/**
 * The rules every ChatStore implementation applies inside its own atomic step. The stores keep
 * the queries (how to read and write atomically on their database); what the answer is comes
 * from here, so SQLite and MongoDB cannot drift apart. docs/PRODUCT.md states them in prose.
 */
import type { Attachment, ChatId, MessageId, SenderType, VisitorProfile } from '@parley/contracts';
import type { NotifyClaimReason } from '@parley/contracts/nats';
import type { AppendError, AttachmentRecord, ChatRecord, ChatStore, NewMessage } from './store.ts';

// ---------------------------------------------------------------- attachments

/** What clients see of an attachment: never where its bytes are stored or who carries it. */
export function publicAttachment(
  record: Pick<AttachmentRecord, 'id' | 'kind' | 'content_type' | 'size' | 'name' | 'url'>,
): Attachment {
  return {
    id: record.id,
    kind: record.kind,
    content_type: record.content_type,
    size: record.size,
    name: record.name,
    url: record.url,
  };
}

/**
 * Whether a message may carry an attachment. An attachment belongs to the chat it was uploaded
 * into and to at most one message: `free` and `mine` (already linked to this very message, a
 * retried write) may be taken; `held` names the message that carries it (a store that links
 * before it inserts may find that message was never stored, and take the link over);
 * `foreign` is unknown or from another chat.
 */
export type AttachmentClaim =
  { kind: 'free' } | { kind: 'mine' } | { kind: 'held'; holder: MessageId } | { kind: 'foreign' };

export function attachmentClaim(
  record: Pick<AttachmentRecord, 'chat_id' | 'message_id'> | null,
  chatId: ChatId,
  messageId: MessageId | null,
): AttachmentClaim {
  if (!record || record.chat_id !== chatId) return { kind: 'foreign' };
  if (record.message_id === null) return { kind: 'free' };
  if (record.message_id === messageId) return { kind: 'mine' };
  return { kind: 'held', holder: record.message_id };
}

/** The store's answer when an attachment cannot go with the message. */
export function attachmentRefused(
  attachmentId: AttachmentRecord['id'],
  why: 'held' | 'foreign',
): AppendError {
  return {
    error: 'attachment_invalid',
    attachment_id: attachmentId,
    reason: why === 'foreign' ? 'does not belong to this chat' : 'is already attached to a message',
  };
}

// ---------------------------------------------------------------- messages

/**
 * A message's created_at: now, but never earlier than the chat's previous message, so that
 * created_at order matches seq order even when replicas' clocks disagree. ISO-8601 UTC strings
 * (toISOString) compare correctly as text.
 */
export function messageCreatedAt(previousCreatedAt: string | null, now: string): string {
  return previousCreatedAt !== null && previousCreatedAt > now ? previousCreatedAt : now;
}

/**
 * System lines (joined, transferred, closed…) are events, not conversation: the chat list's
 * preview, its sender and the message count are about what visitors and operators said.
 */
export function countsInList(senderType: SenderType): boolean {
  return senderType !== 'system';
}

/** The chat's list summary after a message is appended (a system line leaves it as it was). */
export function listSummaryAfter(
  chat: Pick<ChatRecord, 'message_count' | 'last_message_preview' | 'last_message_sender'>,
  message: Pick<NewMessage, 'sender_type' | 'preview' | 'internal'>,
): Pick<ChatRecord, 'message_count' | 'last_message_preview' | 'last_message_sender'> {
  // Internal notes stay out of the preview and count too: the list shows the visitor's conversation.
  if (!countsInList(message.sender_type) || message.internal) {
    return {
      message_count: chat.message_count,
      last_message_preview: chat.last_message_preview,
      last_message_sender: chat.last_message_sender,
    };
  }
  return {
    message_count: chat.message_count + 1,
    last_message_preview: message.preview,
    last_message_sender: message.sender_type,
  };
}

/** A visitor's message reactivates an archived chat; the write says whether it did. */
export function unarchives(unarchive: boolean, archivedAt: string | Date | null): boolean {
  return unarchive && archivedAt !== null;
}

// ---------------------------------------------------------------- visitors

/**
 * The visitor profile after an upsert: `set` fields overwrite, `fillOnly` fields fill only what
 * is still unknown (an anonymous visitor's typed name never replaces a known one), flags
 * default to false.
 */
export function mergeVisitor(
  current: VisitorProfile | null,
  input: Parameters<ChatStore['upsertVisitor']>[0],
): VisitorProfile {
  return {
    id: input.user_id,
    name: input.set.name ?? current?.name ?? input.fillOnly?.name ?? null,
    email: input.set.email ?? current?.email ?? input.fillOnly?.email ?? null,
    identified: input.set.identified ?? current?.identified ?? false,
    unsubscribed: input.set.unsubscribed ?? current?.unsubscribed ?? false,
  };
}

// ---------------------------------------------------------------- the unread-reply email

/**
 * Why the unread-reply email for replies up to `upToSeq` must not be sent, or null when it may:
 * not for an archived chat, never twice for the same replies, and only while the newest of
 * those operator replies is still unread.
 */
export function notifyClaimRefusal(
  chat: Pick<ChatRecord, 'archived_at' | 'notified_seq' | 'read_up_to_seq'>,
  upToSeq: number,
  newestReply: { seq: number; read: boolean } | null,
): NotifyClaimReason | null {
  if (chat.archived_at !== null) return 'archived';
  if (chat.notified_seq >= upToSeq) return 'already_notified';
  if (!newestReply || newestReply.read || chat.read_up_to_seq >= newestReply.seq) {
    return 'nothing_unread';
  }
  return null;
}
