import type {
  Attachment,
  CannedResponse,
  Label,
  AttachmentId,
  ChatId,
  ClientId,
  MessageId,
  Operator,
  OperatorId,
  OperatorRole,
  SenderType,
  SupportMessage,
  SystemEvent,
  UserId,
  VisitorProfile,
} from '@parley/contracts';
import type { NotifyClaimReason } from '@parley/contracts/nats';

/**
 * The store port: everything the chat service keeps. Two implementations (SQLite, MongoDB)
 * pass the same contract suite (test/store.contract.ts). Dates cross this port as ISO strings.
 *
 * The rules live in the domain (src/domain/chats.ts); the store offers the atomic steps those
 * rules need, each documented with the guarantee every implementation must give.
 */

/** A chat as stored: its own fields plus the denormalized summary the console list needs. */
export interface ChatRecord {
  id: ChatId;
  user_id: UserId;
  /** The visitor's email and name as the chat shows them (copied from the profile). */
  user_email: string | null;
  user_name: string | null;
  identified: boolean;
  last_message_at: string | null;
  admin_viewed_at: string | null;
  /** last_seq when the console last opened the chat: unread is a seq comparison, not a clock one. */
  admin_viewed_seq: number;
  archived_at: string | null;
  created_at: string;
  updated_at: string;
  /** Highest message seq; messages are 1..last_seq with no gap, so it is also the message count. */
  last_seq: number;
  /** Seq of the newest user message (0 when none). */
  last_user_seq: number;
  /** Visitor and operator messages; system lines are not counted. */
  message_count: number;
  /** Of the newest visitor or operator message (system lines leave them as they were). */
  last_message_preview: string | null;
  last_message_sender: SenderType | null;
  /** The visitor read operator messages up to this seq. */
  read_up_to_seq: number;
  /** The unread-reply email was claimed up to this seq. */
  notified_seq: number;
  /** Label ids, in the order set. */
  labels: string[];
}

export interface AttachmentRecord extends Attachment {
  chat_id: ChatId;
  /** Where the bytes are: a relative path on disk, or a GridFS file id. */
  storage_key: string;
  /** The message that carries it; null until sent (an attachment belongs to one message). */
  message_id: MessageId | null;
  created_at: string;
}

export interface OperatorRecord extends Operator {
  password_hash: string;
}

export interface NewMessage {
  id: MessageId;
  chat_id: ChatId;
  content: string;
  sender_type: SenderType;
  sender_id: string | null;
  sender_name: string | null;
  client_id: ClientId | null;
  attachment_ids: AttachmentId[];
  /** System messages: what the line records, stored beside the English content. */
  event?: SystemEvent;
  /**
   * An internal note: takes the next seq like any message but leaves the chat's list summary
   * (preview, count, last sender, last_message_at) and the visitor's read/unread state alone.
   */
  internal?: { mentions: OperatorId[] };
  /** Preview for the chat list (already truncated by the domain). */
  preview: string;
  /** Clear archived_at in the same write (a visitor's message reactivates the chat). */
  unarchive: boolean;
  now: string;
}

export type AppendResult =
  | {
      duplicate: false;
      message: SupportMessage;
      chat: ChatRecord;
      /** The write cleared archived_at. */
      unarchived: boolean;
    }
  | {
      duplicate: true;
      message: SupportMessage;
      chat: ChatRecord;
      unarchived: false;
      published: boolean;
    };

export type AppendError =
  | { error: 'chat_not_found' }
  | { error: 'attachment_invalid'; attachment_id: AttachmentId; reason: string };

/** Who reads: a visitor never gets internal notes; operators get everything. */
export type MessageAudience = 'visitor' | 'operator';

export interface MessagesSlice {
  messages: SupportMessage[];
  has_more: boolean;
}

export interface ChatListCursor {
  last_message_at: string;
  id: ChatId;
}

