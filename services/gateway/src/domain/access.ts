import { AppError } from '@parley/contracts/errors';
import type { ChatId, UserId } from '@parley/contracts/models';
import type { Principal } from './identity.ts';

/**
 * Who may touch a chat: its own visitor or any operator. A chat's owner never changes, so
 * owners are cached; unknown and foreign chats get the same answer (no id enumeration).
 */
export class ChatAccess {
  private readonly owners = new Map<string, UserId>();
  private readonly lookupOwner: (chatId: ChatId) => Promise<UserId | null>;
  private readonly maxCached: number;

  constructor(lookupOwner: (chatId: ChatId) => Promise<UserId | null>, maxCached = 50_000) {
    this.lookupOwner = lookupOwner;
    this.maxCached = maxCached;
  }

  async ownerOf(chatId: ChatId): Promise<UserId | null> {
    const cached = this.owners.get(chatId);
    if (cached) return cached;
    const owner = await this.lookupOwner(chatId);
    if (owner) {
      if (this.owners.size >= this.maxCached) this.owners.clear();
      this.owners.set(chatId, owner);
    }
    return owner;
  }

  async canAccess(p: Principal, chatId: ChatId): Promise<boolean> {
    if (p.kind === 'operator') return (await this.ownerOf(chatId)) !== null;
    return (await this.ownerOf(chatId)) === p.user_id;
  }

  /** Throws not_found for both missing and foreign chats. */
  async assertAccess(p: Principal, chatId: ChatId): Promise<void> {
    if (!(await this.canAccess(p, chatId))) throw new AppError('not_found', 'Chat not found');
  }
}
