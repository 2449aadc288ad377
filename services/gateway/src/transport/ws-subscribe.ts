import { AppError } from '@parley/contracts/errors';
import type { ChatId } from '@parley/contracts/models';
import type { SubscribeFrame } from '@parley/contracts/ws';
import { ChatDelivery } from '../domain/delivery.ts';
import type { Connection } from './connection.ts';
import type { FrameDeps } from './ws-frames.ts';

/**
 * Channel subscriptions: a chat (resume by seq, then the session's state for visitors), the
 * admin channel, and an operator's own channel (their assignments first, then live events).
 */
export function createSubscriptions(deps: FrameDeps) {
  const { cfg, rpc, access, channels } = deps;
  const { send } = deps.sender;

  function unsubscribeChat(conn: Connection, chatId: string): void {
    const sub = conn.chats.get(chatId);
    if (!sub) return;
    sub.close();
    conn.chats.delete(chatId);
    conn.liveSessionStatus.delete(chatId);
    channels.leaveChat(conn, chatId);
  }

  async function subscribeOperator(conn: Connection): Promise<void> {
    const p = conn.principal;
    if (p.kind !== 'operator') {
      send(conn, { type: 'rejected', channel: 'operator', reason: 'Operators only' });
      return;
    }
    // Registered first, live frames held back: the snapshot goes out, then what happened since.
    conn.operatorChannel = true;
    conn.operatorBacklog ??= [];
    channels.joinOperatorChannel(conn, p.operator_id);
    let sessions;
    try {
      const me = await rpc('routing.rpc.me', { operator_id: p.operator_id });
      sessions = me.sessions.filter(
        (s) => s.status === 'active' && s.operator?.id === p.operator_id,
      );
      for (const s of sessions) channels.assign(s.chat_id, p.operator_id);
    } catch (err) {
      deps.log.warn(
        { err },
        'could not load the operator’s sessions; assignments follow routing events',
      );
    }
    send(conn, {
      type: 'subscribed',
      channel: 'operator',
      ...(sessions ? { sessions } : {}),
    });
    const backlog = conn.operatorBacklog;
    conn.operatorBacklog = null;
    for (const frame of backlog) send(conn, frame);
  }

  async function subscribeChat(conn: Connection, chatId: ChatId, afterSeq: number | undefined) {
    const reject = (reason: string) =>
      send(conn, { type: 'rejected', channel: 'chat', chat_id: chatId, reason });
    let allowed: boolean;
    try {
      allowed = await access.canAccess(conn.principal, chatId);
    } catch (err) {
      return reject(err instanceof AppError ? err.message : 'Internal error');
    }
    if (!allowed) return reject('Chat not found or not yours');
    unsubscribeChat(conn, chatId);
    const sub = new ChatDelivery(chatId, afterSeq ?? null, {
      fetchAfter: deps.fetchAfter,
      includeInternal: conn.principal.kind === 'operator',
      emit: (message) => send(conn, { type: 'new_message', chat_id: chatId, message }),
      onGapError: (err) =>
        deps.log.warn({ err, chat: chatId }, 'gap fill failed; delivering the live message'),
    });
    conn.chats.set(chatId, sub);
    // Registered before the replay starts: live events queue on the subscription behind it.
    channels.joinChat(conn, chatId);
    conn.liveSessionStatus.delete(chatId);
    if (afterSeq === undefined) {
      send(conn, { type: 'subscribed', channel: 'chat', chat_id: chatId });
    } else {
      try {
        await sub.resume(afterSeq, cfg.WS_REPLAY_MAX_MESSAGES, (r) =>
          send(conn, { type: 'subscribed', channel: 'chat', chat_id: chatId, ...r }),
        );
      } catch (err) {
        unsubscribeChat(conn, chatId);
        return reject(err instanceof AppError ? err.message : 'Internal error');
      }
    }
    if (conn.principal.kind === 'visitor') sendSessionStatus(conn, sub);
  }

  /**
   * A visitor who (re)subscribes learns at once where their chat stands (queue position,
   * operator, closed). Not awaited, so a slow routing never holds up messages; a live
   * session_status that came meanwhile is newer and wins.
   */
  function sendSessionStatus(conn: Connection, sub: ChatDelivery): void {
    const chatId = sub.chatId;
    rpc('routing.rpc.session', { chat_id: chatId }).then(
      (session) => {
        if (!session) return;
        void sub.enqueue(() => {
          if (!sub.active || conn.liveSessionStatus.has(chatId)) return;
          send(conn, { type: 'session_status', chat_id: chatId, session });
        });
      },
      (err: unknown) => deps.log.debug({ err, chat: chatId }, 'session state not available'),
    );
  }

  async function subscribe(conn: Connection, frame: SubscribeFrame): Promise<void> {
    if (frame.channel === 'admin') {
      if (conn.principal.kind !== 'operator') {
        send(conn, { type: 'rejected', channel: 'admin', reason: 'Operators only' });
        return;
      }
      conn.admin = true;
      channels.joinAdmin(conn);
      send(conn, { type: 'subscribed', channel: 'admin' });
      return;
    }
    if (frame.channel === 'operator') return subscribeOperator(conn);
    return subscribeChat(conn, frame.chat_id, frame.after_seq);
  }

  return { subscribe, unsubscribeChat };
}
