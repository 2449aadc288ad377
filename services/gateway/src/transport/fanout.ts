import { WsCloseCode } from '@parley/contracts/errors';
import type { EventPayload, EventSubject } from '@parley/contracts/nats';
import type { OperatorId, SupportMessage } from '@parley/contracts/models';
import type { ServerFrame } from '@parley/contracts/ws';
import type { Bus, Logger } from '@parley/runtime';
import type { Channels } from '../domain/channels.ts';
import type { Authenticator } from '../domain/authenticate.ts';
import { sendToOperatorChannel, type Connection, type Sender } from './connection.ts';
import type { GatewayMetrics } from '../metrics.ts';

export interface FanoutContext {
  channels: Channels<Connection>;
  sender: Sender;
  authenticator: Authenticator;
  typingExpiresMs: number;
}

type Handler<S extends EventSubject> = (payload: EventPayload<S>, ctx: FanoutContext) => void;
type FanoutTable = { [S in EventSubject]?: Handler<S> };

const toAdmins = (ctx: FanoutContext, frame: ServerFrame) => {
  for (const conn of ctx.channels.adminConnections()) ctx.sender.send(conn, frame);
};

/** A chat's frame to everyone who hears the chat (subscribers and the assignee's channel). */
const toChat = (
  ctx: FanoutContext,
  chatId: string,
  frame: ServerFrame,
  skip?: (c: Connection) => boolean,
) => {
  const { subscribers, assignee } = ctx.channels.audience(chatId);
  for (const conn of subscribers) if (!skip?.(conn)) ctx.sender.send(conn, frame);
  for (const conn of assignee) if (!skip?.(conn)) sendToOperatorChannel(ctx.sender, conn, frame);
};

/** A note's `mention` frame on each mentioned colleague's own operator channel. */
const mentionFrames = (ctx: FanoutContext, note: SupportMessage) => {
  const author = { id: (note.sender_id ?? '') as OperatorId, name: note.sender_name ?? '' };
  for (const operatorId of note.mentions ?? []) {
    for (const conn of ctx.channels.operatorChannel(operatorId)) {
      sendToOperatorChannel(ctx.sender, conn, {
        type: 'mention',
        chat_id: note.chat_id,
        note,
        author,
      });
    }
  }
};

