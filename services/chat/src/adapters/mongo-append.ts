import type { Collection } from 'mongodb';
import type { Attachment, ChatId, ClientId } from '@parley/contracts';
import {
  attachmentClaim,
  attachmentRefused,
  countsInList,
  messageCreatedAt,
  publicAttachment,
  unarchives,
} from '../domain/rules.ts';
import type { AppendError, AppendResult, NewMessage } from '../domain/store.ts';
import {
  CLIENT_ID_INDEX,
  MAX_SEQ_ATTEMPTS,
  SEQ_INDEX,
  date,
  iso,
  isDuplicateKey,
  toAttachmentRecord,
  toChat,
  toMessage,
  type AttachmentDoc,
  type ChatDoc,
  type MessageDoc,
} from './mongo-docs.ts';

/**
 * The message append on MongoDB, without multi-document transactions: attachments are linked
 * first, then the message is inserted, then the chat summary moves forward.
 *
 * Gap-free seq: a message is inserted with seq = (highest stored seq) + 1 under a unique
 * (chat_id, seq) index. Two concurrent senders (any number of replicas) that read the same
 * highest seq both try the same seq; exactly one insert wins and the other gets a duplicate-key
 * error on that index and retries with a fresh read. Nothing is reserved before the insert, so a
 * crash or a rejected insert cannot leave a hole. The chat document's summary (last_seq,
 * last_message_at, preview…) is then updated with one atomic pipeline update that only moves
 * forward ($max / compare on seq), so concurrent updates converge on the newest message.
 *
 * Exactly once: a unique (chat_id, client_id) index; a resend finds the stored message first, and
 * a resend racing its original loses the insert on that index and returns the winner.
 */
export class MongoMessageWriter {
  private readonly chats: Collection<ChatDoc>;
  private readonly messages: Collection<MessageDoc>;
  private readonly attachments: Collection<AttachmentDoc>;

  constructor(collections: {
    chats: Collection<ChatDoc>;
    messages: Collection<MessageDoc>;
    attachments: Collection<AttachmentDoc>;
  }) {
    this.chats = collections.chats;
    this.messages = collections.messages;
    this.attachments = collections.attachments;
  }

  async append(input: NewMessage): Promise<AppendResult | AppendError> {
    const chat = await this.chats.findOne({ _id: input.chat_id });
    if (!chat) return { error: 'chat_not_found' };
    if (input.client_id) {
      const existing = await this.findByClientId(input.chat_id, input.client_id);
      if (existing) return this.duplicateOf(existing, input.chat_id);
    }
    const attachments = await this.claimAttachments(input);
    if (!Array.isArray(attachments)) return attachments;
    const inserted = await this.insertWithNextSeq(input, attachments);
    if ('duplicate' in inserted) return inserted;
    return this.advanceChat(input, inserted);
  }

  private findByClientId(chatId: ChatId, clientId: ClientId): Promise<MessageDoc | null> {
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
      const record = doc ? toAttachmentRecord(doc) : null;
      const claim = attachmentClaim(record, input.chat_id, input.id);
      if (claim.kind === 'foreign' || !record) {
        await release();
        return attachmentRefused(id, 'foreign');
      }
      const stale = claim.kind === 'held' && !(await this.messages.findOne({ _id: claim.holder }));
      // The link is a compare-and-set on the holder read above: a concurrent claim wins once.
      const linked =
        claim.kind === 'mine' ||
        ((claim.kind === 'free' || stale) &&
          (
            await this.attachments.updateOne(
              { _id: id, message_id: record.message_id },
              { $set: { message_id: input.id } },
            )
          ).modifiedCount === 1);
      if (!linked) {
        await release();
        return attachmentRefused(id, 'held');
      }
      claimed.push(publicAttachment(record));
    }
    return claimed;
  }

  private async insertWithNextSeq(
    input: NewMessage,
    attachments: Attachment[],
  ): Promise<MessageDoc | AppendResult> {
    for (let attempt = 0; attempt < MAX_SEQ_ATTEMPTS; attempt++) {
      const last = await this.messages.findOne(
        { chat_id: input.chat_id },
        { sort: { seq: -1 }, projection: { seq: 1, created_at: 1 } },
      );
      const createdAt = date(messageCreatedAt(last ? iso(last.created_at) : null, input.now));
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
        ...(input.internal ? { internal: true as const, mentions: input.internal.mentions } : {}),
        published: false,
      };
      try {
        await this.messages.insertOne(doc);
        return doc;
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
    throw new Error(`could not allocate a seq in chat ${input.chat_id}`);
  }

  /**
   * The chat summary only moves forward, so concurrent appends converge on the newest message.
   * The list's preview follows the newest visitor or operator message (last_said_seq), not a
   * system line; a chat stored before that field counts its last message as said.
   */
  private async advanceChat(input: NewMessage, inserted: MessageDoc): Promise<AppendResult> {
    const seq = inserted.seq;
    const isNewer = { $lt: ['$last_seq', seq] };
    const saidSeq = { $ifNull: ['$last_said_seq', '$last_seq'] };
    // Internal notes stay out of the list's preview and count, like system lines.
    const said = countsInList(input.sender_type) && !input.internal;
    const isNewerSaid = { $lt: [saidSeq, seq] };
    const listSummary = said
      ? {
          last_message_preview: {
            $cond: [isNewerSaid, { $literal: input.preview }, '$last_message_preview'],
          },
          last_message_sender: {
            $cond: [isNewerSaid, { $literal: input.sender_type }, '$last_message_sender'],
          },
          last_said_seq: { $max: [saidSeq, seq] },
          message_count: { $add: [{ $ifNull: ['$message_count', '$last_seq'] }, 1] },
        }
      : {
          last_message_preview: '$last_message_preview',
          last_message_sender: '$last_message_sender',
          last_said_seq: saidSeq,
          message_count: { $ifNull: ['$message_count', '$last_seq'] },
        };
    const before = await this.chats.findOneAndUpdate(
      { _id: input.chat_id },
      [
        {
          $set: {
            last_seq: { $max: ['$last_seq', seq] },
            last_message_at: {
              $cond: [isNewer, { $literal: inserted.created_at }, '$last_message_at'],
            },
            ...listSummary,
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
      unarchived: unarchives(input.unarchive, before.archived_at ?? null),
    };
  }
}
