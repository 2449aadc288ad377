import type { Attachment, MessageId } from '@parley/contracts';
import {
  attachmentClaim,
  attachmentRefused,
  listSummaryAfter,
  messageCreatedAt,
  publicAttachment,
  unarchives,
} from '../domain/rules.ts';
import type { AppendError, AppendResult, NewMessage } from '../domain/store.ts';
import type { SqliteDb } from './sqlite-db.ts';
import { num, toAttachmentRecord, toChat, toMessage, type Row } from './sqlite-rows.ts';

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Group commit: appends (and publish marks) that arrive while the event loop is busy wait for
 * the next turn and share one transaction, so a burst of N messages costs one fsync instead of
 * N (node:sqlite's commit blocks the event loop, and the fsync was the chat service's limit).
 * Each append runs in its own savepoint: one that throws does not undo the others. Every
 * promise settles only after the COMMIT that made its write durable.
 */
export class SqliteMessageWriter {
  private readonly sql: SqliteDb;
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
  private scheduled = false;

  constructor(sql: SqliteDb) {
    this.sql = sql;
  }

  append(input: NewMessage): Promise<AppendResult | AppendError> {
    return new Promise((resolve, reject) => {
      this.pendingAppends.push({ input, resolve, reject });
      this.schedule();
    });
  }

  /** Joins the next group commit: the outbox flag costs no fsync of its own. */
  markPublished(id: MessageId): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingPublished.push({ id, resolve, reject });
      this.schedule();
    });
  }

  /** Writes already accepted are committed, not dropped. */
  flush(): void {
    if (this.scheduled && this.sql.isOpen) this.commit();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.commit());
  }

  private commit(): void {
    this.scheduled = false;
    const appends = this.pendingAppends.splice(0);
    const published = this.pendingPublished.splice(0);
    const outcomes: Array<Outcome<AppendResult | AppendError>> = [];
    try {
      this.sql.tx(() => {
        for (const p of published) {
          this.sql.run(
            'UPDATE support_messages SET published = 1 WHERE id = ? AND published = 0',
            p.id,
          );
        }
        for (const a of appends) {
          try {
            outcomes.push({ ok: true, value: this.sql.savepoint(() => this.appendInTx(a.input)) });
          } catch (error) {
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

  private claimAttachments(input: NewMessage): Attachment[] | AppendError {
    const attachments: Attachment[] = [];
    for (const id of input.attachment_ids) {
      const row = this.sql.one('SELECT * FROM attachments WHERE id = ?', id);
      const record = row ? toAttachmentRecord(row) : null;
      // Inside the write lock no other message can be linking it: any holder is a stored one.
      const claim = attachmentClaim(record, input.chat_id, input.id);
      if (claim.kind === 'foreign' || claim.kind === 'held')
        return attachmentRefused(id, claim.kind);
      attachments.push(publicAttachment(record!));
    }
    return attachments;
  }

  private appendInTx(input: NewMessage): AppendResult | AppendError {
    const chatRow = this.sql.one('SELECT * FROM support_chats WHERE id = ?', input.chat_id);
    if (!chatRow) return { error: 'chat_not_found' };
    const chat = toChat(chatRow);
    if (input.client_id) {
      const existing = this.sql.one(
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
    const attachments = this.claimAttachments(input);
    if (!Array.isArray(attachments)) return attachments;
    const seq = chat.last_seq + 1;
    const createdAt = messageCreatedAt(chat.last_message_at, input.now);
    this.sql.run(
      `INSERT INTO support_messages
         (id, chat_id, seq, content, sender_type, sender_id, sender_name, read_at, created_at, updated_at,
          client_id, attachments, event, internal, mentions, published)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, 0)`,
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
      input.internal ? 1 : 0,
      input.internal ? JSON.stringify(input.internal.mentions) : null,
    );
    for (const a of attachments) {
      this.sql.run('UPDATE attachments SET message_id = ? WHERE id = ?', input.id, a.id);
    }
    const unarchived = unarchives(input.unarchive, chat.archived_at);
    const summary = listSummaryAfter(chat, input);
    this.sql.run(
      `UPDATE support_chats SET last_seq = ?, last_message_at = ?, last_message_preview = ?,
         last_message_sender = ?, message_count = ?, last_user_seq = ?, archived_at = ?, updated_at = ?
       WHERE id = ?`,
      seq,
      createdAt,
      summary.last_message_preview,
      summary.last_message_sender,
      summary.message_count,
      input.sender_type === 'user' ? seq : chat.last_user_seq,
      unarchived ? null : chat.archived_at,
      createdAt,
      input.chat_id,
    );
    const message = toMessage(
      this.sql.one('SELECT * FROM support_messages WHERE id = ?', input.id) as Row,
    );
    const updated = toChat(
      this.sql.one('SELECT * FROM support_chats WHERE id = ?', input.chat_id) as Row,
    );
    return { duplicate: false, message, chat: updated, unarchived };
  }
}
