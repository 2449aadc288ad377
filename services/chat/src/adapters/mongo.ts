import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import {
  GridFSBucket,
  MongoClient,
  ObjectId,
  type Collection,
  type Db,
  type Filter,
} from 'mongodb';
import type {
  Attachment,
  AttachmentId,
  ChatId,
  ClientId,
  MessageId,
  OperatorId,
  SenderType,
  SystemEvent,
  SupportMessage,
  UserId,
  VisitorProfile,
} from '@parley/contracts';
import type {
  AppendError,
  AppendResult,
  AttachmentBlobs,
  AttachmentRecord,
  ByteRange,
  ChatListCursor,
  ChatRecord,
  ChatStore,
  MessagesSlice,
  NewMessage,
  NotifyClaimOutcome,
  OperatorRecord,
} from '../domain/store.ts';

/**
 * The production store on MongoDB (official driver). Works on a standalone server and on a
 * replica set: it needs no multi-document transaction.
 *
 * Gap-free seq without transactions: a message is inserted with seq = (highest stored seq) + 1
 * under a unique (chat_id, seq) index. Two concurrent senders (any number of replicas) that read
 * the same highest seq both try the same seq; exactly one insert wins and the other gets a
 * duplicate-key error on that index and retries with a fresh read. Nothing is reserved before the
 * insert, so a crash or a rejected insert cannot leave a hole. The chat document's summary
 * (last_seq, last_message_at, preview…) is then updated with one atomic pipeline update that only
 * moves forward ($max / compare on seq), so concurrent updates converge on the newest message.
 *
 * Exactly once: a unique (chat_id, client_id) index; a resend finds the stored message first, and
 * a resend racing its original loses the insert on that index and returns the winner.
 *
 * Dates are BSON dates in the database and ISO strings across the store port. Every value that
 * reaches a query comes typed from the domain (strings/numbers parsed by the contracts schemas),
 * and user text inside aggregation-pipeline updates is wrapped in $literal so a leading "$" is
 * never read as a field path.
 */

interface VisitorDoc {
  _id: string;
  name: string | null;
  email: string | null;
  identified: boolean;
  unsubscribed: boolean;
  created_at: Date;
  updated_at: Date;
}

interface ChatDoc {
  _id: string;
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

interface MessageDoc {
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
  published: boolean;
}

interface AttachmentDoc {
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

interface OperatorDoc {
  _id: string;
  email: string;
  name: string;
  role: OperatorRecord['role'];
  max_chats: number;
  active: boolean;
  created_at: Date;
  password_hash: string;
}

const SEQ_INDEX = 'chat_seq_unique';
const CLIENT_ID_INDEX = 'chat_client_id_unique';
/** Concurrent senders into one chat retry at most this often (each retry means another sender won). */
const MAX_SEQ_ATTEMPTS = 1000;

const iso = (d: Date): string => d.toISOString();
const isoOrNull = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
const date = (s: string): Date => new Date(s);

function isDuplicateKey(e: unknown, indexName?: string): boolean {
  // Duck-typed (code 11000) rather than instanceof, which a second copy of the driver would defeat.
  const err = e as { code?: unknown; message?: unknown } | null;
  if (!err || err.code !== 11000 || typeof err.message !== 'string') return false;
  return indexName === undefined || err.message.includes(indexName);
}

/** $set without undefined keys (the driver would store them as null). */
function defined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function toChat(d: ChatDoc): ChatRecord {
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
    message_count: d.message_count ?? d.last_seq ?? 0,
    last_message_preview: d.last_message_preview ?? null,
    last_message_sender: d.last_message_sender ?? null,
    read_up_to_seq: d.read_up_to_seq ?? 0,
    notified_seq: d.notified_seq ?? 0,
  };
}

function toMessage(d: MessageDoc): SupportMessage {
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
  };
}

function toVisitor(d: VisitorDoc): VisitorProfile {
  return {
    id: d._id as UserId,
    name: d.name ?? null,
    email: d.email ?? null,
    identified: d.identified ?? false,
    unsubscribed: d.unsubscribed ?? false,
  };
}

