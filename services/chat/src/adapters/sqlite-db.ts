import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { Row } from './sqlite-rows.ts';

/**
 * One SQLite connection with its prepared statements and transactions. WAL lets readers run
 * beside the one writer; every write that reads-then-writes runs in BEGIN IMMEDIATE, which takes
 * the write lock up front, so two chat-service processes on the same file serialize
 * (busy_timeout waits for the lock). The API is synchronous: inside one process a transaction
 * never interleaves.
 */
export class SqliteDb {
  readonly db: DatabaseSync;
  /** Prepared once per SQL text (fixed strings, or one of listChats's four variants; values are always ? parameters). */
  private readonly statements = new Map<string, StatementSync>();

  constructor(filePath: string, busyTimeoutMs: number) {
    if (filePath !== ':memory:')
      mkdirSync(path.dirname(path.resolve(filePath)), { recursive: true });
    this.db = new DatabaseSync(filePath);
    this.db.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    this.db.exec('PRAGMA journal_mode = WAL');
    // FULL: a commit is on disk before the event about it is published.
    this.db.exec('PRAGMA synchronous = FULL');
    this.db.exec('PRAGMA foreign_keys = ON');
  }

  get isOpen(): boolean {
    return this.db.isOpen;
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  private stmt(sql: string): StatementSync {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
  one(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.stmt(sql).get(...params) as Row | undefined;
  }
  all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.stmt(sql).all(...params) as Row[];
  }
  run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.stmt(sql).run(...params).changes);
  }

  /** BEGIN IMMEDIATE: the write lock first, so a read-then-write cannot race another process. */
  tx<T>(fn: () => T): T {
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

  /** Runs fn in a savepoint inside the open transaction: a throw undoes fn's writes only. */
  savepoint<T>(fn: () => T): T {
    this.db.exec('SAVEPOINT step');
    try {
      const out = fn();
      this.db.exec('RELEASE step');
      return out;
    } catch (e) {
      this.db.exec('ROLLBACK TO step');
      this.db.exec('RELEASE step');
      throw e;
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
