import type { Collection } from 'mongodb';
import type { ChatId, OperatorId, SupportMessage } from '@parley/contracts';
import type { MentionEntry } from '../domain/store.ts';
import { iso, toMessage, type MessageDoc } from './mongo-docs.ts';

export interface MentionDoc {
  /** `${operator_id}:${message_id}`: recording the same mention twice is a no-op. */
  _id: string;
  operator_id: string;
  message_id: string;
  chat_id: string;
  created_at: Date;
  seen_at: Date | null;
}

/** Who a note mentions, one document per (operator, note), with when they opened the chat since. */
export class MongoMentions {
  private readonly mentions: Collection<MentionDoc>;
  private readonly messages: Collection<MessageDoc>;
  constructor(mentions: Collection<MentionDoc>, messages: Collection<MessageDoc>) {
    this.mentions = mentions;
    this.messages = messages;
  }

  async init(): Promise<void> {
    await this.mentions.createIndexes([
      { key: { operator_id: 1, created_at: -1 }, name: 'newest' },
      { key: { operator_id: 1, chat_id: 1 }, name: 'by_chat' },
    ]);
  }

  async record(note: SupportMessage): Promise<void> {
    for (const operatorId of note.mentions ?? []) {
      await this.mentions.updateOne(
        { _id: `${operatorId}:${note.id}` },
        {
          $setOnInsert: {
            operator_id: operatorId,
            message_id: note.id,
            chat_id: note.chat_id,
            created_at: new Date(note.created_at),
            seen_at: null,
          },
        },
        { upsert: true },
      );
    }
  }

  async list(operatorId: OperatorId, limit: number): Promise<MentionEntry[]> {
    const rows = await this.mentions
      .find({ operator_id: operatorId })
      .sort({ created_at: -1, message_id: -1 })
      .limit(limit)
      .toArray();
    const notes = await this.messages
      .find({ _id: { $in: rows.map((r) => r.message_id) } })
      .toArray();
    const byId = new Map(notes.map((n) => [n._id, n]));
    return rows.flatMap((r) => {
      const note = byId.get(r.message_id);
      return note ? [{ note: toMessage(note), seen_at: r.seen_at ? iso(r.seen_at) : null }] : [];
    });
  }

  async markSeen(operatorId: OperatorId, chatId: ChatId, now: string): Promise<number> {
    const res = await this.mentions.updateMany(
      { operator_id: operatorId, chat_id: chatId, seen_at: null },
      { $set: { seen_at: new Date(now) } },
    );
    return res.modifiedCount;
  }
}
