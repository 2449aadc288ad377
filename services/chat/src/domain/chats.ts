import { randomUUID } from 'node:crypto';
import {
  AppError,
  type AdminSupportChat,
  type Attachment,
  type AttachmentId,
  type ChatId,
  type MessageId,
  type NoteMention,
  type OperatorId,
  type SupportChat,
  type SupportChatListItem,
  type SupportMessage,
  type UserId,
  type VisitorProfile,
} from '@parley/contracts';
import type { VisitorProfileUpdate } from '@parley/contracts/http';
import type {
  EventPayload,
  EventSubject,
  RpcRequestParsed,
  RpcResponse,
  VisitorIdentity,
} from '@parley/contracts/nats';
import { OperatorAccounts } from './operators.ts';
import { decodeCursor, encodeCursor, messagePreview, toListItem } from './projections.ts';
import { attachmentClaim, publicAttachment } from './rules.ts';
import { CannedReplies } from './canned.ts';
import { ChatLabels } from './labels.ts';
import { mentionedOperators } from './mentions.ts';
import type { AttachmentRecord, ChatRecord, ChatStore, MessageAudience } from './store.ts';

/** Publishes a fact once the write that made it is durable (bus.publishDurable in production). */
export interface EventPublisher {
  publish<S extends EventSubject>(
    subject: S,
    payload: EventPayload<S>,
    msgId: string,
  ): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * The chat service's operations (docs/PRODUCT.md, Chats and messages), over a ChatStore. Every change
 * publishes its event after the store call returned, i.e. after the write is durable.
 */
export class ChatDomain {
  readonly store: ChatStore;
  private readonly events: EventPublisher;
  private readonly clock: Clock;

  /** Operator accounts: sign-in, creation, updates, the bootstrapped admin. */
  readonly operators: OperatorAccounts;
  /** Team and personal canned replies. */
  readonly canned: CannedReplies;
  /** The label set and chats' labels. */
  readonly labels: ChatLabels;

  constructor(deps: { store: ChatStore; events: EventPublisher; clock?: Clock }) {
    this.store = deps.store;
    this.events = deps.events;
    this.clock = deps.clock ?? systemClock;
    this.operators = new OperatorAccounts({ ...deps, clock: this.clock });
    this.canned = new CannedReplies({ store: this.store, clock: this.clock });
    this.labels = new ChatLabels({ store: this.store, clock: this.clock, events: this.events });
  }

  private nowIso(): string {
    return this.clock.now().toISOString();
  }

  // ---------------------------------------------------------------- visitors

  /** Applies what the gateway knows of the visitor: the host site's data is authoritative for identified users. */
  private async syncVisitor(visitor: VisitorIdentity): Promise<VisitorProfile> {
    const given = {
      ...(visitor.name ? { name: visitor.name } : {}),
      ...(visitor.email ? { email: visitor.email } : {}),
    };
    // Most page loads change nothing: skip the write (and, on SQLite, the write lock).
    const current = await this.store.getVisitor(visitor.user_id);
    if (current) {
      const unchanged = visitor.identified
        ? current.identified &&
          (given.name === undefined || given.name === current.name) &&
          (given.email === undefined || given.email === current.email)
        : (given.name === undefined || current.name !== null) &&
          (given.email === undefined || current.email !== null);
      if (unchanged) return current;
    }
    return this.store.upsertVisitor(
      visitor.identified
        ? { user_id: visitor.user_id, set: { ...given, identified: true }, now: this.nowIso() }
        : { user_id: visitor.user_id, set: {}, fillOnly: given, now: this.nowIso() },
    );
  }

  /** GET /api/support_chat: the user's chat, created on first use, with its newest messages. */
  async visitorChat(req: RpcRequestParsed<'chat.rpc.visitor_chat'>): Promise<SupportChat> {
    const profile = await this.syncVisitor(req.visitor);
    const chat = await this.store.getOrCreateChat({
      id: randomUUID() as ChatId,
      user_id: req.visitor.user_id,
      now: this.nowIso(),
    });
    const page = await this.store.messagesBefore(chat.id, null, req.limit, 'visitor');
    return {
      id: chat.id,
      messages: page.messages,
      has_more_before: page.has_more,
      last_seq: chat.last_seq,
      user: profile,
    };
  }

