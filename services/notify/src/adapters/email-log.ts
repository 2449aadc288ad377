import type { Redis } from 'ioredis';
import type { Collection, Db } from 'mongodb';
import { EmailRecord } from '@parley/contracts/models';
import type { Logger } from '@parley/runtime';
import type { EmailLog } from '../domain/ports.ts';

function parseRecords(raw: unknown[], logger: Logger): EmailRecord[] {
  const out: EmailRecord[] = [];
  for (const item of raw) {
    const parsed = EmailRecord.safeParse(item);
    if (parsed.success) out.push(parsed.data);
    else
      logger.warn(
        { issues: parsed.error.issues.slice(0, 3) },
        'skipped an outbox entry that is not an EmailRecord',
      );
  }
  return out;
}

/** Newest-first Redis list, trimmed to `limit` entries. */
export function redisEmailLog(redis: Redis, key: string, limit: number, logger: Logger): EmailLog {
  return {
    async add(record) {
      await redis
        .multi()
        .lpush(key, JSON.stringify(record))
        .ltrim(key, 0, limit - 1)
        .exec();
    },
    async list(n) {
      const rows = await redis.lrange(key, 0, n - 1);
      const raw = rows.flatMap((row) => {
        try {
          return [JSON.parse(row) as unknown];
        } catch {
          logger.warn('skipped an outbox entry that is not JSON');
          return [];
        }
      });
      return parseRecords(raw, logger);
    },
  };
}

/** A Mongo collection; the oldest entries beyond `limit` are removed after each insert. */
export function mongoEmailLog(
  db: Db,
  limit: number,
  logger: Logger,
): EmailLog & { init(): Promise<void> } {
  const col: Collection<EmailRecord & { _id?: unknown }> = db.collection('notify_outbox');
  return {
    async init() {
      await col.createIndex({ created_at: -1 });
    },
    async add(record) {
      await col.insertOne({ ...record });
      const cutoff = await col
        .find({}, { projection: { created_at: 1 } })
        .sort({ created_at: -1 })
        .skip(limit)
        .limit(1)
        .next();
      if (cutoff) await col.deleteMany({ created_at: { $lte: cutoff.created_at } });
    },
    async list(n) {
      const rows = await col
        .find({}, { projection: { _id: 0 } })
        .sort({ created_at: -1 })
        .limit(n)
        .toArray();
      return parseRecords(rows, logger);
    },
  };
}
