import type {
  BusinessHours,
  ChatId,
  OnlineVisitor,
  Operator,
  OperatorId,
  OperatorPresence,
  OperatorStatus,
  PageInfo,
  QueueEntry,
  RoutingSession,
  SessionRating,
  SupportMessage,
  SystemEvent,
  UserId,
  VisitorProfile,
} from '@parley/contracts';
import type { Actor, EventPayload, EventSubject, VisitorIdentity } from '@parley/contracts/nats';
import type { AssignmentReason, UnassignReason } from '@parley/contracts/ws';

export type RoutingEventSubject = Extract<EventSubject, `routing.evt.${string}`>;

/** One chat handed to an operator by a state change. */
export interface Assignment {
  chatId: ChatId;
  operatorId: OperatorId;
  operatorName: string;
  reason: AssignmentReason;
  from: { id: OperatorId; name: string } | null;
}

/** One chat taken away from an operator by a state change. */
export interface Unassignment {
  chatId: ChatId;
  operatorId: OperatorId;
  operatorName: string;
  reason: UnassignReason;
  toQueue: boolean;
}

export interface Closing {
  chatId: ChatId;
  byKind: Actor['kind'];
  byName: string;
}

/** Everything one atomic state change did, for the service to announce. */
export interface Changes<R> {
  result: R;
  assigned: Assignment[];
  unassigned: Unassignment[];
  closed: Closing[];
  /** Sessions that changed, including waiting sessions whose queue position moved. */
  sessions: RoutingSession[];
  /** Session owner details, for the assignment notice. */
  sessionUsers: Map<string, { name: string | null; email: string | null }>;
  operators: OperatorPresence[];
  /** The whole queue, present when it changed. */
  queue: QueueEntry[] | null;
  /** Online visitors that changed; `visitor: null` when they left. Not part of the outbox. */
  visitors: Array<{ userId: UserId; visitor: OnlineVisitor | null }>;
  /** How many visitors browse now (when `visitors` is not empty). */
  visitorsOnline: number;
}

export interface VisitorConnectionInfo {
  identity: VisitorIdentity;
  userAgent: string | null;
  country: string | null;
}

/** Connection of one WebSocket on one gateway. */
export type Member =
  | { kind: 'operator'; id: OperatorId; connectionId: string }
  | { kind: 'visitor'; id: UserId; connectionId: string };

/**
 * The rule engine: routing state in Redis and the rules that change it. Each change method runs
 * one Lua script of src/rules/ (capacity, who may take, transfer or close, queue order,
 * assignment, presence timers); Redis runs a script as one indivisible step, so a rule and the
 * change it allows cannot be split by another replica. The scripts are the routing rules
 * (docs/PRODUCT.md, Operators and routing); the domain decides what needs no state (see
 * actorRights in routing.ts) and invokes the rest here.
 */