  async updateVisitor(userId: UserId, update: VisitorProfileUpdate): Promise<VisitorProfile> {
    const profile = await this.store.upsertVisitor({
      user_id: userId,
      set: update,
      now: this.nowIso(),
    });
    await this.events.publish(
      'chat.evt.visitor_updated',
      { profile },
      `visitor_updated:${userId}:${randomUUID()}`,
    );
    return profile;
  }

  visitorProfile(userId: UserId): Promise<VisitorProfile | null> {
    return this.store.getVisitor(userId);
  }

  async unsubscribe(userId: UserId): Promise<VisitorProfile> {
    const before = await this.store.getVisitor(userId);
    const profile = await this.store.upsertVisitor({
      user_id: userId,
      set: { unsubscribed: true },
      now: this.nowIso(),
    });
    if (!before?.unsubscribed) {
      await this.events.publish('chat.evt.visitor_updated', { profile }, `unsubscribed:${userId}`);
    }
    return profile;
  }

  async chatOwner(chatId: ChatId): Promise<{ chat_id: ChatId; user_id: UserId } | null> {
    const chat = await this.store.getChat(chatId);
    return chat ? { chat_id: chat.id, user_id: chat.user_id } : null;
  }

  // ---------------------------------------------------------------- messages

  /**
   * Appends a message with what follows from it: last_message_at, auto-unarchive on a user
   * message, then the broadcast. A resend (same client_id) returns the stored message and
   * broadcasts nothing, unless its first broadcast was never confirmed (then it is retried with
   * the same JetStream msgId, so subscribers still see it once).
   */
  async sendMessage(
    req: RpcRequestParsed<'chat.rpc.send_message'>,
  ): Promise<RpcResponse<'chat.rpc.send_message'>> {
    if (req.content.length === 0 && req.attachment_ids.length === 0) {
      throw new AppError('bad_request', 'Invalid request: content must not be blank', {
        content: 'must not be blank',
      });
    }
    if (req.event && req.sender_type !== 'system') {
      throw new AppError('bad_request', 'Invalid request: only system messages carry an event', {
        event: 'only on system messages',
      });
    }
    if (req.internal && req.sender_type !== 'admin') {
      throw new AppError('forbidden', 'Only operators write internal notes');
    }
    if (req.internal && req.attachment_ids.length > 0) {
      throw new AppError('bad_request', 'Invalid request: internal notes carry text only', {
        attachment_ids: 'not on internal notes',
      });
    }
    const internal = req.internal
      ? {
          mentions: mentionedOperators(
            req.content,
            await this.store.listOperators(),
            req.sender_id,
          ),
        }
      : undefined;
    const attachmentIds = [...new Set(req.attachment_ids)];
    const attachments: AttachmentRecord[] = [];
    for (const id of attachmentIds) {
      const record = await this.store.getAttachment(id);
      // Checked here too: the preview needs the attachments before the store's atomic claim.
      if (!record || attachmentClaim(record, req.chat_id, null).kind === 'foreign') {
        throw new AppError('bad_request', `Attachment ${id} does not belong to this chat`, {
          attachment_ids: 'unknown attachment',
        });
      }
      attachments.push(record);
    }
    const result = await this.store.appendMessage({
      id: randomUUID() as MessageId,
      chat_id: req.chat_id,
      content: req.content,
      sender_type: req.sender_type,
      sender_id: req.sender_id,
      sender_name: req.sender_name,
      client_id: req.client_id,
      attachment_ids: attachmentIds,
      ...(req.event ? { event: req.event } : {}),
      ...(internal ? { internal } : {}),
      preview: messagePreview(req.content, attachments),
      unarchive: req.sender_type === 'user',
      now: this.nowIso(),
    });
    if ('error' in result) {
      if (result.error === 'chat_not_found') throw new AppError('not_found', 'Chat not found');
      throw new AppError('bad_request', `Attachment ${result.attachment_id} ${result.reason}`, {
        attachment_ids: result.reason,
      });
    }
    // Before the broadcast, so a colleague told of the mention finds it in their Mentions view.
    if (result.message.internal) await this.store.recordMentions(result.message);
    if (result.duplicate) {
      if (!result.published) await this.publishMessage(result.message, toListItem(result.chat));
      return { message: result.message, duplicate: true };
    }
    const item = toListItem(result.chat);
    await this.publishMessage(result.message, item);
    if (result.unarchived) {
      await this.events.publish(
        'chat.evt.chat_unarchived',
        { chat: item },
        `unarchived:${result.message.id}`,
      );
    }
    return { message: result.message, duplicate: false };
  }

