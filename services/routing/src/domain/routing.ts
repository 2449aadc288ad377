import {
  AppError,
  type Availability,
  type BusinessHours,
  type ChatId,
  type OnlineVisitor,
  type Operator,
  type OperatorId,
  type OperatorPresence,
  type OperatorStatus,
  type QueueEntry,
  type RoutingSession,
  type SessionRating,
  type SupportMessage,
  type UserId,
} from '@parley/contracts';
import type { OnlineVisitorsPage, OnlineVisitorsQuery } from '@parley/contracts/http';
import type { Actor, EventPayload } from '@parley/contracts/nats';
import type { Logger } from '@parley/runtime';
import type { Changes, ChatPort, Member, RoutingEvents, RoutingStore } from './ports.ts';
import { systemMessagesFor } from './system-messages.ts';
import { availabilityOf, defaultBusinessHours } from './business-hours.ts';
import { pageOfVisitors } from './visitors-page.ts';

/**
 * Who acts, with which rights, as the rule scripts take it: an admin operator and the system act
 * with admin rights (transfer or close any chat, force past capacity); an agent only on chats
 * assigned to them; a visitor only on their own chat. Whether the chat is the actor's is decided
 * by the script, against the state it changes.
 */
export function actorRights(actor: Actor): {
  kind: Actor['kind'];
  id: string;
  isAdmin: boolean;
  name: string;
} {
  if (actor.kind === 'operator') {
    return {
      kind: 'operator',
      id: actor.operator_id,
      isAdmin: actor.role === 'admin',
      name: actor.name,
    };
  }
  if (actor.kind === 'visitor')
    return { kind: 'visitor', id: actor.user_id, isAdmin: false, name: '' };
  return { kind: 'system', id: '', isAdmin: true, name: '' };
}

/**
 * Routing: operator states, the wait queue, assignment, transfer, close and invitations.
 * Every state change is one atomic store operation that also records what changed in an
 * outbox; `publish` (run by the outbox relay) announces it on routing.evt.* and records joins,
 * transfers and closes in the chat history. Online visitors are announced apart from it
 * (`announce`), one changed visitor per message.
 */
export class RoutingService {
  private readonly store: RoutingStore;
  private readonly chat: ChatPort;
  private readonly events: RoutingEvents;
  private readonly log: Logger;
  private readonly maxReplyBytes: () => number;

  constructor(deps: {
    store: RoutingStore;
    chat: ChatPort;
    events: RoutingEvents;
    logger: Logger;
    /** Largest reply one NATS message carries (the server's max_payload). */
    maxReplyBytes?: () => number;
  }) {
    this.maxReplyBytes = deps.maxReplyBytes ?? (() => 1024 * 1024);
    this.store = deps.store;
    this.chat = deps.chat;
    this.events = deps.events;
    this.log = deps.logger;
  }

  /** A message was stored: a visitor writing on a chat without an open session joins the queue. */
  async onMessageCreated(event: EventPayload<'chat.evt.message_created'>): Promise<void> {
    const { message, chat } = event;
    if (message.sender_type !== 'user') return;
    const writtenAt = new Date(message.created_at);
    const { state } = await this.availability(writtenAt);
    await this.store.openSession({
      chatId: message.chat_id,
      userId: chat.user_id,
      userName: chat.user_name,
      userEmail: chat.user_email,
      // The chat service's own preview of this (its newest) message.
      preview: chat.last_message_preview,
      seq: message.seq,
      writtenAt,
      offline: state !== 'open',
    });
  }

  async take(chatId: ChatId, operatorId: OperatorId): Promise<RoutingSession> {
    await this.ensureOperator(operatorId);
    const changes = await this.store.take(chatId, operatorId);
    return this.sessionOrThrow(chatId, changes);
  }

  async transfer(
    chatId: ChatId,
    actor: Actor,
    to: OperatorId | null,
    force: boolean,
  ): Promise<RoutingSession> {
    if (actor.kind === 'visitor') throw new AppError('forbidden', 'Visitors cannot transfer chats');
    if (to) await this.ensureOperator(to);
    const who = actorRights(actor);
    const changes = await this.store.transfer({
      chatId,
      actorOperatorId: actor.kind === 'operator' ? actor.operator_id : null,
      actorIsAdmin: who.isAdmin,
      to,
      force,
    });
    return this.sessionOrThrow(chatId, changes);
  }

  async close(chatId: ChatId, actor: Actor): Promise<RoutingSession> {
    const who = actorRights(actor);
    const changes = await this.store.close(chatId, who);
    return this.sessionOrThrow(chatId, changes);
  }

  async setStatus(operatorId: OperatorId, status: OperatorStatus): Promise<OperatorPresence> {
    await this.ensureOperator(operatorId);
    const changes = await this.store.setStatus(operatorId, status);
    return changes.result;
  }

  async businessHours(): Promise<BusinessHours> {
    return (await this.store.businessHours()) ?? defaultBusinessHours;
  }

