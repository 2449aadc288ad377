import type { Collection, Filter } from 'mongodb';
import type { VisitorProfile } from '@parley/contracts';
import { mergeVisitor } from '../domain/rules.ts';
import type { ChatStore } from '../domain/store.ts';
import { date, isDuplicateKey, toVisitor, type ChatDoc, type VisitorDoc } from './mongo-docs.ts';

/** Each retry means another upsert of the same visitor won the compare-and-set. */
const MAX_UPSERT_ATTEMPTS = 100;

/**
 * The merge (rules.ts) runs on the profile as read; the write is a compare-and-set on those
 * values, so a concurrent upsert in between makes it miss and the merge runs again on the
 * newer profile. One document, no transaction needed.
 */
export async function upsertVisitor(
  visitors: Collection<VisitorDoc>,
  chats: Collection<ChatDoc>,
  input: Parameters<ChatStore['upsertVisitor']>[0],
): Promise<VisitorProfile> {
  const now = date(input.now);
  for (let attempt = 0; attempt < MAX_UPSERT_ATTEMPTS; attempt++) {
    const doc = await visitors.findOne({ _id: input.user_id });
    const next = mergeVisitor(doc ? toVisitor(doc) : null, input);
    const fields = {
      name: next.name,
      email: next.email,
      identified: next.identified,
      unsubscribed: next.unsubscribed,
    };
    if (!doc) {
      try {
        await visitors.insertOne({
          _id: input.user_id,
          ...fields,
          created_at: now,
          updated_at: now,
        });
      } catch (e) {
        if (isDuplicateKey(e)) continue; // created meanwhile: merge into that one
        throw e;
      }
    } else {
      // null also matches a field an older document lacks.
      const asRead = {
        _id: input.user_id,
        name: doc.name ?? null,
        email: doc.email ?? null,
        identified: doc.identified ?? null,
        unsubscribed: doc.unsubscribed ?? null,
      } as Filter<VisitorDoc>;
      const res = await visitors.updateOne(asRead, { $set: { ...fields, updated_at: now } });
      if (res.matchedCount === 0) continue;
    }
    await chats.updateOne(
      { user_id: input.user_id },
      { $set: { user_email: next.email, user_name: next.name, identified: next.identified } },
    );
    return next;
  }
  throw new Error(`visitor ${input.user_id} kept changing during the upsert`);
}
