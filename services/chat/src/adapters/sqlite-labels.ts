import type { ChatId, Label } from '@parley/contracts';
import type { ChatRecord } from '../domain/store.ts';
import type { SqliteDb } from './sqlite-db.ts';
import { toChat, type Row } from './sqlite-rows.ts';

export const LABELS_SCHEMA = `
CREATE TABLE IF NOT EXISTS labels (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL UNIQUE,
  color TEXT NOT NULL,
  created_at TEXT NOT NULL
);
`;

const toLabel = (r: Row): Label => ({
  id: String(r.id),
  name: String(r.name),
  color: String(r.color),
  created_at: String(r.created_at),
});

/** The label set; a chat keeps its label ids in support_chats.labels (a JSON array). */
export class SqliteLabels {
  private readonly sql: SqliteDb;
  constructor(sql: SqliteDb) {
    this.sql = sql;
  }

  init(): void {
    this.sql.exec(LABELS_SCHEMA);
  }

  list(): Label[] {
    return this.sql.all('SELECT * FROM labels ORDER BY name_key, id').map(toLabel);
  }

  insert(label: Label): Label | 'name_taken' {
    try {
      this.sql.run(
        'INSERT INTO labels (id, name, name_key, color, created_at) VALUES (?, ?, ?, ?, ?)',
        label.id,
        label.name,
        label.name.toLocaleLowerCase(),
        label.color,
        label.created_at,
      );
    } catch (e) {
      if (e instanceof Error && e.message.includes('UNIQUE constraint')) return 'name_taken';
      throw e;
    }
    return label;
  }

  delete(id: string): boolean {
    return this.sql.tx(() => {
      const gone = this.sql.run('DELETE FROM labels WHERE id = ?', id) > 0;
      if (gone) {
        this.sql.run(
          `UPDATE support_chats SET labels = (SELECT json_group_array(value) FROM json_each(labels) WHERE value <> ?)
           WHERE EXISTS (SELECT 1 FROM json_each(support_chats.labels) WHERE value = ?)`,
          id,
          id,
        );
      }
      return gone;
    });
  }

  setOnChat(chatId: ChatId, labels: string[], now: string): ChatRecord | null {
    const changed = this.sql.run(
      'UPDATE support_chats SET labels = ?, updated_at = ? WHERE id = ?',
      JSON.stringify(labels),
      now,
      chatId,
    );
    if (changed === 0) return null;
    return toChat(this.sql.one('SELECT * FROM support_chats WHERE id = ?', chatId) as Row);
  }
}
