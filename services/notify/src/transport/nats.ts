import type { Bus, Logger } from '@parley/runtime';
import type { Counter } from '@parley/runtime';
import type { EmailLog } from '../domain/ports.ts';
import type { Notifier } from '../domain/notifier.ts';

/**
 * Chat events through the durable JetStream consumer 'notify' (shared by replicas, survives
 * restarts). A throw naks the event, so it is redelivered; handlers are idempotent.
 */
export async function consumeChatEvents(opts: {
  bus: Bus;
  notifier: Notifier;
  logger: Logger;
  eventsHandled: Counter<'event' | 'result'>;
}) {
  return opts.bus.consumeDurable({
    stream: 'CHAT_EVENTS',
    durable: 'notify',
    subjects: ['chat.evt.message_created', 'chat.evt.chat_read'],
    ackWaitMs: 30_000,
    handler: async (event, ctx) => {
      if (event.subject === 'chat.evt.message_created') {
        const result = await opts.notifier.onMessageCreated(event.payload);
        opts.eventsHandled.inc({ event: 'message_created', result });
        if (result !== 'ignored')
          opts.logger.debug(
            {
              chatId: event.payload.message.chat_id,
              seq: event.payload.message.seq,
              result,
              redelivered: ctx.redelivered,
            },
            'reply scheduling',
          );
      } else if (event.subject === 'chat.evt.chat_read') {
        const cancelled = await opts.notifier.onChatRead(event.payload);
        opts.eventsHandled.inc({
          event: 'chat_read',
          result: cancelled > 0 ? 'cancelled' : 'nothing_pending',
        });
      }
    },
  });
}

/** notify.rpc.outbox_list for the operator console (the gateway checks the caller is an admin). */
export function serveOutbox(bus: Bus, log: EmailLog) {
  return bus.serve('notify.rpc.outbox_list', (req) => log.list(req.limit), { queue: 'notify' });
}
