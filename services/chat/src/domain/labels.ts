import { randomUUID } from 'node:crypto';
import { AppError, type ChatId, type Label, type SupportChatListItem } from '@parley/contracts';
import type { RpcRequestParsed } from '@parley/contracts/nats';
import type { Clock, EventPublisher } from './chats.ts';
import { toListItem } from './projections.ts';
import type { ChatStore } from './store.ts';

/**
 * Labels (docs/PRODUCT.md, Labels): admins manage the set (the gateway checks the role);
 * operators set a chat's labels, which every console sees live (chat_labels_changed).
 */
export class ChatLabels {
  private readonly store: ChatStore;
  private readonly clock: Clock;
  private readonly events: EventPublisher;

  constructor(deps: { store: ChatStore; clock: Clock; events: EventPublisher }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.events = deps.events;
  }

  list(): Promise<Label[]> {
    return this.store.listLabels();
  }

  async create(req: RpcRequestParsed<'chat.rpc.label_create'>): Promise<Label> {
    const out = await this.store.insertLabel({
      id: randomUUID(),
      name: req.name,
      color: req.color,
      created_at: this.clock.now().toISOString(),
    });
    if (out === 'name_taken')
      throw new AppError('conflict', `A label named ${req.name} exists`, { name: 'taken' });
    return out;
  }

  async delete(id: string): Promise<{ deleted: true }> {
    if (!(await this.store.deleteLabel(id))) throw new AppError('not_found', 'Label not found');
    return { deleted: true };
  }

  /** Replaces the chat's labels; every id must name an existing label (each kept once). */
  async setOnChat(chatId: ChatId, ids: string[]): Promise<SupportChatListItem> {
    const known = new Set((await this.store.listLabels()).map((l) => l.id));
    const labels = [...new Set(ids)];
    const unknown = labels.find((id) => !known.has(id));
    if (unknown)
      throw new AppError('bad_request', `Unknown label ${unknown}`, { labels: 'unknown label' });
    const now = this.clock.now().toISOString();
    const chat = await this.store.setChatLabels(chatId, labels, now);
    if (!chat) throw new AppError('not_found', 'Chat not found');
    const item = toListItem(chat);
    await this.events.publish(
      'chat.evt.chat_labels_changed',
      { chat: item },
      `labels:${chatId}:${now}:${randomUUID()}`,
    );
    return item;
  }
}