export type NotifyClaimOutcome =
  | { claimed: true; chat: ChatRecord; unread: SupportMessage[] }
  | {
      claimed: false;
      reason: NotifyClaimReason;
      chat: ChatRecord | null;
    };

export interface MentionEntry {
  note: SupportMessage;
  /** Null until the mentioned operator opened the chat. */
  seen_at: string | null;
}

export interface ChatStore {
  readonly kind: 'sqlite' | 'mongo';
  /** Creates tables/collections and indexes (idempotent). */
  init(): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;

  // ---- visitors ----
  getVisitor(userId: UserId): Promise<VisitorProfile | null>;
  /**
   * Creates or updates a profile. Fields given as a string overwrite; `fillOnly` fields are
   * set only where the stored value is null. Copies name/email/identified onto the user's chat.
   */
  upsertVisitor(input: {
    user_id: UserId;
    set: { name?: string; email?: string; identified?: boolean; unsubscribed?: boolean };
    fillOnly?: { name?: string; email?: string };
    now: string;
  }): Promise<VisitorProfile>;

  // ---- chats ----
  /** The user's one chat, created on first use. Safe under concurrent first calls (unique user). */
  getOrCreateChat(input: { id: ChatId; user_id: UserId; now: string }): Promise<ChatRecord>;
  getChat(chatId: ChatId): Promise<ChatRecord | null>;
  /** Chats with at least one message, by last_message_at desc then id desc, after the cursor. */
  listChats(input: {
    archived: boolean;
    after: ChatListCursor | null;
    limit: number;
    /** Only chats carrying this label id. */
    label?: string;
  }): Promise<ChatRecord[]>;
  /** Replaces the chat's labels (ids of existing labels); null when the chat does not exist. */
  setChatLabels(chatId: ChatId, labels: string[], now: string): Promise<ChatRecord | null>;
  listLabels(): Promise<Label[]>;
  /** 'name_taken' when a label of that name (case-insensitive) exists. */
  insertLabel(label: Label): Promise<Label | 'name_taken'>;
  /** Removes the label and takes it off every chat; true when it existed. */
  deleteLabel(id: string): Promise<boolean>;
  /**
   * Archives (archived_at = now, kept if already archived) or unarchives (archived_at = null).
   * `changed` says whether the state flipped. Null when the chat does not exist.
   */
  setArchived(
    chatId: ChatId,
    archived: boolean,
    now: string,
  ): Promise<{ chat: ChatRecord; changed: boolean } | null>;
  /** admin_viewed_at = now and admin_viewed_seq = last_seq, in one write. */
  markViewed(chatId: ChatId, now: string): Promise<ChatRecord | null>;

  // ---- messages ----
  /**
   * Appends a message atomically: seq = last_seq + 1 (gap-free, also across processes), the
   * chat's last_message_at and summary, unarchive when asked, the attachments linked. A
   * (chat_id, client_id) already stored returns that message with duplicate: true and changes
   * nothing. created_at never goes backwards within a chat.
   */
  appendMessage(input: NewMessage): Promise<AppendResult | AppendError>;
  /** Records that message_created was published for this message (the outbox flag). */
  markPublished(messageId: MessageId): Promise<void>;
  /** Messages whose event was never confirmed published (created at or before createdBefore when given), oldest first. */
  unpublishedMessages(limit: number, createdBefore: string | null): Promise<SupportMessage[]>;
  /**
   * The newest messages with seq < beforeSeq (all when null), returned in ascending seq.
   * Internal notes only when `audience` is 'operator' (the limit counts what is returned).
   */
  messagesBefore(
    chatId: ChatId,
    beforeSeq: number | null,
    limit: number,
    audience: MessageAudience,
  ): Promise<MessagesSlice>;
  /** Messages with seq > afterSeq, ascending; notes as for messagesBefore. */
  messagesAfter(
    chatId: ChatId,
    afterSeq: number,
    limit: number,
    audience: MessageAudience,
  ): Promise<MessagesSlice>;
  /**
   * The visitor read everything: read_at = now on every unread admin message, read_up_to_seq =
   * last_seq, in one atomic step. Returns how many messages it marked.
   */
  markRead(
    chatId: ChatId,
    now: string,
  ): Promise<{ chat: ChatRecord; count: number; up_to_seq: number } | null>;
  /**
   * Atomic claim for the unread-reply email: succeeds only when notified_seq < upToSeq, the
   * newest admin message with seq <= upToSeq is still unread and the chat is not archived; then
   * sets notified_seq = upToSeq and returns the unread admin messages up to that seq.
   */
  notifyClaim(chatId: ChatId, upToSeq: number): Promise<NotifyClaimOutcome>;

