import type { ChatId, OperatorId, SupportMessage } from '@parley/contracts';
import type { MentionEntry } from '../domain/store.ts';
import type { SqliteDb } from './sqlite-db.ts';
import { toMessage, type Row } from './sqlite-rows.ts';

export const MENTIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS note_mentions (
  operator_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  seen_at TEXT,
  PRIMARY KEY (operator_id, message_id)
);
CREATE INDEX IF NOT EXISTS note_mentions_newest ON note_mentions (operator_id, created_at DESC);
`;

/** Who a note mentions, one row per (operator, note), with when they opened the chat since. */
export class SqliteMentions {
  private readonly sql: SqliteDb;
  constructor(sql: SqliteDb) {
    this.sql = sql;
  }

  init(): void {
    this.sql.exec(MENTIONS_SCHEMA);
  }

  record(note: SupportMessage): void {
    for (const operatorId of note.mentions ?? []) {
      this.sql.run(
        `INSERT OR IGNORE INTO note_mentions (operator_id, message_id, chat_id, created_at, seen_at)
         VALUES (?, ?, ?, ?, NULL)`,
        operatorId,
        note.id,
        note.chat_id,
        note.created_at,
      );
    }
  }

  list(operatorId: OperatorId, limit: number): MentionEntry[] {
    return this.sql
      .all(
        `SELECT m.*, n.seen_at AS mention_seen_at FROM note_mentions n
           JOIN support_messages m ON m.id = n.message_id
         WHERE n.operator_id = ? ORDER BY n.created_at DESC, n.message_id DESC LIMIT ?`,
        operatorId,
        limit,
      )
      .map((r: Row) => ({
        note: toMessage(r),
        seen_at: r.mention_seen_at === null ? null : String(r.mention_seen_at),
      }));
  }

  markSeen(operatorId: OperatorId, chatId: ChatId, now: string): number {
    return this.sql.run(
      'UPDATE note_mentions SET seen_at = ? WHERE operator_id = ? AND chat_id = ? AND seen_at IS NULL',
      now,
      operatorId,
      chatId,
    );
  }
}
