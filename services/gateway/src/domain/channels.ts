import type { ChatId, OperatorId, UserId } from '@parley/contracts/models';
import type { Principal } from './identity.ts';

/** What the registry needs to know of a connection. */
export interface Member {
  readonly id: string;
  principal: Principal;
  readonly ip: string;
}

/** Who hears a chat: its subscribers (ordered delivery) and the assigned operator's channel. */
export interface Audience<C> {
  subscribers: C[];
  /** Operator-channel connections of the operator the chat is assigned to, not also subscribed. */
  assignee: C[];
}

class Groups<C> {
  private readonly map = new Map<string, Set<C>>();
  add(key: string, conn: C): void {
    let set = this.map.get(key);
    if (!set) this.map.set(key, (set = new Set()));
    set.add(conn);
  }
  delete(key: string, conn: C): void {
    const set = this.map.get(key);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) this.map.delete(key);
  }
  get(key: string): ReadonlySet<C> {
    return this.map.get(key) ?? new Set();
  }
  has(key: string, conn: C): boolean {
    return this.map.get(key)?.has(conn) ?? false;
  }
}

/**
 * The connection registry of one gateway: every connection, the channels each joined, the open
 * connections per IP, and which operator each chat is assigned to (learnt from routing events
 * and from the operators' own sessions). `audience(chatId)` is the one answer to "who hears
 * chat X".
 */
export class Channels<C extends Member> {
  readonly all = new Set<C>();
  private readonly chats = new Groups<C>();
  private readonly admins = new Set<C>();
  private readonly operatorChannels = new Groups<C>();
  private readonly byVisitor = new Groups<C>();
  private readonly byOperator = new Groups<C>();
  private readonly perIp = new Map<string, number>();
  private readonly assignments = new Map<string, OperatorId>();

  add(conn: C): void {
    this.all.add(conn);
    this.perIp.set(conn.ip, (this.perIp.get(conn.ip) ?? 0) + 1);
    const p = conn.principal;
    if (p.kind === 'visitor') this.byVisitor.add(p.user_id, conn);
    else this.byOperator.add(p.operator_id, conn);
  }

  /** Forgets the connection everywhere; false when it was already gone. */
  remove(conn: C, chatIds: Iterable<string>): boolean {
    if (!this.all.delete(conn)) return false;
    const left = (this.perIp.get(conn.ip) ?? 1) - 1;
    if (left > 0) this.perIp.set(conn.ip, left);
    else this.perIp.delete(conn.ip);
    for (const chatId of chatIds) this.chats.delete(chatId, conn);
    this.admins.delete(conn);
    const p = conn.principal;
    if (p.kind === 'visitor') this.byVisitor.delete(p.user_id, conn);
    else {
      this.operatorChannels.delete(p.operator_id, conn);
      this.byOperator.delete(p.operator_id, conn);
    }
    return true;
  }

  connectionsFrom(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  joinChat(conn: C, chatId: ChatId): void {
    this.chats.add(chatId, conn);
  }
  leaveChat(conn: C, chatId: string): void {
    this.chats.delete(chatId, conn);
  }

  joinAdmin(conn: C): void {
    this.admins.add(conn);
  }
  leaveAdmin(conn: C): void {
    this.admins.delete(conn);
  }
  adminConnections(): ReadonlySet<C> {
    return this.admins;
  }

  joinOperatorChannel(conn: C, operatorId: OperatorId): void {
    this.operatorChannels.add(operatorId, conn);
  }
  leaveOperatorChannel(conn: C, operatorId: OperatorId): void {
    this.operatorChannels.delete(operatorId, conn);
  }
  operatorChannel(operatorId: OperatorId): ReadonlySet<C> {
    return this.operatorChannels.get(operatorId);
  }

  /** Every connection of a visitor (invitations reach all their tabs). */
  visitor(userId: UserId): ReadonlySet<C> {
    return this.byVisitor.get(userId);
  }
  /** Every connection of an operator, whatever channels it joined. */
  operator(operatorId: OperatorId): ReadonlySet<C> {
    return this.byOperator.get(operatorId);
  }

  assign(chatId: ChatId, operatorId: OperatorId): void {
    this.assignments.set(chatId, operatorId);
  }
  /** Without an operator: whoever had it. With one: only if it is still theirs. */
  unassign(chatId: ChatId, operatorId?: OperatorId): void {
    if (operatorId === undefined || this.assignments.get(chatId) === operatorId) {
      this.assignments.delete(chatId);
    }
  }

  audience(chatId: string): Audience<C> {
    const subscribers = this.chats.get(chatId);
    const operatorId = this.assignments.get(chatId);
    const assignee = operatorId
      ? [...this.operatorChannels.get(operatorId)].filter((c) => !subscribers.has(c))
      : [];
    return { subscribers: [...subscribers], assignee };
  }

  isSubscribed(conn: C, chatId: string): boolean {
    return this.chats.has(chatId, conn);
  }
}
