import type { Collection } from 'mongodb';
import type {
  Attachment,
  AttachmentId,
  ChatId,
  ClientId,
  MessageId,
  OperatorId,
  SenderType,
  SupportMessage,
  SystemEvent,
  UserId,
  VisitorProfile,
} from '@parley/contracts';
import type { AttachmentRecord, ChatRecord, OperatorRecord } from '../domain/store.ts';

/** The MongoDB store's documents and their mapping to the store port's records. */

export interface VisitorDoc {
  _id: string;
  name: string | null;
  email: string | null;
  identified: boolean;
  unsubscribed: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface ChatDoc {
  _id: string;
  /** Label ids; absent on chats stored before labels. */
  labels?: string[];
  user_id: string;
  user_email: string | null;
  user_name: string | null;
  identified: boolean;
  last_message_at: Date | null;
  admin_viewed_at: Date | null;
  admin_viewed_seq: number;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
  last_seq: number;
  last_user_seq: number;
  /** Visitor and operator messages (absent on chats stored before it was counted). */
  message_count?: number;
  /** Seq of the message the preview shows (absent on chats stored before system lines were skipped). */
  last_said_seq?: number;
  last_message_preview: string | null;
  last_message_sender: SenderType | null;
  read_up_to_seq: number;
  notified_seq: number;
}

export interface MessageDoc {
  _id: string;
  chat_id: string;
  seq: number;
  content: string;
  sender_type: SenderType;
  sender_id: string | null;
  sender_name: string | null;
  read_at: Date | null;
  created_at: Date;
  updated_at: Date;
  client_id: string | null;
  attachments: Attachment[];
  event?: SystemEvent;
  /** Set (true) only on internal notes, with the operators they mention. */
  internal?: true;
  mentions?: string[];
  published: boolean;
}

export interface AttachmentDoc {
  _id: string;
  chat_id: string;
  kind: AttachmentRecord['kind'];
  content_type: string;
  size: number;
  name: string;
  url: string;
  storage_key: string;
  message_id: string | null;
  created_at: Date;
}

export interface OperatorDoc {
  _id: string;
  email: string;
  name: string;
  role: OperatorRecord['role'];
  max_chats: number;
  active: boolean;
  created_at: Date;
  password_hash: string;
}

export const SEQ_INDEX = 'chat_seq_unique';
export const CLIENT_ID_INDEX = 'chat_client_id_unique';
/** Concurrent senders into one chat retry at most this often (each retry means another sender won). */
export const MAX_SEQ_ATTEMPTS = 1000;

export const iso = (d: Date): string => d.toISOString();
export const isoOrNull = (d: Date | null | undefined): string | null =>
  d ? d.toISOString() : null;
export const date = (s: string): Date => new Date(s);

export function isDuplicateKey(e: unknown, indexName?: string): boolean {
  // Duck-typed (code 11000) rather than instanceof, which a second copy of the driver would defeat.
  const err = e as { code?: unknown; message?: unknown } | null;
  if (!err || err.code !== 11000 || typeof err.message !== 'string') return false;
  return indexName === undefined || err.message.includes(indexName);
}

/** $set without undefined keys (the driver would store them as null). */
export function defined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function toChat(d: ChatDoc): ChatRecord {
  return {
    id: d._id as ChatId,
    user_id: d.user_id as UserId,
    user_email: d.user_email ?? null,
    user_name: d.user_name ?? null,
    identified: d.identified ?? false,
    last_message_at: isoOrNull(d.last_message_at),
    admin_viewed_at: isoOrNull(d.admin_viewed_at),
    admin_viewed_seq: d.admin_viewed_seq ?? 0,
    archived_at: isoOrNull(d.archived_at),
    created_at: iso(d.created_at),
    updated_at: iso(d.updated_at),
    last_seq: d.last_seq ?? 0,
    last_user_seq: d.last_user_seq ?? 0,
    // Chats stored before the count: every message counted (system lines included).
    message_count: d.message_count ?? d.last_seq ?? 0,
    last_message_preview: d.last_message_preview ?? null,
    last_message_sender: d.last_message_sender ?? null,
    read_up_to_seq: d.read_up_to_seq ?? 0,
    notified_seq: d.notified_seq ?? 0,
    labels: d.labels ?? [],
  };
}

export function toMessage(d: MessageDoc): SupportMessage {
  return {
    id: d._id as MessageId,
    chat_id: d.chat_id as ChatId,
    content: d.content,
    sender_type: d.sender_type,
    sender_id: d.sender_id ?? null,
    sender_name: d.sender_name ?? null,
    read_at: isoOrNull(d.read_at),
    created_at: iso(d.created_at),
    client_id: (d.client_id ?? null) as ClientId | null,
    seq: d.seq,
    attachments: d.attachments ?? [],
    ...(d.event ? { event: d.event } : {}),
    ...(d.internal
      ? { internal: true as const, mentions: (d.mentions ?? []) as OperatorId[] }
      : {}),
  };
}

export function toVisitor(d: VisitorDoc): VisitorProfile {
  return {
    id: d._id as UserId,
    name: d.name ?? null,
    email: d.email ?? null,
    identified: d.identified ?? false,
    unsubscribed: d.unsubscribed ?? false,
  };
}

export function toAttachmentRecord(d: AttachmentDoc): AttachmentRecord {
  return {
    id: d._id as AttachmentId,
    chat_id: d.chat_id as ChatId,
    kind: d.kind,
    content_type: d.content_type,
    size: d.size,
    name: d.name,
    url: d.url,
    storage_key: d.storage_key,
    message_id: (d.message_id ?? null) as MessageId | null,
    created_at: iso(d.created_at),
  };
}

export function toOperatorRecord(d: OperatorDoc): OperatorRecord {
  return {
    id: d._id as OperatorId,
    email: d.email,
    name: d.name,
    role: d.role,
    max_chats: d.max_chats,
    active: d.active,
    created_at: iso(d.created_at),
    password_hash: d.password_hash,
  };
}

/** A user's chat before its first message. */
export function newChatDoc(
  id: ChatId,
  userId: UserId,
  profile: Pick<VisitorDoc, 'email' | 'name' | 'identified'> | null,
  now: Date,
): ChatDoc {
  return {
    _id: id,
    user_id: userId,
    user_email: profile?.email ?? null,
    user_name: profile?.name ?? null,
    identified: profile?.identified ?? false,
    last_message_at: null,
    admin_viewed_at: null,
    admin_viewed_seq: 0,
    archived_at: null,
    created_at: now,
    updated_at: now,
    last_seq: 0,
    last_user_seq: 0,
    message_count: 0,
    last_said_seq: 0,
    last_message_preview: null,
    last_message_sender: null,
    read_up_to_seq: 0,
    notified_seq: 0,
  };
}

/** The indexes the store's guarantees rest on (idempotent: replicas starting together are fine). */
export async function createIndexes(c: {
  chats: Collection<ChatDoc>;
  messages: Collection<MessageDoc>;
  attachments: Collection<AttachmentDoc>;
  operators: Collection<OperatorDoc>;
}): Promise<void> {
  await c.chats.createIndexes([
    { key: { user_id: 1 }, name: 'user_id_unique', unique: true },
    { key: { last_message_at: -1 }, name: 'last_message_at' },
    { key: { archived_at: 1 }, name: 'archived_at' },
    { key: { archived_at: 1, last_message_at: -1, _id: -1 }, name: 'console_list' },
  ]);
  await c.messages.createIndexes([
    { key: { chat_id: 1, seq: 1 }, name: SEQ_INDEX, unique: true },
    {
      key: { chat_id: 1, client_id: 1 },
      name: CLIENT_ID_INDEX,
      unique: true,
      // System messages carry no client_id; only real ids take part in the uniqueness.
      partialFilterExpression: { client_id: { $type: 'string' } },
    },
    {
      key: { created_at: 1 },
      name: 'unpublished',
      partialFilterExpression: { published: false },
    },
  ]);
  await c.attachments.createIndexes([{ key: { chat_id: 1 }, name: 'chat_id' }]);
  await c.operators.createIndexes([{ key: { email: 1 }, name: 'email_unique', unique: true }]);
}
