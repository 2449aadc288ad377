import { randomUUID } from 'node:crypto';
import { AppError, type Operator, type OperatorId } from '@parley/contracts';
import type { CreateOperatorRequest, UpdateOperatorRequest } from '@parley/contracts/http';
import type { Clock, EventPublisher } from './chats.ts';
import { hashPassword, unknownAccountHash, verifyPassword } from './passwords.ts';
import { toOperator } from './projections.ts';
import type { ChatStore } from './store.ts';

/** Operator accounts over the chat store; every change is published as operator_changed. */
export class OperatorAccounts {
  private readonly store: ChatStore;
  private readonly events: EventPublisher;
  private readonly clock: Clock;

  constructor(deps: { store: ChatStore; events: EventPublisher; clock: Clock }) {
    this.store = deps.store;
    this.events = deps.events;
    this.clock = deps.clock;
  }

  private nowIso(): string {
    return this.clock.now().toISOString();
  }

  /**
   * Null for an unknown email, a wrong password or a deactivated account: one answer in the same
   * scrypt time, so nothing about accounts can be probed (the gateway's test expects 401 for all).
   */
  async authenticateOperator(email: string, password: string): Promise<Operator | null> {
    const record = await this.store.getOperatorByEmail(email.trim().toLowerCase());
    if (!record) {
      await verifyPassword(password, await unknownAccountHash());
      return null;
    }
    const ok = await verifyPassword(password, record.password_hash);
    return ok && record.active ? toOperator(record) : null;
  }

  async getOperator(id: OperatorId): Promise<Operator | null> {
    const record = await this.store.getOperator(id);
    return record ? toOperator(record) : null;
  }

  async listOperators(): Promise<Operator[]> {
    return (await this.store.listOperators()).map(toOperator);
  }

  async createOperator(req: CreateOperatorRequest): Promise<Operator> {
    const created = await this.store.createOperator({
      id: randomUUID() as OperatorId,
      email: req.email.trim().toLowerCase(),
      name: req.name,
      role: req.role,
      max_chats: req.max_chats,
      active: true,
      created_at: this.nowIso(),
      password_hash: await hashPassword(req.password),
    });
    if (created === 'email_taken') {
      throw new AppError('conflict', 'An operator with this email already exists', {
        email: 'taken',
      });
    }
    const operator = toOperator(created);
    await this.events.publish(
      'chat.evt.operator_changed',
      { operator },
      `operator:${operator.id}:created`,
    );
    return operator;
  }

  async updateOperator(id: OperatorId, update: UpdateOperatorRequest): Promise<Operator> {
    const { password, ...rest } = update;
    const record = await this.store.updateOperator(id, {
      ...rest,
      ...(password ? { password_hash: await hashPassword(password) } : {}),
    });
    if (!record) throw new AppError('not_found', 'Operator not found');
    const operator = toOperator(record);
    await this.events.publish(
      'chat.evt.operator_changed',
      { operator },
      `operator:${id}:${randomUUID()}`,
    );
    return operator;
  }

  /** ADMIN_EMAIL/ADMIN_PASSWORD: the first admin exists after start. Never overwrites an existing account. */
  async bootstrapAdmin(input: {
    email: string;
    password: string;
    name: string;
  }): Promise<'created' | 'exists'> {
    const email = input.email.trim().toLowerCase();
    if (await this.store.getOperatorByEmail(email)) return 'exists';
    try {
      await this.createOperator({
        email,
        name: input.name,
        password: input.password,
        role: 'admin',
        max_chats: 5,
      });
      return 'created';
    } catch (e) {
      // Another replica created it at the same moment.
      if (e instanceof AppError && e.code === 'conflict') return 'exists';
      throw e;
    }
  }
}
