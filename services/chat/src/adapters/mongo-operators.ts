import type { Collection } from 'mongodb';
import type { OperatorId } from '@parley/contracts';
import type { ChatStore, OperatorRecord } from '../domain/store.ts';
import { date, defined, isDuplicateKey, toOperatorRecord, type OperatorDoc } from './mongo-docs.ts';

/** Operator accounts (the operators collection; its unique email index: mongo-docs.ts). */
export class MongoOperators {
  private readonly col: Collection<OperatorDoc>;
  constructor(col: Collection<OperatorDoc>) {
    this.col = col;
  }

  async create(r: OperatorRecord): Promise<OperatorRecord | 'email_taken'> {
    try {
      await this.col.insertOne({
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

  async get(id: OperatorId): Promise<OperatorRecord | null> {
    const doc = await this.col.findOne({ _id: id });
    return doc ? toOperatorRecord(doc) : null;
  }

  async getByEmail(email: string): Promise<OperatorRecord | null> {
    const doc = await this.col.findOne({ email });
    return doc ? toOperatorRecord(doc) : null;
  }

  async list(): Promise<OperatorRecord[]> {
    const docs = await this.col.find({}).sort({ created_at: 1, _id: 1 }).toArray();
    return docs.map(toOperatorRecord);
  }

  async update(
    id: OperatorId,
    update: Parameters<ChatStore['updateOperator']>[1],
  ): Promise<OperatorRecord | null> {
    const set = defined(update);
    const doc =
      Object.keys(set).length > 0
        ? await this.col.findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: 'after' })
        : await this.col.findOne({ _id: id });
    return doc ? toOperatorRecord(doc) : null;
  }
}
