import type { SQLInputValue } from 'node:sqlite';
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
import type { AttachmentRecord, ChatRecord, OperatorRecord } from '../domain/store.ts';

/** The SQLite store's tables and the mapping from their rows to the store port's records. */

export const SCHEMA = `
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
 * is stored), so a store created by an older version keeps working. New files get them the
 * same way, right after SCHEMA.
 */
export const ADDED_COLUMNS: ReadonlyArray<{
  table: string;
  column: string;
  ddl: string;
  backfill?: string;
}> = [
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
  {
    table: 'support_messages',
    column: 'internal',
    ddl: 'ALTER TABLE support_messages ADD COLUMN internal INTEGER NOT NULL DEFAULT 0',
  },
  {
    table: 'support_messages',
    column: 'mentions',
    ddl: 'ALTER TABLE support_messages ADD COLUMN mentions TEXT',
  },
  {
    table: 'support_chats',
    column: 'labels',
    ddl: "ALTER TABLE support_chats ADD COLUMN labels TEXT NOT NULL DEFAULT '[]'",
  },
];

export type Row = Record<string, SQLInputValue>;

/** Creates what is missing: the tables of SCHEMA, then each of ADDED_COLUMNS (with its backfill). */
export function applySchema(sql: { exec(text: string): void; all(text: string): Row[] }): void {
  sql.exec(SCHEMA);
  for (const added of ADDED_COLUMNS) {
    const columns = sql.all(`PRAGMA table_info(${added.table})`);
    if (columns.some((c) => c.name === added.column)) continue;
    sql.exec(added.ddl);
    if (added.backfill) sql.exec(added.backfill);
  }
}

function str(v: SQLInputValue | undefined): string {
  return String(v);
}
function strOrNull(v: SQLInputValue | undefined): string | null {
  return v === null || v === undefined ? null : String(v);
}
export function num(v: SQLInputValue | undefined): number {
  return Number(v);
}

export function toChat(r: Row): ChatRecord {
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
    labels: JSON.parse(str(r.labels ?? '[]')) as string[],
  };
}

export function toMessage(r: Row): SupportMessage {
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
    ...(num(r.internal) === 1
      ? { internal: true as const, mentions: JSON.parse(str(r.mentions ?? '[]')) as OperatorId[] }
      : {}),
  };
}

export function toVisitor(r: Row): VisitorProfile {
  return {
    id: str(r.id) as UserId,
    name: strOrNull(r.name),
    email: strOrNull(r.email),
    identified: num(r.identified) === 1,
    unsubscribed: num(r.unsubscribed) === 1,
  };
}

export function toAttachmentRecord(r: Row): AttachmentRecord {
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

export function toOperatorRecord(r: Row): OperatorRecord {
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
