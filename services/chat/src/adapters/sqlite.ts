import type { SQLInputValue } from 'node:sqlite';
import type {
  AttachmentId,
  CannedResponse,
  Label,
  ChatId,
  MessageId,
  OperatorId,
  SupportMessage,
  UserId,
  VisitorProfile,
} from '@parley/contracts';
import { mergeVisitor, notifyClaimRefusal } from '../domain/rules.ts';
import type {
  AppendError,
  AppendResult,
  AttachmentRecord,
  ChatListCursor,
  ChatRecord,
  ChatStore,
  MentionEntry,
  MessageAudience,
  MessagesSlice,
  NewMessage,
  NotifyClaimOutcome,
  OperatorRecord,
} from '../domain/store.ts';
import { SqliteMessageWriter } from './sqlite-append.ts';
import { SqliteCanned } from './sqlite-canned.ts';
import { SqliteLabels } from './sqlite-labels.ts';
import { SqliteMentions } from './sqlite-mentions.ts';
import { SqliteOperators } from './sqlite-operators.ts';
import { SqliteDb } from './sqlite-db.ts';
import {
  applySchema,
  num,
  toAttachmentRecord,
  toChat,
  toMessage,
  toVisitor,
  type Row,
} from './sqlite-rows.ts';

/**
 * The embedded store (node:sqlite): queries and row mapping; the rules come from
 * domain/rules.ts. Connection, locking and transactions: sqlite-db.ts; the group-committed
 * message append: sqlite-append.ts. seq stays gap-free across processes on one file because
 * every read-then-write holds the write lock.
 */

export class SqliteChatStore implements ChatStore {
  readonly kind = 'sqlite' as const;
  private readonly sql: SqliteDb;
  private readonly writer: SqliteMessageWriter;
  private readonly mentions: SqliteMentions;
  private readonly canned: SqliteCanned;
  private readonly labels: SqliteLabels;
  private readonly operators: SqliteOperators;

  constructor(filePath: string, opts: { busyTimeoutMs?: number } = {}) {
    this.sql = new SqliteDb(filePath, opts.busyTimeoutMs ?? 10_000);
    this.writer = new SqliteMessageWriter(this.sql);
    this.mentions = new SqliteMentions(this.sql);
    this.canned = new SqliteCanned(this.sql);
    this.labels = new SqliteLabels(this.sql);
    this.operators = new SqliteOperators(this.sql);
  }

  async init(): Promise<void> {
    this.sql.tx(() => {
      applySchema(this.sql);
      this.mentions.init();
      this.canned.init();
      this.labels.init();
    });
  }

  async ping(): Promise<boolean> {
    return this.sql.isOpen && this.sql.one('SELECT 1 AS ok')?.ok === 1;
  }

  async close(): Promise<void> {
    this.writer.flush();
    this.sql.close();
  }

  // ---- visitors ----

  async getVisitor(userId: UserId): Promise<VisitorProfile | null> {
    const row = this.sql.one('SELECT * FROM visitors WHERE id = ?', userId);
    return row ? toVisitor(row) : null;
  }

