import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type {
  Attachment,
  AttachmentId,
  ChatId,
  MessageId,
  OperatorId,
  SupportMessage,
  SystemEvent,
  UserId,
  VisitorProfile,
} from '@parley/contracts';
import type {
  AppendError,
  AppendResult,
  AttachmentRecord,
  ChatListCursor,
  ChatRecord,
  ChatStore,
  MessagesSlice,
  NewMessage,
  NotifyClaimOutcome,
  OperatorRecord,
} from '../domain/store.ts';

/**
 * The embedded store (node:sqlite). WAL lets readers run beside the one writer; every write that
 * reads-then-writes runs in BEGIN IMMEDIATE, which takes the write lock up front, so two
 * chat-service processes on the same file serialize (busy_timeout waits for the lock) and seq
 * stays gap-free. The API is synchronous: inside one process a transaction never interleaves.
 */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS visitors (
  id TEXT PRIMARY KEY,
  name TEXT,
  email TEXT,
  identified INTEGER NOT NULL DEFAULT 0,
  unsubscribed INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS support_chats (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  user_email TEXT,
  user_name TEXT,
  identified INTEGER NOT NULL DEFAULT 0,
  last_message_at TEXT,
  admin_viewed_at TEXT,
  admin_viewed_seq INTEGER NOT NULL DEFAULT 0,
  archived_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0,
  last_user_seq INTEGER NOT NULL DEFAULT 0,
  last_message_preview TEXT,
  last_message_sender TEXT,
  read_up_to_seq INTEGER NOT NULL DEFAULT 0,
  notified_seq INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS support_chats_user_id ON support_chats (user_id);
CREATE INDEX IF NOT EXISTS support_chats_last_message_at ON support_chats (last_message_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS support_chats_archived_at ON support_chats (archived_at);
CREATE TABLE IF NOT EXISTS support_messages (
  id TEXT PRIMARY KEY,
  chat_id TEXT NOT NULL REFERENCES support_chats (id),
  seq INTEGER NOT NULL,
  content TEXT NOT NULL,
  sender_type TEXT NOT NULL CHECK (sender_type IN ('user', 'admin', 'system')),
  sender_id TEXT,
  sender_name TEXT,
  read_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  client_id TEXT,
  attachments TEXT NOT NULL DEFAULT '[]',
  published INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS support_messages_chat_seq ON support_messages (chat_id, seq);
CREATE UNIQUE INDEX IF NOT EXISTS support_messages_chat_client_id ON support_messages (chat_id, client_id);
CREATE INDEX IF NOT EXISTS support_messages_unpublished ON support_messages (created_at) WHERE published = 0;
CREATE TABLE IF NOT EXISTS attachments (
  id TEXT PRIMARY KEY,
  chat_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  name TEXT NOT NULL,
  url TEXT NOT NULL,
  storage_key TEXT NOT NULL,
  message_id TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attachments_chat_id ON attachments (chat_id);
CREATE TABLE IF NOT EXISTS operators (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  max_chats INTEGER NOT NULL,
  active INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  password_hash TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS operators_email ON operators (email);
`;

/**
 * Columns added after the first release: added to existing files on start (and filled from what
 * is stored), so a store created by an older version keeps working.
 */
const ADDED_COLUMNS: Array<{ table: string; column: string; ddl: string; backfill?: string }> = [
  {
    table: 'support_chats',
    column: 'message_count',
    ddl: 'ALTER TABLE support_chats ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0',
    backfill: `UPDATE support_chats SET message_count = (SELECT COUNT(*) FROM support_messages m
                 WHERE m.chat_id = support_chats.id AND m.sender_type <> 'system')`,
  },
  {
    table: 'support_messages',
    column: 'event',
    ddl: 'ALTER TABLE support_messages ADD COLUMN event TEXT',
  },
];

type Row = Record<string, SQLInputValue>;

function str(v: SQLInputValue | undefined): string {
  return String(v);
}
function strOrNull(v: SQLInputValue | undefined): string | null {
  return v === null || v === undefined ? null : String(v);
}
function num(v: SQLInputValue | undefined): number {
  return Number(v);
}

function toChat(r: Row): ChatRecord {
  return {
    id: str(r.id) as ChatId,
    user_id: str(r.user_id) as UserId,
    user_email: strOrNull(r.user_email),
    user_name: strOrNull(r.user_name),
    identified: num(r.identified) === 1,
    last_message_at: strOrNull(r.last_message_at),
    admin_viewed_at: strOrNull(r.admin_viewed_at),
    admin_viewed_seq: num(r.admin_viewed_seq),
    archived_at: strOrNull(r.archived_at),
    created_at: str(r.created_at),
    updated_at: str(r.updated_at),
    last_seq: num(r.last_seq),
    message_count: num(r.message_count),
    last_user_seq: num(r.last_user_seq),
    last_message_preview: strOrNull(r.last_message_preview),
    last_message_sender: strOrNull(r.last_message_sender) as ChatRecord['last_message_sender'],
    read_up_to_seq: num(r.read_up_to_seq),
    notified_seq: num(r.notified_seq),
  };
}

function toMessage(r: Row): SupportMessage {
  return {
    id: str(r.id) as MessageId,
    chat_id: str(r.chat_id) as ChatId,
    content: str(r.content),
    sender_type: str(r.sender_type) as SupportMessage['sender_type'],
    sender_id: strOrNull(r.sender_id),
    sender_name: strOrNull(r.sender_name),
    read_at: strOrNull(r.read_at),
    created_at: str(r.created_at),
    client_id: strOrNull(r.client_id) as SupportMessage['client_id'],
    seq: num(r.seq),
    attachments: JSON.parse(str(r.attachments)) as Attachment[],
    ...(r.event ? { event: JSON.parse(str(r.event)) as SystemEvent } : {}),
  };
}

function toVisitor(r: Row): VisitorProfile {
  return {
    id: str(r.id) as UserId,
    name: strOrNull(r.name),
    email: strOrNull(r.email),
    identified: num(r.identified) === 1,
    unsubscribed: num(r.unsubscribed) === 1,
  };
}

function toAttachmentRecord(r: Row): AttachmentRecord {
  return {
    id: str(r.id) as AttachmentId,
    chat_id: str(r.chat_id) as ChatId,
    kind: str(r.kind) as AttachmentRecord['kind'],
    content_type: str(r.content_type),
    size: num(r.size),
    name: str(r.name),
    url: str(r.url),
    storage_key: str(r.storage_key),
    message_id: strOrNull(r.message_id) as MessageId | null,
    created_at: str(r.created_at),
  };
}

function toOperatorRecord(r: Row): OperatorRecord {
  return {
    id: str(r.id) as OperatorId,
    email: str(r.email),
    name: str(r.name),
    role: str(r.role) as OperatorRecord['role'],
    max_chats: num(r.max_chats),
    active: num(r.active) === 1,
    created_at: str(r.created_at),
    password_hash: str(r.password_hash),
  };
}

function publicAttachment(a: AttachmentRecord): Attachment {
  return {
    id: a.id,
    kind: a.kind,
    content_type: a.content_type,
    size: a.size,
    name: a.name,
    url: a.url,
  };
}

function isUniqueViolation(e: unknown): boolean {
  return e instanceof Error && e.message.includes('UNIQUE constraint failed');
}

export class SqliteChatStore implements ChatStore {
  readonly kind = 'sqlite' as const;
  private readonly db: DatabaseSync;

  constructor(filePath: string, opts: { busyTimeoutMs?: number } = {}) {
    if (filePath !== ':memory:')
      mkdirSync(path.dirname(path.resolve(filePath)), { recursive: true });
    this.db = new DatabaseSync(filePath);
    this.db.exec(`PRAGMA busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 10_000)}`);
    this.db.exec('PRAGMA journal_mode = WAL');
    // FULL: a commit is on disk before the event about it is published.
    this.db.exec('PRAGMA synchronous = FULL');
    this.db.exec('PRAGMA foreign_keys = ON');
  }

  /** Prepared once per SQL text (fixed strings, or one of listChats's four variants; values are always ? parameters). */
  private readonly statements = new Map<string, StatementSync>();
  private stmt(sql: string): StatementSync {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
  private one(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.stmt(sql).get(...params) as Row | undefined;
  }
  private all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.stmt(sql).all(...params) as Row[];
  }
  private run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.stmt(sql).run(...params).changes);
  }

  /** BEGIN IMMEDIATE: the write lock first, so a read-then-write cannot race another process. */
  private tx<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (e) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
  }

  async init(): Promise<void> {
    this.tx(() => {
      this.db.exec(SCHEMA);
      for (const added of ADDED_COLUMNS) {
        const columns = this.db.prepare(`PRAGMA table_info(${added.table})`).all() as Row[];
        if (columns.some((c) => c.name === added.column)) continue;
        this.db.exec(added.ddl);
        if (added.backfill) this.db.exec(added.backfill);
      }
    });
  }

  async ping(): Promise<boolean> {
    return this.db.isOpen && this.one('SELECT 1 AS ok')?.ok === 1;
  }

  async close(): Promise<void> {
    // Writes already accepted are committed, not dropped.
    if (this.groupCommitScheduled && this.db.isOpen) this.groupCommit();
    if (this.db.isOpen) this.db.close();
  }

  // ---- visitors ----

  async getVisitor(userId: UserId): Promise<VisitorProfile | null> {
    const row = this.one('SELECT * FROM visitors WHERE id = ?', userId);
    return row ? toVisitor(row) : null;
  }

  async upsertVisitor(input: Parameters<ChatStore['upsertVisitor']>[0]): Promise<VisitorProfile> {
    return this.tx(() => {
      const existing = this.one('SELECT * FROM visitors WHERE id = ?', input.user_id);
      const current = existing ? toVisitor(existing) : null;
      const next: VisitorProfile = {
        id: input.user_id,
        name: input.set.name ?? current?.name ?? input.fillOnly?.name ?? null,
        email: input.set.email ?? current?.email ?? input.fillOnly?.email ?? null,
        identified: input.set.identified ?? current?.identified ?? false,
        unsubscribed: input.set.unsubscribed ?? current?.unsubscribed ?? false,
      };
      if (current) {
        this.run(
          'UPDATE visitors SET name = ?, email = ?, identified = ?, unsubscribed = ?, updated_at = ? WHERE id = ?',
          next.name,
          next.email,
          next.identified ? 1 : 0,
          next.unsubscribed ? 1 : 0,
          input.now,
          input.user_id,
        );
      } else {
        this.run(
          `INSERT INTO visitors (id, name, email, identified, unsubscribed, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
          input.user_id,
          next.name,
          next.email,
          next.identified ? 1 : 0,
          next.unsubscribed ? 1 : 0,
          input.now,
          input.now,
        );
      }
      this.run(
        'UPDATE support_chats SET user_email = ?, user_name = ?, identified = ? WHERE user_id = ?',
        next.email,
        next.name,
        next.identified ? 1 : 0,
        input.user_id,
      );
      return next;
    });
  }

  // ---- chats ----

  async getOrCreateChat(input: { id: ChatId; user_id: UserId; now: string }): Promise<ChatRecord> {
    // The common case reads without taking the write lock.
    const found = this.one('SELECT * FROM support_chats WHERE user_id = ?', input.user_id);
    if (found) return toChat(found);
    return this.tx(() => {
      const existing = this.one('SELECT * FROM support_chats WHERE user_id = ?', input.user_id);
      if (existing) return toChat(existing);
      const visitor = this.one('SELECT * FROM visitors WHERE id = ?', input.user_id);
      const profile = visitor ? toVisitor(visitor) : null;
      this.run(
        `INSERT INTO support_chats (id, user_id, user_email, user_name, identified, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        input.id,
        input.user_id,
        profile?.email ?? null,
        profile?.name ?? null,
        profile?.identified ? 1 : 0,
        input.now,
        input.now,
      );
      return toChat(this.one('SELECT * FROM support_chats WHERE id = ?', input.id) as Row);
    });
  }

  async getChat(chatId: ChatId): Promise<ChatRecord | null> {
    const row = this.one('SELECT * FROM support_chats WHERE id = ?', chatId);
    return row ? toChat(row) : null;
  }

  async listChats(input: {
    archived: boolean;
    after: ChatListCursor | null;
    limit: number;
  }): Promise<ChatRecord[]> {
    const where = [
      'last_message_at IS NOT NULL',
      input.archived ? 'archived_at IS NOT NULL' : 'archived_at IS NULL',
    ];
    const params: SQLInputValue[] = [];
    if (input.after) {
      where.push('(last_message_at < ? OR (last_message_at = ? AND id < ?))');
      params.push(input.after.last_message_at, input.after.last_message_at, input.after.id);
    }
    params.push(input.limit);
    return this.all(
      `SELECT * FROM support_chats WHERE ${where.join(' AND ')}
       ORDER BY last_message_at DESC, id DESC LIMIT ?`,
      ...params,
    ).map(toChat);
  }

  async setArchived(
    chatId: ChatId,
    archived: boolean,
    now: string,
  ): Promise<{ chat: ChatRecord; changed: boolean } | null> {
    return this.tx(() => {
      const changed = archived
        ? this.run(
            'UPDATE support_chats SET archived_at = ?, updated_at = ? WHERE id = ? AND archived_at IS NULL',
            now,
            now,
            chatId,
          )
        : this.run(
            'UPDATE support_chats SET archived_at = NULL, updated_at = ? WHERE id = ? AND archived_at IS NOT NULL',
            now,
            chatId,
          );
      const row = this.one('SELECT * FROM support_chats WHERE id = ?', chatId);
      return row ? { chat: toChat(row), changed: changed > 0 } : null;
    });
  }

  async markViewed(chatId: ChatId, now: string): Promise<ChatRecord | null> {
    return this.tx(() => {
      this.run(
        'UPDATE support_chats SET admin_viewed_at = ?, admin_viewed_seq = last_seq, updated_at = ? WHERE id = ?',
        now,
        now,
        chatId,
      );
      const row = this.one('SELECT * FROM support_chats WHERE id = ?', chatId);
      return row ? toChat(row) : null;
    });
  }

  // ---- messages ----

  /**
   * Group commit: appends (and publish marks) that arrive while the event loop is busy wait for
   * the next turn and share one transaction, so a burst of N messages costs one fsync instead of
   * N (node:sqlite's commit blocks the event loop, and the fsync was the chat service's limit).
   * Each append runs in its own savepoint: one that throws does not undo the others. Every
   * promise settles only after the COMMIT that made its write durable.
   */
  private pendingAppends: Array<{
    input: NewMessage;
    resolve: (r: AppendResult | AppendError) => void;
    reject: (e: unknown) => void;
  }> = [];
  private pendingPublished: Array<{
    id: MessageId;
    resolve: () => void;
    reject: (e: unknown) => void;
  }> = [];
  private groupCommitScheduled = false;

  async appendMessage(input: NewMessage): Promise<AppendResult | AppendError> {
    return new Promise((resolve, reject) => {
      this.pendingAppends.push({ input, resolve, reject });
      this.scheduleGroupCommit();
    });
  }

  private scheduleGroupCommit(): void {
    if (this.groupCommitScheduled) return;
    this.groupCommitScheduled = true;
    setImmediate(() => this.groupCommit());
  }

  private groupCommit(): void {
    this.groupCommitScheduled = false;
    const appends = this.pendingAppends.splice(0);
    const published = this.pendingPublished.splice(0);
    const outcomes: Array<
      { ok: true; value: AppendResult | AppendError } | { ok: false; error: unknown }
    > = [];
    try {
      this.tx(() => {
        for (const p of published) {
          this.run(
            'UPDATE support_messages SET published = 1 WHERE id = ? AND published = 0',
            p.id,
          );
        }
        for (const a of appends) {
          this.db.exec('SAVEPOINT append');
          try {
            outcomes.push({ ok: true, value: this.appendInTx(a.input) });
            this.db.exec('RELEASE append');
          } catch (error) {
            this.db.exec('ROLLBACK TO append');
            this.db.exec('RELEASE append');
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // The commit itself failed (e.g. the lock stayed busy): nothing of the batch is stored.
      for (const a of appends) a.reject(error);
      for (const p of published) p.reject(error);
      return;
    }
    appends.forEach((a, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) a.resolve(outcome.value);
      else a.reject(outcome.error);
    });
    for (const p of published) p.resolve();
  }

  private appendInTx(input: NewMessage): AppendResult | AppendError {
    const chatRow = this.one('SELECT * FROM support_chats WHERE id = ?', input.chat_id);
    if (!chatRow) return { error: 'chat_not_found' };
    const chat = toChat(chatRow);
    if (input.client_id) {
      const existing = this.one(
        'SELECT * FROM support_messages WHERE chat_id = ? AND client_id = ?',
        input.chat_id,
        input.client_id,
      );
      if (existing) {
        return {
          duplicate: true,
          message: toMessage(existing),
          chat,
          unarchived: false,
          published: num(existing.published) === 1,
        };
      }
    }
    const attachments: Attachment[] = [];
    for (const id of input.attachment_ids) {
      const row = this.one('SELECT * FROM attachments WHERE id = ?', id);
      const record = row ? toAttachmentRecord(row) : null;
      if (!record || record.chat_id !== input.chat_id) {
        return {
          error: 'attachment_invalid',
          attachment_id: id,
          reason: 'does not belong to this chat',
        };
      }
      if (record.message_id !== null) {
        return {
          error: 'attachment_invalid',
          attachment_id: id,
          reason: 'is already attached to a message',
        };
      }
      attachments.push(publicAttachment(record));
    }
    const seq = chat.last_seq + 1;
    // Never earlier than the previous message, so created_at order matches seq order.
    const createdAt =
      chat.last_message_at && chat.last_message_at > input.now ? chat.last_message_at : input.now;
    this.run(
      `INSERT INTO support_messages
         (id, chat_id, seq, content, sender_type, sender_id, sender_name, read_at, created_at, updated_at,
          client_id, attachments, event, published)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, 0)`,
      input.id,
      input.chat_id,
      seq,
      input.content,
      input.sender_type,
      input.sender_id,
      input.sender_name,
      createdAt,
      createdAt,
      input.client_id,
      JSON.stringify(attachments),
      input.event ? JSON.stringify(input.event) : null,
    );
    for (const a of attachments) {
      this.run('UPDATE attachments SET message_id = ? WHERE id = ?', input.id, a.id);
    }
    const unarchived = input.unarchive && chat.archived_at !== null;
    // System lines are events, not conversation: the list's preview and count skip them.
    const said = input.sender_type !== 'system';
    this.run(
      `UPDATE support_chats SET last_seq = ?, last_message_at = ?, last_message_preview = ?,
         last_message_sender = ?, message_count = ?, last_user_seq = ?, archived_at = ?, updated_at = ?
       WHERE id = ?`,
      seq,
      createdAt,
      said ? input.preview : chat.last_message_preview,
      said ? input.sender_type : chat.last_message_sender,
      chat.message_count + (said ? 1 : 0),
      input.sender_type === 'user' ? seq : chat.last_user_seq,
      unarchived ? null : chat.archived_at,
      createdAt,
      input.chat_id,
    );
    const message = toMessage(
      this.one('SELECT * FROM support_messages WHERE id = ?', input.id) as Row,
    );
    const updated = toChat(
      this.one('SELECT * FROM support_chats WHERE id = ?', input.chat_id) as Row,
    );
    return { duplicate: false, message, chat: updated, unarchived };
  }

  /** Joins the next group commit: the outbox flag costs no fsync of its own. */
  async markPublished(messageId: MessageId): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingPublished.push({ id: messageId, resolve, reject });
      this.scheduleGroupCommit();
    });
  }

  async unpublishedMessages(
    limit: number,
    createdBefore: string | null,
  ): Promise<SupportMessage[]> {
    return this.all(
      `SELECT * FROM support_messages WHERE published = 0 AND created_at <= ?
       ORDER BY created_at, seq LIMIT ?`,
      createdBefore ?? '9999-12-31T23:59:59.999Z',
      limit,
    ).map(toMessage);
  }

  async messagesBefore(
    chatId: ChatId,
    beforeSeq: number | null,
    limit: number,
  ): Promise<MessagesSlice> {
    const rows = this.all(
      `SELECT * FROM support_messages WHERE chat_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
      chatId,
      beforeSeq ?? Number.MAX_SAFE_INTEGER,
      limit + 1,
    );
    return {
      messages: rows.slice(0, limit).map(toMessage).reverse(),
      has_more: rows.length > limit,
    };
  }

  async messagesAfter(chatId: ChatId, afterSeq: number, limit: number): Promise<MessagesSlice> {
    const rows = this.all(
      'SELECT * FROM support_messages WHERE chat_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?',
      chatId,
      afterSeq,
      limit + 1,
    );
    return { messages: rows.slice(0, limit).map(toMessage), has_more: rows.length > limit };
  }

  async markRead(
    chatId: ChatId,
    now: string,
  ): Promise<{ chat: ChatRecord; count: number; up_to_seq: number } | null> {
    return this.tx(() => {
      const row = this.one('SELECT * FROM support_chats WHERE id = ?', chatId);
      if (!row) return null;
      const chat = toChat(row);
      const count = this.run(
        `UPDATE support_messages SET read_at = ?, updated_at = ?
         WHERE chat_id = ? AND sender_type = 'admin' AND read_at IS NULL AND seq <= ?`,
        now,
        now,
        chatId,
        chat.last_seq,
      );
      this.run(
        'UPDATE support_chats SET read_up_to_seq = MAX(read_up_to_seq, ?) WHERE id = ?',
        chat.last_seq,
        chatId,
      );
      const updated = toChat(this.one('SELECT * FROM support_chats WHERE id = ?', chatId) as Row);
      return { chat: updated, count, up_to_seq: chat.last_seq };
    });
  }

  async notifyClaim(chatId: ChatId, upToSeq: number): Promise<NotifyClaimOutcome> {
    return this.tx((): NotifyClaimOutcome => {
      const row = this.one('SELECT * FROM support_chats WHERE id = ?', chatId);
      if (!row) return { claimed: false, reason: 'not_found', chat: null };
      const chat = toChat(row);
      if (chat.archived_at !== null) return { claimed: false, reason: 'archived', chat };
      if (chat.notified_seq >= upToSeq) return { claimed: false, reason: 'already_notified', chat };
      const newest = this.one(
        `SELECT read_at FROM support_messages WHERE chat_id = ? AND sender_type = 'admin' AND seq <= ?
         ORDER BY seq DESC LIMIT 1`,
        chatId,
        upToSeq,
      );
      if (!newest || newest.read_at !== null)
        return { claimed: false, reason: 'nothing_unread', chat };
      this.run('UPDATE support_chats SET notified_seq = ? WHERE id = ?', upToSeq, chatId);
      const unread = this.all(
        `SELECT * FROM support_messages WHERE chat_id = ? AND sender_type = 'admin' AND read_at IS NULL
           AND seq <= ? ORDER BY seq`,
        chatId,
        upToSeq,
      ).map(toMessage);
      return { claimed: true, chat: { ...chat, notified_seq: upToSeq }, unread };
    });
  }

  // ---- attachments ----

  async insertAttachment(r: AttachmentRecord): Promise<void> {
    this.run(
      `INSERT INTO attachments (id, chat_id, kind, content_type, size, name, url, storage_key, message_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.id,
      r.chat_id,
      r.kind,
      r.content_type,
      r.size,
      r.name,
      r.url,
      r.storage_key,
      r.message_id,
      r.created_at,
    );
  }

  async getAttachment(id: AttachmentId): Promise<AttachmentRecord | null> {
    const row = this.one('SELECT * FROM attachments WHERE id = ?', id);
    return row ? toAttachmentRecord(row) : null;
  }

  async unsentAttachments(createdBefore: string, limit: number): Promise<AttachmentRecord[]> {
    return this.all(
      `SELECT * FROM attachments WHERE message_id IS NULL AND created_at < ?
       ORDER BY created_at LIMIT ?`,
      createdBefore,
      limit,
    ).map(toAttachmentRecord);
  }

  async deleteUnsentAttachment(id: AttachmentId): Promise<boolean> {
    return this.run('DELETE FROM attachments WHERE id = ? AND message_id IS NULL', id) > 0;
  }

  // ---- operators ----

  async createOperator(r: OperatorRecord): Promise<OperatorRecord | 'email_taken'> {
    try {
      this.run(
        `INSERT INTO operators (id, email, name, role, max_chats, active, created_at, password_hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        r.id,
        r.email,
        r.name,
        r.role,
        r.max_chats,
        r.active ? 1 : 0,
        r.created_at,
        r.password_hash,
      );
    } catch (e) {
      if (isUniqueViolation(e)) return 'email_taken';
      throw e;
    }
    return r;
  }

  async getOperator(id: OperatorId): Promise<OperatorRecord | null> {
    const row = this.one('SELECT * FROM operators WHERE id = ?', id);
    return row ? toOperatorRecord(row) : null;
  }

  async getOperatorByEmail(email: string): Promise<OperatorRecord | null> {
    const row = this.one('SELECT * FROM operators WHERE email = ?', email);
    return row ? toOperatorRecord(row) : null;
  }

  async listOperators(): Promise<OperatorRecord[]> {
    return this.all('SELECT * FROM operators ORDER BY created_at, id').map(toOperatorRecord);
  }

  async updateOperator(
    id: OperatorId,
    update: Parameters<ChatStore['updateOperator']>[1],
  ): Promise<OperatorRecord | null> {
    return this.tx(() => {
      const row = this.one('SELECT * FROM operators WHERE id = ?', id);
      if (!row) return null;
      const next = { ...toOperatorRecord(row), ...update };
      this.run(
        'UPDATE operators SET name = ?, role = ?, max_chats = ?, active = ?, password_hash = ? WHERE id = ?',
        next.name,
        next.role,
        next.max_chats,
        next.active ? 1 : 0,
        next.password_hash,
        id,
      );
      return next;
    });
  }
}
