import { MongoClient, type Collection, type Db, type Filter } from 'mongodb';
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
import { MongoMessageWriter } from './mongo-append.ts';
import { MongoAttachments } from './mongo-attachments.ts';
import { MongoCanned, type CannedDoc } from './mongo-canned.ts';
import { MongoLabels, type LabelDoc } from './mongo-labels.ts';
import { MongoMentions, type MentionDoc } from './mongo-mentions.ts';
import { claimNotify } from './mongo-notify-claim.ts';
import { MongoOperators } from './mongo-operators.ts';
import { GridFsBlobs } from './mongo-blobs.ts';
import { upsertVisitor } from './mongo-visitors.ts';
import {
  createIndexes,
  newChatDoc,
  date,
  isDuplicateKey,
  toChat,
  toMessage,
  toVisitor,
  type AttachmentDoc,
  type ChatDoc,
  type MessageDoc,
  type OperatorDoc,
  type VisitorDoc,
} from './mongo-docs.ts';

export { GridFsBlobs };

/**
 * The production store on MongoDB (official driver): queries and document mapping; the rules
 * come from domain/rules.ts. Works on a standalone server and on a replica set: it needs no
 * multi-document transaction (each atomic step is one document update or a unique index).
 * The message append: mongo-append.ts; documents, indexes and mapping: mongo-docs.ts.
 *
 * Dates are BSON dates in the database and ISO strings across the store port. Every value that
 * reaches a query comes typed from the domain (strings/numbers parsed by the contracts schemas),
 * and user text inside aggregation-pipeline updates is wrapped in $literal so a leading "$" is
 * never read as a field path.
 */
export class MongoChatStore implements ChatStore {
  readonly kind = 'mongo' as const;
  private readonly client: MongoClient;
  private readonly db: Db;
  private readonly visitors: Collection<VisitorDoc>;
  private readonly chats: Collection<ChatDoc>;
  private readonly messages: Collection<MessageDoc>;
  private readonly attachments: Collection<AttachmentDoc>;
  private readonly operators: Collection<OperatorDoc>;
  private readonly mentions: MongoMentions;
  private readonly canned: MongoCanned;
  private readonly labels: MongoLabels;
  private readonly writer: MongoMessageWriter;
  private readonly attachmentRecords: MongoAttachments;
  private readonly operatorAccounts: MongoOperators;

  constructor(client: MongoClient, dbName: string) {
    this.client = client;
    this.db = client.db(dbName);
    this.visitors = this.db.collection<VisitorDoc>('visitors');
    this.chats = this.db.collection<ChatDoc>('support_chats');
    this.messages = this.db.collection<MessageDoc>('support_messages');
    this.attachments = this.db.collection<AttachmentDoc>('attachments');
    this.operators = this.db.collection<OperatorDoc>('operators');
    this.attachmentRecords = new MongoAttachments(this.attachments);
    this.operatorAccounts = new MongoOperators(this.operators);
    this.labels = new MongoLabels(this.db.collection<LabelDoc>('labels'));
    this.canned = new MongoCanned(this.db.collection<CannedDoc>('canned_responses'));
    this.mentions = new MongoMentions(
      this.db.collection<MentionDoc>('note_mentions'),
      this.messages,
    );
    this.writer = new MongoMessageWriter({
      chats: this.chats,
      messages: this.messages,
      attachments: this.attachments,
    });
  }

  get database(): Db {
    return this.db;
  }

