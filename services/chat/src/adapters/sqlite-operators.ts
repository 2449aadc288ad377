import type { OperatorId } from '@parley/contracts';
import type { ChatStore, OperatorRecord } from '../domain/store.ts';
import type { SqliteDb } from './sqlite-db.ts';
import { toOperatorRecord } from './sqlite-rows.ts';

function isUniqueViolation(e: unknown): boolean {
  return e instanceof Error && e.message.includes('UNIQUE constraint failed');
}

/** Operator accounts (the operators table, created by the main schema in sqlite-rows.ts). */
export class SqliteOperators {
  private readonly sql: SqliteDb;
  constructor(sql: SqliteDb) {
    this.sql = sql;
  }

  async create(r: OperatorRecord): Promise<OperatorRecord | 'email_taken'> {
    try {
      this.sql.run(
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

  async get(id: OperatorId): Promise<OperatorRecord | null> {
    const row = this.sql.one('SELECT * FROM operators WHERE id = ?', id);
    return row ? toOperatorRecord(row) : null;
  }

  async getByEmail(email: string): Promise<OperatorRecord | null> {
    const row = this.sql.one('SELECT * FROM operators WHERE email = ?', email);
    return row ? toOperatorRecord(row) : null;
  }

  async list(): Promise<OperatorRecord[]> {
    return this.sql.all('SELECT * FROM operators ORDER BY created_at, id').map(toOperatorRecord);
  }

  async update(
    id: OperatorId,
    update: Parameters<ChatStore['updateOperator']>[1],
  ): Promise<OperatorRecord | null> {
    return this.sql.tx(() => {
      const row = this.sql.one('SELECT * FROM operators WHERE id = ?', id);
      if (!row) return null;
      const next = { ...toOperatorRecord(row), ...update };
      this.sql.run(
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
