import type { Bus } from '@parley/runtime';
import type { RoutingEvents } from '../domain/ports.ts';

/** routing.evt.* on the ROUTING_EVENTS stream. */
export function createNatsEvents(bus: Bus): RoutingEvents {
  return {
    sessionChanged: (session) => bus.publishDurable('routing.evt.session_changed', { session }),
    assigned: (a) =>
      bus.publishDurable('routing.evt.assigned', {
        session: a.session,
        operator_id: a.operatorId,
        reason: a.reason,
        from_operator: a.from,
        user_name: a.userName,
        user_email: a.userEmail,
      }),
    unassigned: (chatId, operatorId, reason) =>
      bus.publishDurable('routing.evt.unassigned', {
        chat_id: chatId,
        operator_id: operatorId,
        reason,
      }),
    queueChanged: (queue) => bus.publishDurable('routing.evt.queue_changed', { queue }),
    operatorChanged: (operator) => bus.publishDurable('routing.evt.operator_changed', { operator }),
    visitorsChanged: (visitors) => bus.publishDurable('routing.evt.visitors_changed', { visitors }),
    invitation: (i) =>
      bus.publishDurable('routing.evt.invitation', {
        user_id: i.userId,
        chat_id: i.chatId,
        operator: i.operator,
        message: i.message,
      }),
  };
}