  async init(): Promise<void> {
    await createIndexes({
      chats: this.chats,
      messages: this.messages,
      attachments: this.attachments,
      operators: this.operators,
    });
    await this.mentions.init();
    await this.canned.init();
    await this.labels.init();
    await this.chats.createIndexes([{ key: { labels: 1 }, name: 'labels' }]);
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

  upsertVisitor(input: Parameters<ChatStore['upsertVisitor']>[0]): Promise<VisitorProfile> {
    return upsertVisitor(this.visitors, this.chats, input);
  }

  // ---- chats ----

  async getOrCreateChat(input: { id: ChatId; user_id: UserId; now: string }): Promise<ChatRecord> {
    const existing = await this.chats.findOne({ user_id: input.user_id });
    if (existing) return toChat(existing);
    const profile = await this.visitors.findOne({ _id: input.user_id });
    const fresh = newChatDoc(input.id, input.user_id, profile, date(input.now));
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
    label?: string;
  }): Promise<ChatRecord[]> {
    const filter: Filter<ChatDoc> = {
      last_message_at: { $ne: null },
      archived_at: input.archived ? { $ne: null } : null,
    };
    if (input.label) filter.labels = input.label;
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

  async setChatLabels(chatId: ChatId, labels: string[], now: string): Promise<ChatRecord | null> {
    const doc = await this.chats.findOneAndUpdate(
      { _id: chatId },
      { $set: { labels, updated_at: date(now) } },
      { returnDocument: 'after' },
    );
    return doc ? toChat(doc) : null;
  }
  listLabels(): Promise<Label[]> {
    return this.labels.list();
  }
  insertLabel(label: Label): Promise<Label | 'name_taken'> {
    return this.labels.insert(label);
  }
  async deleteLabel(id: string): Promise<boolean> {
    const gone = await this.labels.delete(id);
    if (gone) await this.chats.updateMany({ labels: id }, { $pull: { labels: id } });
    return gone;
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

  appendMessage(input: NewMessage): Promise<AppendResult | AppendError> {
    return this.writer.append(input);
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
    audience: MessageAudience,
  ): Promise<MessagesSlice> {
    const filter: Filter<MessageDoc> = { chat_id: chatId };
    if (audience === 'visitor') filter.internal = { $exists: false };
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

  async messagesAfter(
    chatId: ChatId,
    afterSeq: number,
    limit: number,
    audience: MessageAudience,
  ): Promise<MessagesSlice> {
    const filter: Filter<MessageDoc> = { chat_id: chatId, seq: { $gt: afterSeq } };
    if (audience === 'visitor') filter.internal = { $exists: false };
    const docs = await this.messages
      .find(filter)
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
      {
        chat_id: chatId,
        sender_type: 'admin',
        internal: { $exists: false },
        read_at: null,
        seq: { $lte: upTo },
      },
      { $set: { read_at: at, updated_at: at } },
    );
    const after = await this.chats.findOne({ _id: chatId });
    return { chat: toChat(after ?? chat), count: res.modifiedCount, up_to_seq: chat.last_seq };
  }

  notifyClaim(chatId: ChatId, upToSeq: number): Promise<NotifyClaimOutcome> {
    return claimNotify({ chats: this.chats, messages: this.messages }, chatId, upToSeq);
  }

  // ---- mentions ----

  recordMentions(note: SupportMessage): Promise<void> {
    return this.mentions.record(note);
  }

  mentionsOf(operatorId: OperatorId, limit: number): Promise<MentionEntry[]> {
    return this.mentions.list(operatorId, limit);
  }

  markMentionsSeen(operatorId: OperatorId, chatId: ChatId, now: string): Promise<number> {
    return this.mentions.markSeen(operatorId, chatId, now);
  }

  // ---- canned replies ----

  listCanned(ownerId: OperatorId): Promise<CannedResponse[]> {
    return this.canned.list(ownerId);
  }
  getCanned(id: string): Promise<CannedResponse | null> {
    return this.canned.get(id);
  }
  insertCanned(record: CannedResponse): Promise<CannedResponse | 'shortcut_taken'> {
    return this.canned.insert(record);
  }
  updateCanned(
    id: string,
    update: { shortcut?: string; title?: string; content?: string; updated_at: string },
  ): Promise<CannedResponse | 'shortcut_taken' | null> {
    return this.canned.update(id, update);
  }
  deleteCanned(id: string): Promise<boolean> {
    return this.canned.delete(id);
  }

  // ---- attachments ----

  insertAttachment(r: AttachmentRecord): Promise<void> {
    return this.attachmentRecords.insert(r);
  }
  getAttachment(id: AttachmentId): Promise<AttachmentRecord | null> {
    return this.attachmentRecords.get(id);
  }
  unsentAttachments(createdBefore: string, limit: number): Promise<AttachmentRecord[]> {
    return this.attachmentRecords.unsent(createdBefore, limit);
  }
  deleteUnsentAttachment(id: AttachmentId): Promise<boolean> {
    return this.attachmentRecords.deleteUnsent(id);
  }

  // ---- operators ----

  createOperator(r: OperatorRecord): Promise<OperatorRecord | 'email_taken'> {
    return this.operatorAccounts.create(r);
  }
  getOperator(id: OperatorId): Promise<OperatorRecord | null> {
    return this.operatorAccounts.get(id);
  }
  getOperatorByEmail(email: string): Promise<OperatorRecord | null> {
    return this.operatorAccounts.getByEmail(email);
  }
  listOperators(): Promise<OperatorRecord[]> {
    return this.operatorAccounts.list();
  }
  updateOperator(
    id: OperatorId,
    update: Parameters<ChatStore['updateOperator']>[1],
  ): Promise<OperatorRecord | null> {
    return this.operatorAccounts.update(id, update);
  }
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
