import { randomUUID } from 'node:crypto';
import { AppError, type CannedResponse, type OperatorId } from '@parley/contracts';
import type { Actor, RpcRequestParsed } from '@parley/contracts/nats';
import type { Clock } from './chats.ts';
import type { ChatStore } from './store.ts';

type OperatorActor = Extract<Actor, { kind: 'operator' }>;

function operatorActor(actor: Actor): OperatorActor {
  if (actor.kind !== 'operator') throw new AppError('forbidden', 'Operators only');
  return actor;
}

/**
 * Canned replies and who may do what (docs/PRODUCT.md, Canned replies): everyone reads the team
 * replies and their own personal ones; only admins create or change team replies; a personal
 * reply is its owner's alone, and to anyone else it does not exist (not_found).
 */
export class CannedReplies {
  private readonly store: ChatStore;
  private readonly clock: Clock;

  constructor(deps: { store: ChatStore; clock: Clock }) {
    this.store = deps.store;
    this.clock = deps.clock;
  }

  list(req: RpcRequestParsed<'chat.rpc.canned_list'>): Promise<CannedResponse[]> {
    return this.store.listCanned(operatorActor(req.actor).operator_id);
  }

  async create(req: RpcRequestParsed<'chat.rpc.canned_create'>): Promise<CannedResponse> {
    const actor = operatorActor(req.actor);
    if (req.body.scope === 'team' && actor.role !== 'admin')
      throw new AppError('forbidden', 'Only admins manage team replies');
    const now = this.clock.now().toISOString();
    const out = await this.store.insertCanned({
      id: randomUUID(),
      ...req.body,
      owner_id: req.body.scope === 'personal' ? actor.operator_id : null,
      created_at: now,
      updated_at: now,
    });
    if (out === 'shortcut_taken') throw shortcutTaken(req.body.shortcut);
    return out;
  }

  async update(req: RpcRequestParsed<'chat.rpc.canned_update'>): Promise<CannedResponse> {
    await this.editable(operatorActor(req.actor), req.id);
    const out = await this.store.updateCanned(req.id, {
      ...req.update,
      updated_at: this.clock.now().toISOString(),
    });
    if (out === 'shortcut_taken') throw shortcutTaken(req.update.shortcut ?? '');
    if (!out) throw new AppError('not_found', 'Canned reply not found');
    return out;
  }

  async delete(req: RpcRequestParsed<'chat.rpc.canned_delete'>): Promise<{ deleted: true }> {
    await this.editable(operatorActor(req.actor), req.id);
    if (!(await this.store.deleteCanned(req.id)))
      throw new AppError('not_found', 'Canned reply not found');
    return { deleted: true };
  }

  private async editable(actor: OperatorActor, id: string): Promise<CannedResponse> {
    const reply = await this.store.getCanned(id);
    if (!reply || !visibleTo(reply, actor.operator_id))
      throw new AppError('not_found', 'Canned reply not found');
    if (reply.scope === 'team' && actor.role !== 'admin')
      throw new AppError('forbidden', 'Only admins manage team replies');
    return reply;
  }
}

const visibleTo = (reply: CannedResponse, operatorId: OperatorId) =>
  reply.scope === 'team' || reply.owner_id === operatorId;

const shortcutTaken = (shortcut: string) =>
  new AppError('conflict', `The shortcut /${shortcut} is taken`, { shortcut: 'taken' });
