import type { CannedResponse, OperatorId } from '@parley/contracts';
import type { SqliteDb } from './sqlite-db.ts';
import type { Row } from './sqlite-rows.ts';

/** owner_key is '' for team replies, so one unique index covers both scopes. */
export const CANNED_SCHEMA = `
CREATE TABLE IF NOT EXISTS canned_responses (
  id TEXT PRIMARY KEY,
  shortcut TEXT NOT NULL,
  shortcut_key TEXT NOT NULL,
  title TEXT NOT NULL,
  content TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('team', 'personal')),
  owner_id TEXT,
  owner_key TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS canned_responses_shortcut ON canned_responses (scope, owner_key, shortcut_key);
`;

function toCanned(r: Row): CannedResponse {
  return {
    id: String(r.id),
    shortcut: String(r.shortcut),
    title: String(r.title),
    content: String(r.content),
    scope: String(r.scope) as CannedResponse['scope'],
    owner_id: r.owner_id === null ? null : (String(r.owner_id) as OperatorId),
    created_at: String(r.created_at),
    updated_at: String(r.updated_at),
  };
}

const isUnique = (e: unknown) => e instanceof Error && e.message.includes('UNIQUE constraint');

export class SqliteCanned {
  private readonly sql: SqliteDb;
  constructor(sql: SqliteDb) {
    this.sql = sql;
  }

  init(): void {
    this.sql.exec(CANNED_SCHEMA);
  }

  list(ownerId: OperatorId): CannedResponse[] {
    return this.sql
      .all(
        `SELECT * FROM canned_responses WHERE scope = 'team' OR owner_id = ?
         ORDER BY shortcut_key, scope DESC, id`,
        ownerId,
      )
      .map(toCanned);
  }

  get(id: string): CannedResponse | null {
    const row = this.sql.one('SELECT * FROM canned_responses WHERE id = ?', id);
    return row ? toCanned(row) : null;
  }

  insert(r: CannedResponse): CannedResponse | 'shortcut_taken' {
    try {
      this.sql.run(
        `INSERT INTO canned_responses
           (id, shortcut, shortcut_key, title, content, scope, owner_id, owner_key, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        r.id,
        r.shortcut,
        r.shortcut.toLowerCase(),
        r.title,
        r.content,
        r.scope,
        r.owner_id,
        r.owner_id ?? '',
        r.created_at,
        r.updated_at,
      );
    } catch (e) {
      if (isUnique(e)) return 'shortcut_taken';
      throw e;
    }
    return r;
  }

  update(
    id: string,
    u: { shortcut?: string; title?: string; content?: string; updated_at: string },
  ): CannedResponse | 'shortcut_taken' | null {
    const current = this.get(id);
    if (!current) return null;
    const next = { ...current, ...u };
    try {
      this.sql.run(
        `UPDATE canned_responses SET shortcut = ?, shortcut_key = ?, title = ?, content = ?, updated_at = ?
         WHERE id = ?`,
        next.shortcut,
        next.shortcut.toLowerCase(),
        next.title,
        next.content,
        next.updated_at,
        id,
      );
    } catch (e) {
      if (isUnique(e)) return 'shortcut_taken';
      throw e;
    }
    return this.get(id);
  }

  delete(id: string): boolean {
    return this.sql.run('DELETE FROM canned_responses WHERE id = ?', id) > 0;
  }
}