  private async publishMessage(message: SupportMessage, chat: SupportChatListItem): Promise<void> {
    await this.events.publish(
      'chat.evt.message_created',
      { message, chat },
      `message:${message.id}`,
    );
    await this.store.markPublished(message.id);
  }

  /**
   * Outbox relay: publishes message events whose publish was never confirmed (a crash or a NATS
   * outage between commit and publish). `minAgeMs` leaves alone messages whose own request may
   * still be publishing them; a second copy would be dropped by JetStream's msgId dedupe anyway.
   */
  async republishPending(opts: { limit?: number; minAgeMs?: number } = {}): Promise<number> {
    const createdBefore =
      opts.minAgeMs === undefined
        ? null
        : new Date(this.clock.now().getTime() - opts.minAgeMs).toISOString();
    const pending = await this.store.unpublishedMessages(opts.limit ?? 500, createdBefore);
    for (const message of pending) {
      const chat = await this.store.getChat(message.chat_id);
      if (chat) await this.publishMessage(message, toListItem(chat));
    }
    return pending.length;
  }

  /** PATCH /api/support_chat/mark_read. */
  async markRead(chatId: ChatId): Promise<RpcResponse<'chat.rpc.mark_read'>> {
    const now = this.nowIso();
    const result = await this.store.markRead(chatId, now);
    if (!result) throw new AppError('not_found', 'Chat not found');
    if (result.count > 0) {
      await this.events.publish(
        'chat.evt.chat_read',
        {
          chat_id: chatId,
          user_id: result.chat.user_id,
          read_at: now,
          up_to_seq: result.up_to_seq,
          chat: toListItem(result.chat),
        },
        `read:${chatId}:${result.up_to_seq}:${now}`,
      );
    }
    return {
      chat_id: chatId,
      read_at: result.count > 0 ? now : null,
      count: result.count,
      up_to_seq: result.up_to_seq,
    };
  }

  private async requireChat(chatId: ChatId): Promise<ChatRecord> {
    const chat = await this.store.getChat(chatId);
    if (!chat) throw new AppError('not_found', 'Chat not found');
    return chat;
  }

  /** Internal notes only for `operator` readers: the visitor's paths never ask for them. */
  async messagesAfter(chatId: ChatId, afterSeq: number, limit: number, audience: MessageAudience) {
    const chat = await this.requireChat(chatId);
    const page = await this.store.messagesAfter(chatId, afterSeq, limit, audience);
    return { messages: page.messages, has_more: page.has_more, last_seq: chat.last_seq };
  }

  async messagesBefore(
    chatId: ChatId,
    beforeSeq: number,
    limit: number,
    audience: MessageAudience,
  ) {
    const chat = await this.requireChat(chatId);
    const page = await this.store.messagesBefore(chatId, beforeSeq, limit, audience);
    return { messages: page.messages, has_more: page.has_more, last_seq: chat.last_seq };
  }

  // ---------------------------------------------------------------- console

  /** GET /api/admin/chats: by last_message_at desc (id desc breaks ties), cursor-paged. */
  async listChats(
    req: RpcRequestParsed<'chat.rpc.list_chats'>,
  ): Promise<RpcResponse<'chat.rpc.list_chats'>> {
    const after = req.cursor ? decodeCursor(req.cursor) : null;
    const rows = await this.store.listChats({
      archived: req.archived,
      after,
      limit: req.limit + 1,
      ...(req.label ? { label: req.label } : {}),
    });
    const page = rows.slice(0, req.limit);
    const last = page.at(-1);
    const next =
      rows.length > req.limit && last?.last_message_at
        ? encodeCursor({ last_message_at: last.last_message_at, id: last.id })
        : null;
    return { items: page.map(toListItem), next_cursor: next };
  }

