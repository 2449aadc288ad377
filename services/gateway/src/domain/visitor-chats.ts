import type { ChatId, UserId } from '@parley/contracts/models';
import type { VisitorIdentity } from '@parley/contracts/nats';

/**
 * Each visitor has one chat whose id never changes: learnt once (from the chat service's
 * visitor_chat, which creates it on first use), then kept, so the visitor's REST calls do not
 * ask the chat service for it every time.
 */
export class VisitorChats {
  private readonly ids = new Map<string, ChatId>();

  private readonly lookup: (visitor: VisitorIdentity) => Promise<ChatId>;
  private readonly maxCached: number;

  constructor(lookup: (visitor: VisitorIdentity) => Promise<ChatId>, maxCached = 100_000) {
    this.lookup = lookup;
    this.maxCached = maxCached;
  }

  async chatIdOf(visitor: VisitorIdentity): Promise<ChatId> {
    const cached = this.ids.get(visitor.user_id);
    if (cached) return cached;
    const chatId = await this.lookup(visitor);
    this.remember(visitor.user_id, chatId);
    return chatId;
  }

  remember(userId: UserId, chatId: ChatId): void {
    if (this.ids.size >= this.maxCached) this.ids.clear();
    this.ids.set(userId, chatId);
  }
}