  async setBusinessHours(hours: BusinessHours): Promise<BusinessHours> {
    await this.store.setBusinessHours(hours);
    return hours;
  }

  /** Open, closed or nobody online now: two reads, no write (the widget asks on every load). */
  async availability(now = new Date()): Promise<Availability> {
    const [hours, operators] = await Promise.all([this.businessHours(), this.store.operators()]);
    return availabilityOf(hours, operators, now);
  }

  /** The operator's account changed (capacity, name, deactivation). */
  async operatorUpdated(operator: Operator): Promise<OperatorPresence> {
    const changes = await this.store.upsertOperator(operator);
    return changes.result;
  }

  async connection(event: EventPayload<'gateway.evt.connection'>): Promise<void> {
    const { who } = event;
    if (who.kind === 'operator') {
      if (!(await this.ensureOperatorKnown(who.operator_id))) return;
      const member: Member = {
        kind: 'operator',
        id: who.operator_id,
        connectionId: event.connection_id,
      };
      this.announce(
        await this.store.connection(
          event.gateway_id,
          member,
          event.connected,
          null,
          new Date(event.at),
        ),
      );
      return;
    }
    const member: Member = {
      kind: 'visitor',
      id: who.visitor.user_id,
      connectionId: event.connection_id,
    };
    const info = event.connected
      ? { identity: who.visitor, userAgent: who.user_agent, country: who.country }
      : null;
    this.announce(
      await this.store.connection(
        event.gateway_id,
        member,
        event.connected,
        info,
        new Date(event.at),
      ),
    );
  }

  async heartbeat(event: EventPayload<'gateway.evt.heartbeat'>): Promise<void> {
    if (event.full === false) {
      await this.store.gatewayAlive(event.gateway_id);
      return;
    }
    const members: Member[] = [];
    for (const o of event.operators) {
      if (await this.ensureOperatorKnown(o.operator_id)) {
        members.push({ kind: 'operator', id: o.operator_id, connectionId: o.connection_id });
      }
    }
    for (const v of event.visitors)
      members.push({ kind: 'visitor', id: v.user_id, connectionId: v.connection_id });
    const report = event.report ? { id: event.report.id, parts: event.report.parts } : undefined;
    this.announce(
      await this.store.heartbeat(event.gateway_id, members, new Date(event.at), report),
    );
  }

  async pageView(event: EventPayload<'gateway.evt.page_view'>): Promise<void> {
    this.announce(
      await this.store.pageView(event.user_id, event.page, event.timezone, new Date(event.at)),
    );
  }

  async visitorUpdated(event: EventPayload<'chat.evt.visitor_updated'>): Promise<void> {
    this.announce(await this.store.visitorProfile(event.profile));
  }

  /** Grace periods and silent gateways; every replica calls this, each due timer fires once. */
  async tick(): Promise<void> {
    this.announce(await this.store.tick());
  }

  /** An invitation: the operator writes first to a visitor who is browsing (docs/PRODUCT.md). */
  async invite(
    operatorId: OperatorId,
    userId: UserId,
    content: string,
  ): Promise<{ chat_id: ChatId; message: SupportMessage }> {
    if (!content) throw new AppError('bad_request', 'An invitation needs a message');
    const operator = await this.ensureOperator(operatorId);
    const visitor = await this.store.visitor(userId);
    if (!visitor.identity) throw new AppError('not_found', 'This visitor is not online');
    const chatId = await this.chat.visitorChatId(visitor.identity);
    const invited = await this.store.invite({
      chatId,
      userId,
      operatorId,
      userName: visitor.identity.name,
      userEmail: visitor.identity.email,
    });
    this.announce(invited);
    const message = await this.chat.sendOperatorMessage(
      chatId,
      { id: operatorId, name: operator.name },
      content,
    );
    await this.events.publish('routing.evt.invitation', {
      user_id: userId,
      chat_id: chatId,
      operator: { id: operatorId, name: operator.name },
      message,
    });
    return { chat_id: chatId, message };
  }

  async me(
    operatorId: OperatorId,
  ): Promise<{ operator: OperatorPresence; sessions: RoutingSession[] }> {
    const operator = await this.ensureOperator(operatorId);
    const { sessions } = await this.store.operator(operatorId);
    return { operator, sessions };
  }
  queue(): Promise<QueueEntry[]> {
    return this.store.queue();
  }
  operators(): Promise<OperatorPresence[]> {
    return this.store.operators();
  }
  /** The chat's current session, with the visitor's rating once it is closed and rated. */
  async session(chatId: ChatId): Promise<RoutingSession | null> {
    const session = await this.store.session(chatId);
    if (session?.status !== 'closed') return session;
    return { ...session, rating: await this.store.rating(session.id) };
  }