  // ---- mentions in internal notes ----
  /** Records who the note mentions (its `mentions`); recording a note again changes nothing. */
  recordMentions(note: SupportMessage): Promise<void>;
  /** The notes mentioning the operator, newest first, each with when they opened its chat since. */
  mentionsOf(operatorId: OperatorId, limit: number): Promise<MentionEntry[]>;
  /** The operator opened the chat: its mentions of them are seen. Returns how many changed. */
  markMentionsSeen(operatorId: OperatorId, chatId: ChatId, now: string): Promise<number>;

  // ---- canned replies ----
  /** Team replies and the owner's personal ones, by shortcut. */
  listCanned(ownerId: OperatorId): Promise<CannedResponse[]>;
  getCanned(id: string): Promise<CannedResponse | null>;
  /** 'shortcut_taken' when the same scope and owner already has this shortcut (case-insensitive). */
  insertCanned(record: CannedResponse): Promise<CannedResponse | 'shortcut_taken'>;
  updateCanned(
    id: string,
    update: { shortcut?: string; title?: string; content?: string; updated_at: string },
  ): Promise<CannedResponse | 'shortcut_taken' | null>;
  /** True when it existed. */
  deleteCanned(id: string): Promise<boolean>;

  // ---- attachments (metadata; bytes live in an AttachmentBlobs) ----
  insertAttachment(record: AttachmentRecord): Promise<void>;
  getAttachment(id: AttachmentId): Promise<AttachmentRecord | null>;
  /** Uploaded but never sent, created before the date, oldest first. */
  unsentAttachments(createdBefore: string, limit: number): Promise<AttachmentRecord[]>;
  /** Deletes the record only while no message carries it; true when deleted. */
  deleteUnsentAttachment(id: AttachmentId): Promise<boolean>;

  // ---- operators ----
  /** Returns 'email_taken' when the email (lower-cased) exists. */
  createOperator(record: OperatorRecord): Promise<OperatorRecord | 'email_taken'>;
  getOperator(id: OperatorId): Promise<OperatorRecord | null>;
  getOperatorByEmail(email: string): Promise<OperatorRecord | null>;
  listOperators(): Promise<OperatorRecord[]>;
  updateOperator(
    id: OperatorId,
    update: {
      name?: string;
      password_hash?: string;
      role?: OperatorRole;
      max_chats?: number;
      active?: boolean;
    },
  ): Promise<OperatorRecord | null>;
}

/** Inclusive byte offsets, as in an HTTP Range header. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Where attachment bytes live: files under ATTACHMENTS_DIR (SQLite) or GridFS (MongoDB). */
export interface AttachmentBlobs {
  /** Moves/copies the finished temp file into storage; returns the storage key. */
  put(input: {
    id: AttachmentId;
    tempPath: string;
    contentType: string;
    name: string;
  }): Promise<string>;
  /** A readable stream of the bytes (optionally of an inclusive byte range), or null when missing. */
  open(storageKey: string, range?: ByteRange): Promise<NodeJS.ReadableStream | null>;
  /** Removes the bytes (no error when already gone). */
  delete(storageKey: string): Promise<void>;
  close(): Promise<void>;
}