function toAttachmentRecord(d: AttachmentDoc): AttachmentRecord {
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

function toOperatorRecord(d: OperatorDoc): OperatorRecord {
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

function publicAttachment(a: AttachmentDoc): Attachment {
  return {
    id: a._id as AttachmentId,
    kind: a.kind,
    content_type: a.content_type,
    size: a.size,
    name: a.name,
    url: a.url,
  };
}

export class MongoChatStore implements ChatStore {
  readonly kind = 'mongo' as const;
  private readonly client: MongoClient;
  private readonly db: Db;
  private readonly visitors: Collection<VisitorDoc>;
  private readonly chats: Collection<ChatDoc>;
  private readonly messages: Collection<MessageDoc>;
  private readonly attachments: Collection<AttachmentDoc>;
  private readonly operators: Collection<OperatorDoc>;

  constructor(client: MongoClient, dbName: string) {
    this.client = client;
    this.db = client.db(dbName);
    this.visitors = this.db.collection<VisitorDoc>('visitors');
    this.chats = this.db.collection<ChatDoc>('support_chats');
    this.messages = this.db.collection<MessageDoc>('support_messages');
    this.attachments = this.db.collection<AttachmentDoc>('attachments');
    this.operators = this.db.collection<OperatorDoc>('operators');
  }

  get database(): Db {
    return this.db;
  }

  async init(): Promise<void> {
    // createIndexes is idempotent for identical specs; replicas starting together are fine.
    await this.chats.createIndexes([
      { key: { user_id: 1 }, name: 'user_id_unique', unique: true },
      { key: { last_message_at: -1 }, name: 'last_message_at' },
      { key: { archived_at: 1 }, name: 'archived_at' },
      { key: { archived_at: 1, last_message_at: -1, _id: -1 }, name: 'console_list' },
    ]);
    await this.messages.createIndexes([
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
    await this.attachments.createIndexes([{ key: { chat_id: 1 }, name: 'chat_id' }]);
    await this.operators.createIndexes([{ key: { email: 1 }, name: 'email_unique', unique: true }]);
  }

  async ping(): Promise<boolean> {
    const res = await this.db.command({ ping: 1 });
    return res.ok === 1;
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  // ---- visitors ----

  async getVisitor(userId: UserId): Promise<VisitorProfile | null> {
    const doc = await this.visitors.findOne({ _id: userId });
    return doc ? toVisitor(doc) : null;
  }

  async upsertVisitor(input: Parameters<ChatStore['upsertVisitor']>[0]): Promise<VisitorProfile> {
    const now = date(input.now);
    const field = (name: 'name' | 'email') => {
      const set = input.set[name];
      if (set !== undefined) return { $literal: set };
      const fill = input.fillOnly?.[name];
      return { $ifNull: [`$${name}`, fill === undefined ? null : { $literal: fill }] };
    };
    const flag = (name: 'identified' | 'unsubscribed') => {
      const set = input.set[name];
      return set !== undefined ? { $literal: set } : { $ifNull: [`$${name}`, false] };
    };
    const doc = await this.visitors.findOneAndUpdate(
      { _id: input.user_id },
      [
        {
          $set: {
            name: field('name'),
            email: field('email'),
            identified: flag('identified'),
            unsubscribed: flag('unsubscribed'),
            created_at: { $ifNull: ['$created_at', { $literal: now }] },
            updated_at: { $literal: now },
          },
        },
      ],
      { upsert: true, returnDocument: 'after' },
    );
    if (!doc) throw new Error('visitor upsert returned nothing');
    const profile = toVisitor(doc);
    await this.chats.updateOne(
      { user_id: input.user_id },
      {
        $set: {
          user_email: profile.email,
          user_name: profile.name,
          identified: profile.identified,
        },
      },
    );
    return profile;
  }

  // ---- chats ----

  async getOrCreateChat(input: { id: ChatId; user_id: UserId; now: string }): Promise<ChatRecord> {
    const existing = await this.chats.findOne({ user_id: input.user_id });
    if (existing) return toChat(existing);
    const profile = await this.visitors.findOne({ _id: input.user_id });
    const now = date(input.now);
    const fresh: ChatDoc = {
      _id: input.id,
      user_id: input.user_id,
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
    try {
      await this.chats.insertOne(fresh);
      return toChat(fresh);
    } catch (e) {
      // A concurrent first call created it: the unique user_id index says so; return that one.
      if (!isDuplicateKey(e)) throw e;
      const winner = await this.chats.findOne({ user_id: input.user_id });
      if (!winner) throw e;
      return toChat(winner);
    }
  }

  async getChat(chatId: ChatId): Promise<ChatRecord | null> {
    const doc = await this.chats.findOne({ _id: chatId });
    return doc ? toChat(doc) : null;
  }

  async listChats(input: {
    archived: boolean;
    after: ChatListCursor | null;
    limit: number;
  }): Promise<ChatRecord[]> {
    const filter: Filter<ChatDoc> = {
      last_message_at: { $ne: null },
      archived_at: input.archived ? { $ne: null } : null,
    };
    if (input.after) {
      const at = date(input.after.last_message_at);
      filter.$or = [
        { last_message_at: { $lt: at } },
        { last_message_at: at, _id: { $lt: input.after.id } },
      ];
    }
    const docs = await this.chats
      .find(filter)
      .sort({ last_message_at: -1, _id: -1 })
      .limit(input.limit)
      .toArray();
    return docs.map(toChat);
  }

  async setArchived(
    chatId: ChatId,
    archived: boolean,
    now: string,
  ): Promise<{ chat: ChatRecord; changed: boolean } | null> {
    const at = date(now);
    const changed = archived
      ? await this.chats.findOneAndUpdate(
          { _id: chatId, archived_at: null },
          { $set: { archived_at: at, updated_at: at } },
          { returnDocument: 'after' },
        )
      : await this.chats.findOneAndUpdate(
          { _id: chatId, archived_at: { $ne: null } },
          { $set: { archived_at: null, updated_at: at } },
          { returnDocument: 'after' },
        );
    if (changed) return { chat: toChat(changed), changed: true };
    const current = await this.chats.findOne({ _id: chatId });
    return current ? { chat: toChat(current), changed: false } : null;
  }

  async markViewed(chatId: ChatId, now: string): Promise<ChatRecord | null> {
    const at = date(now);
    const doc = await this.chats.findOneAndUpdate(
      { _id: chatId },
      [
        {
          $set: {
            admin_viewed_at: { $literal: at },
            admin_viewed_seq: '$last_seq',
            updated_at: { $literal: at },
          },
        },
      ],
      { returnDocument: 'after' },
    );
    return doc ? toChat(doc) : null;
  }

  // ---- messages ----

  private async findByClientId(chatId: ChatId, clientId: ClientId): Promise<MessageDoc | null> {
    return this.messages.findOne({ chat_id: chatId, client_id: clientId });
  }

  private async duplicateOf(existing: MessageDoc, chatId: ChatId): Promise<AppendResult> {
    const chat = await this.chats.findOne({ _id: chatId });
    if (!chat) throw new Error(`chat ${chatId} vanished`);
    return {
      duplicate: true,
      message: toMessage(existing),
      chat: toChat(chat),
      unarchived: false,
      published: existing.published,
    };
  }

  /**
   * Links the attachments to the message before it is inserted. A link left by a message that
   * was never inserted (a crash in between) is taken over; a link to a stored message is not.
   */
  private async claimAttachments(input: NewMessage): Promise<AppendError | Attachment[]> {
    const claimed: Attachment[] = [];
    const release = () =>
      this.attachments.updateMany(
        { _id: { $in: input.attachment_ids }, message_id: input.id },
        { $set: { message_id: null } },
      );
    for (const id of input.attachment_ids) {
      const doc = await this.attachments.findOne({ _id: id });
      if (!doc || doc.chat_id !== input.chat_id) {
        await release();
        return {
          error: 'attachment_invalid',
          attachment_id: id,
          reason: 'does not belong to this chat',
        };
      }
      const holder = doc.message_id;
      const stale =
        holder !== null && holder !== input.id && !(await this.messages.findOne({ _id: holder }));
      const res =
        holder === null || stale
          ? await this.attachments.updateOne(
              { _id: id, message_id: holder },
              { $set: { message_id: input.id } },
            )
          : { modifiedCount: holder === input.id ? 1 : 0 };
      if (res.modifiedCount !== 1) {
        await release();
        return {
          error: 'attachment_invalid',
          attachment_id: id,
          reason: 'is already attached to a message',
        };
      }
      claimed.push(publicAttachment(doc));
    }
    return claimed;
  }

  async appendMessage(input: NewMessage): Promise<AppendResult | AppendError> {
    const chat = await this.chats.findOne({ _id: input.chat_id });
    if (!chat) return { error: 'chat_not_found' };
    if (input.client_id) {
      const existing = await this.findByClientId(input.chat_id, input.client_id);
      if (existing) return this.duplicateOf(existing, input.chat_id);
    }
    const attachments = await this.claimAttachments(input);
    if (!Array.isArray(attachments)) return attachments;

    let inserted: MessageDoc | null = null;
    for (let attempt = 0; attempt < MAX_SEQ_ATTEMPTS && !inserted; attempt++) {
      const last = await this.messages.findOne(
        { chat_id: input.chat_id },
        { sort: { seq: -1 }, projection: { seq: 1, created_at: 1 } },
      );
      const now = date(input.now);
      // Never earlier than the previous message, so created_at order matches seq order.
      const createdAt = last && last.created_at > now ? last.created_at : now;
      const doc: MessageDoc = {
        _id: input.id,
        chat_id: input.chat_id,
        seq: (last?.seq ?? 0) + 1,
        content: input.content,
        sender_type: input.sender_type,
        sender_id: input.sender_id,
        sender_name: input.sender_name,
        read_at: null,
        created_at: createdAt,
        updated_at: createdAt,
        client_id: input.client_id,
        attachments,
        ...(input.event ? { event: input.event } : {}),
        published: false,
      };
      try {
        await this.messages.insertOne(doc);
        inserted = doc;
      } catch (e) {
        if (isDuplicateKey(e, SEQ_INDEX)) continue; // another sender took this seq: read again
        if (input.client_id && isDuplicateKey(e, CLIENT_ID_INDEX)) {
          const winner = await this.findByClientId(input.chat_id, input.client_id);
          if (winner) {
            await this.attachments.updateMany(
              { _id: { $in: input.attachment_ids }, message_id: input.id },
              { $set: { message_id: winner._id } },
            );
            return this.duplicateOf(winner, input.chat_id);
          }
        }
        throw e;
      }
    }
    if (!inserted) throw new Error(`could not allocate a seq in chat ${input.chat_id}`);

    const seq = inserted.seq;
    const isNewer = { $lt: ['$last_seq', seq] };
    // System lines are events, not conversation: the list's preview and count skip them.
    const said = input.sender_type !== 'system';
    const isNewerSaid = said
      ? { $lt: [{ $ifNull: ['$last_said_seq', '$last_seq'] }, seq] }
      : { $literal: false };
    const before = await this.chats.findOneAndUpdate(
      { _id: input.chat_id },
      [
        {
          $set: {
            last_seq: { $max: ['$last_seq', seq] },
            last_message_at: {
              $cond: [isNewer, { $literal: inserted.created_at }, '$last_message_at'],
            },
            last_message_preview: {
              $cond: [isNewerSaid, { $literal: input.preview }, '$last_message_preview'],
            },
            last_message_sender: {
              $cond: [isNewerSaid, { $literal: input.sender_type }, '$last_message_sender'],
            },
            last_said_seq: said
              ? { $max: [{ $ifNull: ['$last_said_seq', 0] }, seq] }
              : { $ifNull: ['$last_said_seq', '$last_seq'] },
            message_count: {
              $add: [{ $ifNull: ['$message_count', '$last_seq'] }, said ? 1 : 0],
            },
            last_user_seq:
              input.sender_type === 'user' ? { $max: ['$last_user_seq', seq] } : '$last_user_seq',
            archived_at: input.unarchive ? null : '$archived_at',
            updated_at: { $max: ['$updated_at', { $literal: inserted.created_at }] },
          },
        },
      ],
      { returnDocument: 'before' },
    );
    if (!before) throw new Error(`chat ${input.chat_id} vanished`);
    const after = await this.chats.findOne({ _id: input.chat_id });
    if (!after) throw new Error(`chat ${input.chat_id} vanished`);
    return {
      duplicate: false,
      message: toMessage(inserted),
      chat: toChat(after),
      unarchived:
        input.unarchive && before.archived_at !== null && before.archived_at !== undefined,
    };
  }

  async markPublished(messageId: MessageId): Promise<void> {
    await this.messages.updateOne(
      { _id: messageId, published: false },
      { $set: { published: true } },
    );
  }

  async unpublishedMessages(
    limit: number,
    createdBefore: string | null,
  ): Promise<SupportMessage[]> {
    const docs = await this.messages
      .find(
        createdBefore
          ? { published: false, created_at: { $lte: date(createdBefore) } }
          : { published: false },
      )
      .sort({ created_at: 1, seq: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toMessage);
  }

  async messagesBefore(
    chatId: ChatId,
    beforeSeq: number | null,
    limit: number,
  ): Promise<MessagesSlice> {
    const filter: Filter<MessageDoc> = { chat_id: chatId };
    if (beforeSeq !== null) filter.seq = { $lt: beforeSeq };
    const docs = await this.messages
      .find(filter)
      .sort({ seq: -1 })
      .limit(limit + 1)
      .toArray();
    return {
      messages: docs.slice(0, limit).map(toMessage).reverse(),
      has_more: docs.length > limit,
    };
  }

  async messagesAfter(chatId: ChatId, afterSeq: number, limit: number): Promise<MessagesSlice> {
    const docs = await this.messages
      .find({ chat_id: chatId, seq: { $gt: afterSeq } })
      .sort({ seq: 1 })
      .limit(limit + 1)
      .toArray();
    return { messages: docs.slice(0, limit).map(toMessage), has_more: docs.length > limit };
  }

  /**
   * read_up_to_seq moves first (it is what notifyClaim checks atomically), then read_at is set on
   * the messages. A crash in between is repaired by the next mark_read, which sets read_at on
   * every unread admin message up to the new mark.
   */
  async markRead(
    chatId: ChatId,
    now: string,
  ): Promise<{ chat: ChatRecord; count: number; up_to_seq: number } | null> {
    const chat = await this.chats.findOne({ _id: chatId });
    if (!chat) return null;
    const upTo = Math.max(chat.last_seq, chat.read_up_to_seq ?? 0);
    await this.chats.updateOne({ _id: chatId }, { $max: { read_up_to_seq: upTo } });
    const at = date(now);
    const res = await this.messages.updateMany(
      { chat_id: chatId, sender_type: 'admin', read_at: null, seq: { $lte: upTo } },
      { $set: { read_at: at, updated_at: at } },
    );
    const after = await this.chats.findOne({ _id: chatId });
    return { chat: toChat(after ?? chat), count: res.modifiedCount, up_to_seq: chat.last_seq };
  }

  async notifyClaim(chatId: ChatId, upToSeq: number): Promise<NotifyClaimOutcome> {
    const why = (chat: ChatDoc, newestAdminSeq: number | null): NotifyClaimOutcome => {
      if (chat.archived_at) return { claimed: false, reason: 'archived', chat: toChat(chat) };
      if ((chat.notified_seq ?? 0) >= upToSeq)
        return { claimed: false, reason: 'already_notified', chat: toChat(chat) };
      if (newestAdminSeq === null || (chat.read_up_to_seq ?? 0) >= newestAdminSeq) {
        return { claimed: false, reason: 'nothing_unread', chat: toChat(chat) };
      }
      return { claimed: false, reason: 'already_notified', chat: toChat(chat) };
    };
    const chat = await this.chats.findOne({ _id: chatId });
    if (!chat) return { claimed: false, reason: 'not_found', chat: null };
    const newest = await this.messages.findOne(
      { chat_id: chatId, sender_type: 'admin', seq: { $lte: upToSeq } },
      { sort: { seq: -1 } },
    );
    if (!newest || newest.read_at !== null) return why(chat, null);
    // One atomic document update decides: not archived, not yet notified this far, still unread.
    const claimed = await this.chats.findOneAndUpdate(
      {
        _id: chatId,
        archived_at: null,
        notified_seq: { $lt: upToSeq },
        read_up_to_seq: { $lt: newest.seq },
      },
      { $set: { notified_seq: upToSeq } },
      { returnDocument: 'after' },
    );
    if (!claimed) {
      const current = await this.chats.findOne({ _id: chatId });
      return current
        ? why(current, newest.seq)
        : { claimed: false, reason: 'not_found', chat: null };
    }
    const unread = await this.messages
      .find({ chat_id: chatId, sender_type: 'admin', read_at: null, seq: { $lte: upToSeq } })
      .sort({ seq: 1 })
      .toArray();
    return { claimed: true, chat: toChat(claimed), unread: unread.map(toMessage) };
  }

  // ---- attachments ----

  async insertAttachment(r: AttachmentRecord): Promise<void> {
    await this.attachments.insertOne({
      _id: r.id,
      chat_id: r.chat_id,
      kind: r.kind,
      content_type: r.content_type,
      size: r.size,
      name: r.name,
      url: r.url,
      storage_key: r.storage_key,
      message_id: r.message_id,
      created_at: date(r.created_at),
    });
  }

  async getAttachment(id: AttachmentId): Promise<AttachmentRecord | null> {
    const doc = await this.attachments.findOne({ _id: id });
    return doc ? toAttachmentRecord(doc) : null;
  }

  async unsentAttachments(createdBefore: string, limit: number): Promise<AttachmentRecord[]> {
    const docs = await this.attachments
      .find({ message_id: null, created_at: { $lt: date(createdBefore) } })
      .sort({ created_at: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toAttachmentRecord);
  }

  async deleteUnsentAttachment(id: AttachmentId): Promise<boolean> {
    const res = await this.attachments.deleteOne({ _id: id, message_id: null });
    return res.deletedCount === 1;
  }

  // ---- operators ----

  async createOperator(r: OperatorRecord): Promise<OperatorRecord | 'email_taken'> {
    try {
      await this.operators.insertOne({
        _id: r.id,
        email: r.email,
        name: r.name,
        role: r.role,
        max_chats: r.max_chats,
        active: r.active,
        created_at: date(r.created_at),
        password_hash: r.password_hash,
      });
      return r;
    } catch (e) {
      if (isDuplicateKey(e)) return 'email_taken';
      throw e;
    }
  }

  async getOperator(id: OperatorId): Promise<OperatorRecord | null> {
    const doc = await this.operators.findOne({ _id: id });
    return doc ? toOperatorRecord(doc) : null;
  }

  async getOperatorByEmail(email: string): Promise<OperatorRecord | null> {
    const doc = await this.operators.findOne({ email });
    return doc ? toOperatorRecord(doc) : null;
  }

  async listOperators(): Promise<OperatorRecord[]> {
    const docs = await this.operators.find({}).sort({ created_at: 1, _id: 1 }).toArray();
    return docs.map(toOperatorRecord);
  }

  async updateOperator(
    id: OperatorId,
    update: Parameters<ChatStore['updateOperator']>[1],
  ): Promise<OperatorRecord | null> {
    const set = defined(update);
    const doc =
      Object.keys(set).length > 0
        ? await this.operators.findOneAndUpdate(
            { _id: id },
            { $set: set },
            { returnDocument: 'after' },
          )
        : await this.operators.findOne({ _id: id });
    return doc ? toOperatorRecord(doc) : null;
  }
}

/** Attachment bytes in GridFS (bucket "attachments"); the storage key is the GridFS file id. */
export class GridFsBlobs implements AttachmentBlobs {
  private readonly bucket: GridFSBucket;

  constructor(db: Db) {
    this.bucket = new GridFSBucket(db, { bucketName: 'attachments' });
  }

  async put(input: {
    id: string;
    tempPath: string;
    contentType: string;
    name: string;
  }): Promise<string> {
    const fileId = new ObjectId();
    await pipeline(
      createReadStream(input.tempPath),
      this.bucket.openUploadStreamWithId(fileId, input.name, {
        metadata: { attachment_id: input.id, content_type: input.contentType },
      }),
    );
    await rm(input.tempPath, { force: true });
    return fileId.toHexString();
  }

  async open(storageKey: string, range?: ByteRange): Promise<NodeJS.ReadableStream | null> {
    if (!ObjectId.isValid(storageKey)) return null;
    const id = new ObjectId(storageKey);
    const exists = await this.bucket.find({ _id: id }).limit(1).hasNext();
    if (!exists) return null;
    // GridFS's end is exclusive; HTTP's is inclusive.
    return this.bucket.openDownloadStream(
      id,
      range ? { start: range.start, end: range.end + 1 } : {},
    );
  }

  async delete(storageKey: string): Promise<void> {
    if (!ObjectId.isValid(storageKey)) return;
    try {
      await this.bucket.delete(new ObjectId(storageKey));
    } catch (e) {
      // Already gone is the outcome we wanted.
      if (!/not found/i.test(String((e as Error).message))) throw e;
    }
  }

  /** The client is closed by the store that shares it. */
  async close(): Promise<void> {}
}

export async function connectMongoStore(opts: {
  url: string;
  dbName: string;
}): Promise<{ store: MongoChatStore; blobs: GridFsBlobs }> {
  const client = new MongoClient(opts.url, { appName: 'parley-chat' });
  await client.connect();
  const store = new MongoChatStore(client, opts.dbName);
  return { store, blobs: new GridFsBlobs(store.database) };
}
