import type { Collection } from 'mongodb';
import type { Label } from '@parley/contracts';

export interface LabelDoc {
  _id: string;
  name: string;
  name_key: string;
  color: string;
  created_at: Date;
}

const toLabel = (d: LabelDoc): Label => ({
  id: d._id,
  name: d.name,
  color: d.color,
  created_at: d.created_at.toISOString(),
});

/** The label set; a chat keeps its label ids in its `labels` array. */
export class MongoLabels {
  private readonly docs: Collection<LabelDoc>;
  constructor(docs: Collection<LabelDoc>) {
    this.docs = docs;
  }

  async init(): Promise<void> {
    await this.docs.createIndexes([{ key: { name_key: 1 }, name: 'name_unique', unique: true }]);
  }

  async list(): Promise<Label[]> {
    return (await this.docs.find({}).sort({ name_key: 1, _id: 1 }).toArray()).map(toLabel);
  }

  async insert(label: Label): Promise<Label | 'name_taken'> {
    try {
      await this.docs.insertOne({
        _id: label.id,
        name: label.name,
        name_key: label.name.toLocaleLowerCase(),
        color: label.color,
        created_at: new Date(label.created_at),
      });
    } catch (e) {
      if ((e as { code?: number }).code === 11000) return 'name_taken';
      throw e;
    }
    return label;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.docs.deleteOne({ _id: id })).deletedCount > 0;
  }
}
