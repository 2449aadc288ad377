import type { Subscription } from '@nats-io/nats-core';
import type { Bus, Logger } from '@parley/runtime';
import type { RoutingService } from '../domain/routing.ts';

const QUEUE = 'routing';

/**
 * Serves routing.rpc.* (queue group: each request answered by one replica), consumes
 * chat.evt.message_created durably and gateway presence signals once per replica group.
 */
export async function startNatsTransport(
  bus: Bus,
  routing: RoutingService,
  logger: Logger,
  opts: { ackWaitMs: number },
) {
  const log = logger.child({ module: 'nats' });
  const subs: Subscription[] = [
    bus.serve('routing.rpc.set_status', (r) => routing.setStatus(r.operator_id, r.status), {
      queue: QUEUE,
    }),
    bus.serve('routing.rpc.me', (r) => routing.me(r.operator_id), { queue: QUEUE }),
    bus.serve('routing.rpc.queue', () => routing.queue(), { queue: QUEUE }),
    bus.serve('routing.rpc.operators', () => routing.operators(), { queue: QUEUE }),
    bus.serve('routing.rpc.session', (r) => routing.session(r.chat_id), { queue: QUEUE }),
    bus.serve('routing.rpc.visitor_sessions', (r) => routing.visitorSessions(r.user_id), {
      queue: QUEUE,
    }),
    bus.serve('routing.rpc.take', (r) => routing.take(r.chat_id, r.operator_id), { queue: QUEUE }),
    bus.serve(
      'routing.rpc.transfer',
      (r) => routing.transfer(r.chat_id, r.actor, r.to_operator_id, r.force),
      {
        queue: QUEUE,
      },
    ),
    bus.serve('routing.rpc.close', (r) => routing.close(r.chat_id, r.actor), { queue: QUEUE }),
    bus.serve('routing.rpc.online_visitors', () => routing.onlineVisitors(), { queue: QUEUE }),
    bus.serve('routing.rpc.online_visitors_page', (r) => routing.onlineVisitorsPage(r), {
      queue: QUEUE,
    }),
    bus.serve('routing.rpc.online_visitor', (r) => routing.onlineVisitor(r.user_id), {
      queue: QUEUE,
    }),
    bus.serve('routing.rpc.invite', (r) => routing.invite(r.operator_id, r.user_id, r.message), {
      queue: QUEUE,
    }),
    bus.serve('routing.rpc.operator_updated', (r) => routing.operatorUpdated(r.operator), {
      queue: QUEUE,
    }),
    bus.serve(
      'routing.rpc.rate',
      (r) => routing.rate(r.chat_id, r.session_id, r.score, r.comment),
      { queue: QUEUE },
    ),
    bus.serve('routing.rpc.business_hours', () => routing.businessHours(), { queue: QUEUE }),
    bus.serve('routing.rpc.set_business_hours', (r) => routing.setBusinessHours(r.hours), {
      queue: QUEUE,
    }),
    bus.serve('routing.rpc.availability', () => routing.availability(), { queue: QUEUE }),
    bus.subscribe('gateway.evt.connection', (e) => routing.connection(e), { queue: QUEUE }),
    bus.subscribe('gateway.evt.heartbeat', (e) => routing.heartbeat(e), { queue: QUEUE }),
    bus.subscribe('gateway.evt.page_view', (e) => routing.pageView(e), { queue: QUEUE }),
  ];
  const consumer = await bus.consumeDurable({
    stream: 'CHAT_EVENTS',
    durable: 'routing',
    subjects: ['chat.evt.message_created', 'chat.evt.operator_changed', 'chat.evt.visitor_updated'],
    ackWaitMs: opts.ackWaitMs,
    handler: async (event) => {
      if (event.subject === 'chat.evt.message_created')
        await routing.onMessageCreated(event.payload);
      else if (event.subject === 'chat.evt.operator_changed')
        await routing.operatorUpdated(event.payload.operator);
      else if (event.subject === 'chat.evt.visitor_updated')
        await routing.visitorUpdated(event.payload);
    },
  });
  log.debug('routing transport started');
  return {
    /** Stops taking new work; in-flight handlers finish during the bus drain. */
    async stop() {
      await consumer.stop();
      for (const s of subs) s.unsubscribe();
    },
  };
}
