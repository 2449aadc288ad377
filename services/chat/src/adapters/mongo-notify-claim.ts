import type { Collection } from 'mongodb';
import type { ChatId } from '@parley/contracts';
import { notifyClaimRefusal } from '../domain/rules.ts';
import type { NotifyClaimOutcome } from '../domain/store.ts';
import { toChat, toMessage, type ChatDoc, type MessageDoc } from './mongo-docs.ts';

/**
 * The notify claim: at most one unread-reply email per chat and seq. The rule comes from
 * domain/rules.ts; here it is one atomic document update.
 */
export async function claimNotify(
  cols: { chats: Collection<ChatDoc>; messages: Collection<MessageDoc> },
  chatId: ChatId,
  upToSeq: number,
): Promise<NotifyClaimOutcome> {
  const chat = await cols.chats.findOne({ _id: chatId });
  if (!chat) return { claimed: false, reason: 'not_found', chat: null };
  const newest = await cols.messages.findOne(
    {
      chat_id: chatId,
      sender_type: 'admin',
      internal: { $exists: false },
      seq: { $lte: upToSeq },
    },
    { sort: { seq: -1 } },
  );
  const reply = newest ? { seq: newest.seq, read: newest.read_at !== null } : null;
  const refusal = notifyClaimRefusal(toChat(chat), upToSeq, reply);
  if (refusal || !newest) {
    return { claimed: false, reason: refusal ?? 'nothing_unread', chat: toChat(chat) };
  }
  // The same rule as one atomic document update: not archived, not yet notified this far,
  // still unread.
  const claimed = await cols.chats.findOneAndUpdate(
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
    const current = await cols.chats.findOne({ _id: chatId });
    if (!current) return { claimed: false, reason: 'not_found', chat: null };
    // Lost to a concurrent change; when none of the reasons shows, another job claimed it.
    const reason = notifyClaimRefusal(toChat(current), upToSeq, reply) ?? 'already_notified';
    return { claimed: false, reason, chat: toChat(current) };
  }
  const unread = await cols.messages
    .find({
      chat_id: chatId,
      sender_type: 'admin',
      internal: { $exists: false },
      read_at: null,
      seq: { $lte: upToSeq },
    })
    .sort({ seq: 1 })
    .toArray();
  return { claimed: true, chat: toChat(claimed), unread: unread.map(toMessage) };
}