  /**
   * The visitor rates a closed session of their chat, once. The console sees it live on the
   * chat (session_changed) and on every later read of the session.
   */
  async rate(
    chatId: ChatId,
    sessionId: string,
    score: SessionRating['score'],
    comment: string | null,
  ): Promise<SessionRating> {
    const session = await this.store.session(chatId);
    if (!session || session.id !== sessionId)
      throw new AppError('not_found', 'No such session on this chat');
    if (session.status !== 'closed')
      throw new AppError('conflict', 'Only a closed chat can be rated');
    const rating: SessionRating = {
      score,
      comment: comment?.trim() || null,
      rated_at: new Date().toISOString(),
    };
    if (!(await this.store.rate(sessionId, rating)))
      throw new AppError('conflict', 'This chat was rated already');
    await this.events.publish(
      'routing.evt.session_changed',
      { session: { ...session, rating } },
      `rating-${sessionId}`,
    );
    return rating;
  }
  async visitorSessions(userId: UserId): Promise<RoutingSession[]> {
    const { chatId } = await this.store.visitor(userId);
    const session = chatId ? await this.store.session(chatId) : null;
    return session ? [session] : [];
  }
  onlineVisitors(): Promise<OnlineVisitor[]> {
    return this.store.onlineVisitors();
  }
  async onlineVisitorsPage(query: OnlineVisitorsQuery): Promise<OnlineVisitorsPage> {
    return pageOfVisitors(await this.store.onlineVisitors(), query, this.maxReplyBytes());
  }
  onlineVisitor(userId: UserId): Promise<OnlineVisitor | null> {
    return this.store.onlineVisitor(userId);
  }

  /**
   * Tells the gateways (for the consoles) which online visitors changed, one message each:
   * their number never sizes a message, and presence never waits in the outbox.
   */
  private announce(changes: Changes<unknown>): void {
    const at = new Date().toISOString();
    for (const { userId, visitor } of changes.visitors) {
      try {
        this.events.presence({ user_id: userId, visitor, online: changes.visitorsOnline, at });
      } catch (err) {
        // Ephemeral: a console that missed it reloads its page of the list.
        this.log.warn({ err, user_id: userId }, 'visitor presence not published');
      }
    }
  }

  /** Routing reads operator accounts from the chat service the first time it meets them. */
  private async ensureOperator(operatorId: OperatorId): Promise<OperatorPresence> {
    const known = await this.store.operator(operatorId);
    if (known.operator) return known.operator;
    const account = await this.chat.getOperator(operatorId);
    if (!account) throw new AppError('not_found', 'Unknown operator');
    return this.operatorUpdated(account);
  }

  private async ensureOperatorKnown(operatorId: OperatorId): Promise<boolean> {
    if (await this.store.hasOperator(operatorId)) return true;
    try {
      await this.ensureOperator(operatorId);
      return true;
    } catch (err) {
      // The next heartbeat lists the connection again, so nothing is lost by skipping it now.
      this.log.warn(
        { err, operatorId },
        'connection of an operator whose account cannot be read yet',
      );
      return false;
    }
  }

  private sessionOrThrow(chatId: ChatId, changes: Changes<unknown>): RoutingSession {
    const session = changes.sessions.find((s) => s.chat_id === chatId);
    if (!session) throw new AppError('internal', 'The changed session was not returned');
    return session;
  }

  /**
   * Publishes what one state change did, in an order a reader can follow. Called by the outbox
   * relay (one replica at a time), never by the operation itself, so nothing is lost in a crash.
   * Online visitors are not part of it: they are announced when they change (`announce`).
   */
  async publish(changes: Changes<unknown>, entryId: string): Promise<void> {
    let n = 0;
    const emit: RoutingEvents['publish'] = (subject, payload) =>
      this.events.publish(subject, payload, `${entryId}:${n++}`);
    const sessionsByChat = new Map(changes.sessions.map((s) => [s.chat_id, s]));
    for (const u of changes.unassigned) {
      await emit('routing.evt.unassigned', {
        chat_id: u.chatId,
        operator_id: u.operatorId,
        reason: u.reason,
      });
    }
    for (const a of changes.assigned) {
      const session = sessionsByChat.get(a.chatId);
      if (!session) continue;
      const user = changes.sessionUsers.get(a.chatId);
      await emit('routing.evt.assigned', {
        session,
        operator_id: a.operatorId,
        reason: a.reason,
        from_operator: a.from,
        user_name: user?.name ?? null,
        user_email: user?.email ?? null,
      });
    }
    for (const session of changes.sessions) await emit('routing.evt.session_changed', { session });
    if (changes.queue) await emit('routing.evt.queue_changed', { queue: changes.queue });
    for (const operator of changes.operators)
      await emit('routing.evt.operator_changed', { operator });
    for (const { chatId, text, event } of systemMessagesFor(changes)) {
      try {
        await this.chat.sendSystemMessage(chatId, text, event);
      } catch (err) {
        // Routing state is already committed; the history line is the only thing missing.
        this.log.warn({ err, chatId }, 'could not record a system message');
      }
    }
  }
}
