import type { Bus, Logger } from '@parley/runtime';
import type { Counter } from '@parley/runtime';
import type { SupportMessage } from '@parley/contracts/models';
import type { EmailLog, Mailer } from '../domain/ports.ts';
import { sendTranscript } from '../domain/transcript.ts';
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

/**
 * notify.rpc.send_transcript: reads the whole conversation from the chat service and mails it.
 * Served in the queue group, so each request is answered, and mailed, by one replica only.
 */
export function serveTranscripts(
  bus: Bus,
  deps: { mailer: Mailer; emailFrom: string; productName: string; publicUrl: string },
) {
  return bus.serve(
    'notify.rpc.send_transcript',
    async (req) => {
      const messages: SupportMessage[] = [];
      let after = 0;
      for (;;) {
        const page = await bus.request('chat.rpc.messages_after', {
          chat_id: req.chat_id,
          after_seq: after,
          limit: 200,
        });
        messages.push(...page.messages);
        const last = page.messages.at(-1);
        if (!page.has_more || !last) break;
        after = last.seq;
      }
      return sendTranscript({
        mailer: deps.mailer,
        emailFrom: deps.emailFrom,
        chatId: req.chat_id,
        to: req.to,
        input: {
          productName: deps.productName,
          publicUrl: deps.publicUrl,
          visitorName: req.visitor_name,
          messages,
        },
      });
    },
    { queue: 'notify' },
  );
}