export interface RoutingStore {
  openSession(input: {
    chatId: ChatId;
    userId: UserId;
    userName: string | null;
    userEmail: string | null;
    preview: string | null;
    seq: number;
    writtenAt: Date;
    /** Written while closed or nobody online: a new session is marked an offline message. */
    offline: boolean;
  }): Promise<Changes<{ opened: boolean; duplicate: boolean }>>;
  take(chatId: ChatId, operatorId: OperatorId): Promise<Changes<true>>;
  transfer(input: {
    chatId: ChatId;
    actorOperatorId: OperatorId | null;
    actorIsAdmin: boolean;
    to: OperatorId | null;
    force: boolean;
  }): Promise<Changes<true>>;
  close(
    chatId: ChatId,
    actor: { kind: Actor['kind']; id: string; isAdmin: boolean; name: string },
  ): Promise<Changes<true>>;
  setStatus(operatorId: OperatorId, status: OperatorStatus): Promise<Changes<OperatorPresence>>;
  upsertOperator(operator: Operator): Promise<Changes<OperatorPresence>>;
  hasOperator(operatorId: OperatorId): Promise<boolean>;
  /** `at`: the gateway's time of the event (orders it against that gateway's heartbeats). */
  connection(
    gatewayId: string,
    member: Member,
    connected: boolean,
    visitor: VisitorConnectionInfo | null,
    at: Date,
  ): Promise<Changes<boolean>>;
  /** `report`: this list is one of `parts` sharing `id` (reconciled when all arrived). */
  heartbeat(
    gatewayId: string,
    members: Member[],
    at: Date,
    report?: { id: string; parts: number },
  ): Promise<Changes<true>>;
  /** A heartbeat without the list: only keeps the gateway from being presumed dead. */
  gatewayAlive(gatewayId: string): Promise<void>;
  tick(): Promise<Changes<true>>;
  invite(input: {
    chatId: ChatId;
    userId: UserId;
    operatorId: OperatorId;
    userName: string | null;
    userEmail: string | null;
  }): Promise<Changes<true>>;
  /** Name/email changed in the chat store: the online list and the queue show the new ones. */
  visitorProfile(profile: VisitorProfile): Promise<Changes<boolean>>;
  pageView(
    userId: UserId,
    page: PageInfo,
    timezone: string | null,
    at: Date,
  ): Promise<Changes<boolean>>;
  session(chatId: ChatId): Promise<RoutingSession | null>;
  queue(): Promise<QueueEntry[]>;
  operators(): Promise<OperatorPresence[]>;
  operator(
    operatorId: OperatorId,
  ): Promise<{ operator: OperatorPresence | null; sessions: RoutingSession[] }>;
  onlineVisitors(): Promise<OnlineVisitor[]>;
  /** One visitor if browsing now. */
  onlineVisitor(userId: UserId): Promise<OnlineVisitor | null>;
  visitor(userId: UserId): Promise<{ chatId: ChatId | null; identity: VisitorIdentity | null }>;
  /** The stored opening hours, or null when an admin never set them. */
  businessHours(): Promise<BusinessHours | null>;
  setBusinessHours(hours: BusinessHours): Promise<void>;
  /** Records a session's rating unless it has one: false when it was rated already. */
  rate(sessionId: string, rating: SessionRating): Promise<boolean>;
  rating(sessionId: string): Promise<SessionRating | null>;
  /** Changes recorded atomically with each state change, relayed to NATS in order. */
  outbox: {
    /** Takes or renews the single relay lease. */
    lease(holder: string, ttlMs: number): Promise<boolean>;
    release(holder: string): Promise<void>;
    /** Id of the last relayed entry. */
    cursor(): Promise<string>;
    read(after: string, blockMs: number): Promise<Array<{ id: string; changes: Changes<unknown> }>>;
    /** Marks an entry relayed; false when the lease was lost meanwhile. */
    advance(holder: string, entryId: string, ttlMs: number): Promise<boolean>;
  };
  disconnect(): Promise<void>;
}

/** The chat service: store of record for messages and operator accounts. */
export interface ChatPort {
  getOperator(id: OperatorId): Promise<Operator | null>;
  visitorChatId(visitor: VisitorIdentity): Promise<ChatId>;
  sendSystemMessage(chatId: ChatId, text: string, event: SystemEvent): Promise<void>;
  sendOperatorMessage(
    chatId: ChatId,
    operator: { id: OperatorId; name: string },
    content: string,
  ): Promise<SupportMessage>;
}

/**
 * Durable routing.evt.* publication; msgId lets JetStream drop a resent duplicate. Presence
 * changes go on core NATS, one visitor per message, outside the routing event queue.
 */
export interface RoutingEvents {
  presence(payload: EventPayload<'routing.presence.visitor'>): void;
  publish<S extends RoutingEventSubject>(
    subject: S,
    payload: EventPayload<S>,
    msgId?: string,
  ): Promise<void>;
}