  async chatSummary(chatId: ChatId): Promise<SupportChatListItem | null> {
    const chat = await this.store.getChat(chatId);
    return chat ? toListItem(chat) : null;
  }

  /** GET /api/admin/chats/:id: the chat with its newest messages; opening it marks it viewed. */
  async adminChat(req: RpcRequestParsed<'chat.rpc.admin_chat'>): Promise<AdminSupportChat> {
    let chat = await this.requireChat(req.chat_id);
    if (req.viewer) chat = await this.markViewedChat(chat, req.viewer);
    const page = await this.store.messagesBefore(chat.id, null, req.limit, 'operator');
    return {
      id: chat.id,
      user_id: chat.user_id,
      user_email: chat.user_email,
      user_name: chat.user_name,
      identified: chat.identified,
      archived: chat.archived_at !== null,
      admin_viewed_at: chat.admin_viewed_at,
      created_at: chat.created_at,
      last_seq: chat.last_seq,
      has_more_before: page.has_more,
      messages: page.messages,
    };
  }

  /** The notes mentioning the operator, newest first; unread until they open the chat. */
  async mentionsOf(operatorId: OperatorId, limit: number): Promise<NoteMention[]> {
    const entries = await this.store.mentionsOf(operatorId, limit);
    return entries.map((e) => ({ chat_id: e.note.chat_id, note: e.note, seen_at: e.seen_at }));
  }

  /** The operator is looking at the chat: its visitor messages so far are no longer unread. */
  async markViewed(req: RpcRequestParsed<'chat.rpc.mark_viewed'>): Promise<SupportChatListItem> {
    const chat = await this.requireChat(req.chat_id);
    return toListItem(await this.markViewedChat(chat, req.operator_id));
  }

  private async markViewedChat(chat: ChatRecord, viewer: OperatorId): Promise<ChatRecord> {
    const now = this.nowIso();
    const viewed = (await this.store.markViewed(chat.id, now)) ?? chat;
    await this.store.markMentionsSeen(viewer, chat.id, now);
    await this.events.publish(
      'chat.evt.chat_viewed',
      { chat_id: viewed.id, operator_id: viewer, viewed_at: now, chat: toListItem(viewed) },
      `viewed:${viewed.id}:${viewer}:${now}`,
    );
    return viewed;
  }

  async setArchived(chatId: ChatId, archived: boolean): Promise<SupportChatListItem> {
    const result = await this.store.setArchived(chatId, archived, this.nowIso());
    if (!result) throw new AppError('not_found', 'Chat not found');
    const item = toListItem(result.chat);
    if (result.changed) {
      const subject = archived ? 'chat.evt.chat_archived' : 'chat.evt.chat_unarchived';
      await this.events.publish(
        subject,
        { chat: item },
        `${subject}:${chatId}:${result.chat.updated_at}`,
      );
    }
    return item;
  }

  // ---------------------------------------------------------------- attachments & notify

  async attachmentGet(id: AttachmentId): Promise<(Attachment & { chat_id: ChatId }) | null> {
    const record = await this.store.getAttachment(id);
    return record ? { ...publicAttachment(record), chat_id: record.chat_id } : null;
  }

  /** The unread-reply email's exactly-once claim (called by the notify job when it fires). */
  async notifyClaim(
    chatId: ChatId,
    upToSeq: number,
  ): Promise<RpcResponse<'chat.rpc.notify_claim'>> {
    const outcome = await this.store.notifyClaim(chatId, upToSeq);
    const profile = outcome.chat ? await this.store.getVisitor(outcome.chat.user_id) : null;
    const chat = outcome.chat ? toListItem(outcome.chat) : null;
    if (outcome.claimed)
      return { claimed: true, reason: null, chat, profile, unread: outcome.unread };
    return { claimed: false, reason: outcome.reason, chat, profile, unread: [] };
  }
}
