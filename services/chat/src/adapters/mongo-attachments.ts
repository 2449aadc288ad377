import type { Collection } from 'mongodb';
import type { AttachmentId } from '@parley/contracts';
import type { AttachmentRecord } from '../domain/store.ts';
import { date, toAttachmentRecord, type AttachmentDoc } from './mongo-docs.ts';

/** Attachment records (the attachments collection; the append links them to their message). */
export class MongoAttachments {
  private readonly col: Collection<AttachmentDoc>;
  constructor(col: Collection<AttachmentDoc>) {
    this.col = col;
  }

  async insert(r: AttachmentRecord): Promise<void> {
    await this.col.insertOne({
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

  async get(id: AttachmentId): Promise<AttachmentRecord | null> {
    const doc = await this.col.findOne({ _id: id });
    return doc ? toAttachmentRecord(doc) : null;
  }

  async unsent(createdBefore: string, limit: number): Promise<AttachmentRecord[]> {
    const docs = await this.col
      .find({ message_id: null, created_at: { $lt: date(createdBefore) } })
      .sort({ created_at: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toAttachmentRecord);
  }

  async deleteUnsent(id: AttachmentId): Promise<boolean> {
    const res = await this.col.deleteOne({ _id: id, message_id: null });
    return res.deletedCount === 1;
  }
}