  async upsertVisitor(input: Parameters<ChatStore['upsertVisitor']>[0]): Promise<VisitorProfile> {
    return this.sql.tx(() => {
      const existing = this.sql.one('SELECT * FROM visitors WHERE id = ?', input.user_id);
      const current = existing ? toVisitor(existing) : null;
      const next = mergeVisitor(current, input);
      this.sql.run(
        `INSERT INTO visitors (id, name, email, identified, unsubscribed, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email,
           identified = excluded.identified, unsubscribed = excluded.unsubscribed,
           updated_at = excluded.updated_at`,
        input.user_id,
        next.name,
        next.email,
        next.identified ? 1 : 0,
        next.unsubscribed ? 1 : 0,
        input.now,
        input.now,
      );
      this.sql.run(
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
    const found = this.sql.one('SELECT * FROM support_chats WHERE user_id = ?', input.user_id);
    if (found) return toChat(found);
    return this.sql.tx(() => {
      const existing = this.sql.one('SELECT * FROM support_chats WHERE user_id = ?', input.user_id);
      if (existing) return toChat(existing);
      const visitor = this.sql.one('SELECT * FROM visitors WHERE id = ?', input.user_id);
      const profile = visitor ? toVisitor(visitor) : null;
      this.sql.run(
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
      return toChat(this.sql.one('SELECT * FROM support_chats WHERE id = ?', input.id) as Row);
    });
  }

  async setChatLabels(chatId: ChatId, labels: string[], now: string): Promise<ChatRecord | null> {
    return this.labels.setOnChat(chatId, labels, now);
  }
  async listLabels(): Promise<Label[]> {
    return this.labels.list();
  }
  async insertLabel(label: Label): Promise<Label | 'name_taken'> {
    return this.labels.insert(label);
  }
  async deleteLabel(id: string): Promise<boolean> {
    return this.labels.delete(id);
  }

  async getChat(chatId: ChatId): Promise<ChatRecord | null> {
    const row = this.sql.one('SELECT * FROM support_chats WHERE id = ?', chatId);
    return row ? toChat(row) : null;
  }

  async listChats(input: {
    archived: boolean;
    after: ChatListCursor | null;
    limit: number;
    label?: string;
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
    if (input.label) {
      where.push('EXISTS (SELECT 1 FROM json_each(support_chats.labels) WHERE value = ?)');
      params.push(input.label);
    }
    params.push(input.limit);
    return this.sql
      .all(
        `SELECT * FROM support_chats WHERE ${where.join(' AND ')}
       ORDER BY last_message_at DESC, id DESC LIMIT ?`,
        ...params,
      )
      .map(toChat);
  }

  async setArchived(
    chatId: ChatId,
    archived: boolean,
    now: string,
  ): Promise<{ chat: ChatRecord; changed: boolean } | null> {
    return this.sql.tx(() => {
      const changed = archived
        ? this.sql.run(
            'UPDATE support_chats SET archived_at = ?, updated_at = ? WHERE id = ? AND archived_at IS NULL',
            now,
            now,
            chatId,
          )
        : this.sql.run(
            'UPDATE support_chats SET archived_at = NULL, updated_at = ? WHERE id = ? AND archived_at IS NOT NULL',
            now,
            chatId,
          );
      const row = this.sql.one('SELECT * FROM support_chats WHERE id = ?', chatId);
      return row ? { chat: toChat(row), changed: changed > 0 } : null;
    });
  }

  async markViewed(chatId: ChatId, now: string): Promise<ChatRecord | null> {
    return this.sql.tx(() => {
      this.sql.run(
        'UPDATE support_chats SET admin_viewed_at = ?, admin_viewed_seq = last_seq, updated_at = ? WHERE id = ?',
        now,
        now,
        chatId,
      );
      const row = this.sql.one('SELECT * FROM support_chats WHERE id = ?', chatId);
      return row ? toChat(row) : null;
    });
  }

  // ---- messages ----

  appendMessage(input: NewMessage): Promise<AppendResult | AppendError> {
    return this.writer.append(input);
  }

  markPublished(messageId: MessageId): Promise<void> {
    return this.writer.markPublished(messageId);
  }

  async unpublishedMessages(
    limit: number,
    createdBefore: string | null,
  ): Promise<SupportMessage[]> {
    return this.sql
      .all(
        `SELECT * FROM support_messages WHERE published = 0 AND created_at <= ?
       ORDER BY created_at, seq LIMIT ?`,
        createdBefore ?? '9999-12-31T23:59:59.999Z',
        limit,
      )
      .map(toMessage);
  }

  async messagesBefore(
    chatId: ChatId,
    beforeSeq: number | null,
    limit: number,
    audience: MessageAudience,
  ): Promise<MessagesSlice> {
    const rows = this.sql.all(
      `SELECT * FROM support_messages WHERE chat_id = ? AND seq < ? AND internal <= ?
       ORDER BY seq DESC LIMIT ?`,
      chatId,
      beforeSeq ?? Number.MAX_SAFE_INTEGER,
      audience === 'operator' ? 1 : 0,
      limit + 1,
    );
    return {
      messages: rows.slice(0, limit).map(toMessage).reverse(),
      has_more: rows.length > limit,
    };
  }

  async messagesAfter(
    chatId: ChatId,
    afterSeq: number,
    limit: number,
    audience: MessageAudience,
  ): Promise<MessagesSlice> {
    const rows = this.sql.all(
      `SELECT * FROM support_messages WHERE chat_id = ? AND seq > ? AND internal <= ?
       ORDER BY seq ASC LIMIT ?`,
      chatId,
      afterSeq,
      audience === 'operator' ? 1 : 0,
      limit + 1,
    );
    return { messages: rows.slice(0, limit).map(toMessage), has_more: rows.length > limit };
  }

  async markRead(
    chatId: ChatId,
    now: string,
  ): Promise<{ chat: ChatRecord; count: number; up_to_seq: number } | null> {
    return this.sql.tx(() => {
      const row = this.sql.one('SELECT * FROM support_chats WHERE id = ?', chatId);
      if (!row) return null;
      const chat = toChat(row);
      const count = this.sql.run(
        `UPDATE support_messages SET read_at = ?, updated_at = ?
         WHERE chat_id = ? AND sender_type = 'admin' AND internal = 0 AND read_at IS NULL AND seq <= ?`,
        now,
        now,
        chatId,
        chat.last_seq,
      );
      this.sql.run(
        'UPDATE support_chats SET read_up_to_seq = MAX(read_up_to_seq, ?) WHERE id = ?',
        chat.last_seq,
        chatId,
      );
      const updated = toChat(
        this.sql.one('SELECT * FROM support_chats WHERE id = ?', chatId) as Row,
      );
      return { chat: updated, count, up_to_seq: chat.last_seq };
    });
  }

  async notifyClaim(chatId: ChatId, upToSeq: number): Promise<NotifyClaimOutcome> {
    return this.sql.tx((): NotifyClaimOutcome => {
      const row = this.sql.one('SELECT * FROM support_chats WHERE id = ?', chatId);
      if (!row) return { claimed: false, reason: 'not_found', chat: null };
      const chat = toChat(row);
      const newest = this.sql.one(
        `SELECT seq, read_at FROM support_messages WHERE chat_id = ? AND sender_type = 'admin' AND internal = 0 AND seq <= ?
         ORDER BY seq DESC LIMIT 1`,
        chatId,
        upToSeq,
      );
      const refusal = notifyClaimRefusal(
        chat,
        upToSeq,
        newest ? { seq: num(newest.seq), read: newest.read_at !== null } : null,
      );
      if (refusal) return { claimed: false, reason: refusal, chat };
      this.sql.run('UPDATE support_chats SET notified_seq = ? WHERE id = ?', upToSeq, chatId);
      const unread = this.sql
        .all(
          `SELECT * FROM support_messages WHERE chat_id = ? AND sender_type = 'admin' AND internal = 0 AND read_at IS NULL
           AND seq <= ? ORDER BY seq`,
          chatId,
          upToSeq,
        )
        .map(toMessage);
      return { claimed: true, chat: { ...chat, notified_seq: upToSeq }, unread };
    });
  }

  // ---- mentions ----

  async recordMentions(note: SupportMessage): Promise<void> {
    this.sql.tx(() => this.mentions.record(note));
  }

  async mentionsOf(operatorId: OperatorId, limit: number): Promise<MentionEntry[]> {
    return this.mentions.list(operatorId, limit);
  }

  async markMentionsSeen(operatorId: OperatorId, chatId: ChatId, now: string): Promise<number> {
    return this.mentions.markSeen(operatorId, chatId, now);
  }

  // ---- canned replies ----

  async listCanned(ownerId: OperatorId): Promise<CannedResponse[]> {
    return this.canned.list(ownerId);
  }
  async getCanned(id: string): Promise<CannedResponse | null> {
    return this.canned.get(id);
  }
  async insertCanned(record: CannedResponse): Promise<CannedResponse | 'shortcut_taken'> {
    return this.canned.insert(record);
  }
  async updateCanned(
    id: string,
    update: { shortcut?: string; title?: string; content?: string; updated_at: string },
  ): Promise<CannedResponse | 'shortcut_taken' | null> {
    return this.sql.tx(() => this.canned.update(id, update));
  }
  async deleteCanned(id: string): Promise<boolean> {
    return this.canned.delete(id);
  }

  // ---- attachments ----

  async insertAttachment(r: AttachmentRecord): Promise<void> {
    this.sql.run(
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
    const row = this.sql.one('SELECT * FROM attachments WHERE id = ?', id);
    return row ? toAttachmentRecord(row) : null;
  }

  async unsentAttachments(createdBefore: string, limit: number): Promise<AttachmentRecord[]> {
    return this.sql
      .all(
        `SELECT * FROM attachments WHERE message_id IS NULL AND created_at < ?
       ORDER BY created_at LIMIT ?`,
        createdBefore,
        limit,
      )
      .map(toAttachmentRecord);
  }

  async deleteUnsentAttachment(id: AttachmentId): Promise<boolean> {
    return this.sql.run('DELETE FROM attachments WHERE id = ? AND message_id IS NULL', id) > 0;
  }

  // ---- operators ----

  createOperator(r: OperatorRecord): Promise<OperatorRecord | 'email_taken'> {
    return this.operators.create(r);
  }
  getOperator(id: OperatorId): Promise<OperatorRecord | null> {
    return this.operators.get(id);
  }
  getOperatorByEmail(email: string): Promise<OperatorRecord | null> {
    return this.operators.getByEmail(email);
  }
  listOperators(): Promise<OperatorRecord[]> {
    return this.operators.list();
  }
  updateOperator(
    id: OperatorId,
    update: Parameters<ChatStore['updateOperator']>[1],
  ): Promise<OperatorRecord | null> {
    return this.operators.update(id, update);
  }
}
