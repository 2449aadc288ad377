import type { Collection } from 'mongodb';
import type { CannedResponse, OperatorId } from '@parley/contracts';

export interface CannedDoc {
  _id: string;
  shortcut: string;
  shortcut_key: string;
  title: string;
  content: string;
  scope: CannedResponse['scope'];
  owner_id: string | null;
  /** '' for team replies, so one unique index covers both scopes. */
  owner_key: string;
  created_at: Date;
  updated_at: Date;
}

const SHORTCUT_INDEX = 'shortcut_unique';

function toCanned(d: CannedDoc): CannedResponse {
  return {
    id: d._id,
    shortcut: d.shortcut,
    title: d.title,
    content: d.content,
    scope: d.scope,
    owner_id: d.owner_id as OperatorId | null,
    created_at: d.created_at.toISOString(),
    updated_at: d.updated_at.toISOString(),
  };
}

const isDuplicate = (e: unknown) =>
  typeof e === 'object' && e !== null && (e as { code?: number }).code === 11000;

export class MongoCanned {
  private readonly docs: Collection<CannedDoc>;
  constructor(docs: Collection<CannedDoc>) {
    this.docs = docs;
  }

  async init(): Promise<void> {
    await this.docs.createIndexes([
      { key: { scope: 1, owner_key: 1, shortcut_key: 1 }, name: SHORTCUT_INDEX, unique: true },
    ]);
  }

  async list(ownerId: OperatorId): Promise<CannedResponse[]> {
    const docs = await this.docs
      .find({ $or: [{ scope: 'team' }, { owner_id: ownerId }] })
      .sort({ shortcut_key: 1, scope: -1, _id: 1 })
      .toArray();
    return docs.map(toCanned);
  }

  async get(id: string): Promise<CannedResponse | null> {
    const doc = await this.docs.findOne({ _id: id });
    return doc ? toCanned(doc) : null;
  }

  async insert(r: CannedResponse): Promise<CannedResponse | 'shortcut_taken'> {
    try {
      await this.docs.insertOne({
        _id: r.id,
        shortcut: r.shortcut,
        shortcut_key: r.shortcut.toLowerCase(),
        title: r.title,
        content: r.content,
        scope: r.scope,
        owner_id: r.owner_id,
        owner_key: r.owner_id ?? '',
        created_at: new Date(r.created_at),
        updated_at: new Date(r.updated_at),
      });
    } catch (e) {
      if (isDuplicate(e)) return 'shortcut_taken';
      throw e;
    }
    return r;
  }

  async update(
    id: string,
    u: { shortcut?: string; title?: string; content?: string; updated_at: string },
  ): Promise<CannedResponse | 'shortcut_taken' | null> {
    const set: Partial<CannedDoc> = { updated_at: new Date(u.updated_at) };
    if (u.shortcut !== undefined) {
      set.shortcut = u.shortcut;
      set.shortcut_key = u.shortcut.toLowerCase();
    }
    if (u.title !== undefined) set.title = u.title;
    if (u.content !== undefined) set.content = u.content;
    try {
      const doc = await this.docs.findOneAndUpdate(
        { _id: id },
        { $set: set },
        { returnDocument: 'after' },
      );
      return doc ? toCanned(doc) : null;
    } catch (e) {
      if (isDuplicate(e)) return 'shortcut_taken';
      throw e;
    }
  }

  async delete(id: string): Promise<boolean> {
    return (await this.docs.deleteOne({ _id: id })).deletedCount > 0;
  }
}
