import type { Bus } from '@parley/runtime';
import type { ChatPort } from '../domain/ports.ts';

/** The chat service over NATS request/reply. */
export function natsChatPort(bus: Bus): ChatPort {
  return {
    async hasAdminMessageAfter(chatId, afterSeq) {
      // Page forward until an operator message shows up or the chat ends.
      let after = afterSeq;
      for (;;) {
        const page = await bus.request('chat.rpc.messages_after', {
          chat_id: chatId,
          after_seq: after,
          limit: 200,
        });
        if (page.messages.some((m) => m.sender_type === 'admin' && !m.internal)) return true;
        const last = page.messages.at(-1);
        if (!page.has_more || !last) return false;
        after = last.seq;
      }
    },
    claim: (chatId, upToSeq) =>
      bus.request('chat.rpc.notify_claim', { chat_id: chatId, up_to_seq: upToSeq }),
    visitorProfile: (userId) => bus.request('chat.rpc.visitor_profile', { user_id: userId }),
  };
}