/** Which NATS event becomes which frames, for whom. */
export const fanout: FanoutTable = {
  'chat.evt.message_created': ({ message, chat }, ctx) => {
    const { subscribers, assignee } = ctx.channels.audience(message.chat_id);
    for (const conn of subscribers) void conn.chats.get(message.chat_id)?.deliverLive(message);
    const frame: ServerFrame = { type: 'new_message', chat_id: message.chat_id, message };
    for (const conn of assignee) sendToOperatorChannel(ctx.sender, conn, frame);
    if (message.internal) mentionFrames(ctx, message);
    if (message.sender_type === 'user') {
      toAdmins(ctx, {
        type: 'new_user_message',
        chat_id: message.chat_id,
        user_email: chat.user_email,
        message,
        chat,
      });
    }
    toAdmins(ctx, { type: 'chat_updated', chat });
  },
  'chat.evt.chat_read': (evt, ctx) => {
    toChat(ctx, evt.chat_id, {
      type: 'messages_read',
      chat_id: evt.chat_id,
      read_at: evt.read_at,
      up_to_seq: evt.up_to_seq,
    });
    toAdmins(ctx, { type: 'chat_updated', chat: evt.chat });
  },
  'chat.evt.chat_viewed': ({ chat }, ctx) => toAdmins(ctx, { type: 'chat_updated', chat }),
  'chat.evt.chat_archived': ({ chat }, ctx) => toAdmins(ctx, { type: 'chat_updated', chat }),
  'chat.evt.chat_labels_changed': ({ chat }, ctx) => toAdmins(ctx, { type: 'chat_updated', chat }),
  'chat.evt.chat_unarchived': ({ chat }, ctx) => toAdmins(ctx, { type: 'chat_updated', chat }),
  'chat.evt.operator_changed': ({ operator }, ctx) => {
    ctx.authenticator.accountChanged(operator);
    for (const conn of ctx.channels.operator(operator.id)) {
      // A deactivated operator loses every open connection at once, on every gateway; the
      // others act with the account's current role and name from now on.
      if (!operator.active) conn.ws.close(WsCloseCode.forbidden, 'Deactivated');
      else if (conn.principal.kind === 'operator') {
        conn.principal = { ...conn.principal, role: operator.role, name: operator.name };
      }
    }
  },
  'routing.evt.session_changed': ({ session }, ctx) => {
    if (session.status === 'active' && session.operator) {
      ctx.channels.assign(session.chat_id, session.operator.id);
    } else ctx.channels.unassign(session.chat_id);
    const frame: ServerFrame = { type: 'session_status', chat_id: session.chat_id, session };
    // Behind the subscription's replay and snapshot, so the newest state arrives last.
    for (const conn of ctx.channels.audience(session.chat_id).subscribers) {
      const sub = conn.chats.get(session.chat_id);
      if (!sub) continue;
      conn.liveSessionStatus.add(session.chat_id);
      void sub.enqueue(() => ctx.sender.send(conn, frame));
    }
  },
  'routing.evt.assigned': (evt, ctx) => {
    ctx.channels.assign(evt.session.chat_id, evt.operator_id);
    for (const conn of ctx.channels.operatorChannel(evt.operator_id)) {
      sendToOperatorChannel(ctx.sender, conn, {
        type: 'chat_assigned',
        chat_id: evt.session.chat_id,
        session: evt.session,
        reason: evt.reason,
        user_name: evt.user_name,
        user_email: evt.user_email,
        from_operator: evt.from_operator,
      });
    }
  },
  'routing.evt.unassigned': (evt, ctx) => {
    ctx.channels.unassign(evt.chat_id, evt.operator_id);
    for (const conn of ctx.channels.operatorChannel(evt.operator_id)) {
      sendToOperatorChannel(ctx.sender, conn, {
        type: 'chat_unassigned',
        chat_id: evt.chat_id,
        reason: evt.reason,
      });
    }
  },
  'routing.evt.queue_changed': ({ queue }, ctx) => toAdmins(ctx, { type: 'queue_updated', queue }),
  'routing.evt.operator_changed': ({ operator }, ctx) =>
    toAdmins(ctx, { type: 'operator_state', operator }),
  // One visitor's change per frame; the whole list (visitors_changed) is no longer published.
  'routing.presence.visitor': ({ user_id, visitor, online }, ctx) =>
    toAdmins(ctx, { type: 'visitor_presence', user_id, visitor, online }),
  'routing.evt.invitation': (evt, ctx) => {
    for (const conn of ctx.channels.visitor(evt.user_id)) {
      ctx.sender.send(conn, {
        type: 'invitation',
        chat_id: evt.chat_id,
        operator: evt.operator,
        message: evt.message,
      });
    }
  },
  'gateway.typing': (evt, ctx) => {
    const isSender = (c: Connection) =>
      (c.principal.kind === 'visitor' ? c.principal.user_id : c.principal.operator_id) ===
      evt.sender_id;
    toChat(
      ctx,
      evt.chat_id,
      {
        type: 'typing',
        chat_id: evt.chat_id,
        sender_type: evt.sender_type,
        sender_name: evt.sender_name,
        expires_in_ms: ctx.typingExpiresMs,
      },
      isSender,
    );
  },
};

/** Subscribes every subject of the table, timing each fan-out. */
export function startFanout(bus: Bus, ctx: FanoutContext, metrics: GatewayMetrics, log: Logger) {
  const subs = (Object.keys(fanout) as EventSubject[]).map((subject) =>
    bus.subscribe(subject, (payload) => {
      const end = metrics.fanoutSeconds.startTimer({ subject });
      try {
        (fanout[subject] as Handler<typeof subject>)(payload, ctx);
      } catch (err) {
        log.error({ err, subject }, 'fan-out failed');
      } finally {
        end();
      }
    }),
  );
  return { stop: () => subs.forEach((s) => s.unsubscribe()) };
}
