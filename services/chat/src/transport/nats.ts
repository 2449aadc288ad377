import { AppError } from '@parley/contracts/errors';
import type { Bus } from '@parley/runtime';
import type { EventPayload, EventSubject } from '@parley/contracts/nats';
import type { ChatDomain, EventPublisher } from '../domain/chats.ts';
import type { MessageAudience } from '../domain/store.ts';
import type { ChatMetrics } from '../metrics.ts';

const QUEUE = 'chat';

/** Domain events go to JetStream; msgId makes a retried publish land once. */
export function busPublisher(bus: Bus): EventPublisher {
  return {
    async publish<S extends EventSubject>(subject: S, payload: EventPayload<S>, msgId: string) {
      try {
        await bus.publishDurable(subject, payload, { msgId });
      } catch {
        // The write is committed; a resend (same client_id) or the outbox relay publishes it later.
        throw new AppError(
          'unavailable',
          'Saved, but live delivery is unavailable right now; it will follow',
        );
      }
    },
  };
}

/**
 * Serves every chat.rpc.* subject in the queue group 'chat' (any replica answers once). The bus
 * validates each request against the contracts schema before the handler runs, so only checked
 * strings and numbers reach the store (an object such as {"$ne": null} is a bad_request).
 */
export function serveChatRpc(
  bus: Bus,
  domain: ChatDomain,
  inFlight: InFlight,
  metrics: ChatMetrics,
): ChatRpcServer {
  const q = { queue: QUEUE };
  const { rpcDuration: duration, messages } = metrics;
  const serve: Bus['serve'] = (subject, handler, opts) =>
    bus.serve(
      subject,
      (req, ctx) =>
        inFlight.track(async () => {
          const end = duration.startTimer({ subject });
          try {
            const out = await handler(req, ctx);
            end({ outcome: 'ok' });
            return out;
          } catch (e) {
            end({ outcome: e instanceof AppError ? e.code : 'internal' });
            throw e;
          }
        }),
      opts,
    );
  const subs = [
    serve('chat.rpc.visitor_chat', (req) => domain.visitorChat(req), q),
    serve('chat.rpc.update_visitor', (req) => domain.updateVisitor(req.user_id, req.update), q),
    serve('chat.rpc.visitor_profile', (req) => domain.visitorProfile(req.user_id), q),
    serve('chat.rpc.unsubscribe', (req) => domain.unsubscribe(req.user_id), q),
    serve('chat.rpc.chat_owner', (req) => domain.chatOwner(req.chat_id), q),
    serve(
      'chat.rpc.send_message',
      async (req) => {
        const out = await domain.sendMessage(req);
        messages.inc({ result: out.duplicate ? 'duplicate' : out.message.sender_type });
        return out;
      },
      q,
    ),
    serve('chat.rpc.mark_read', (req) => domain.markRead(req.chat_id), q),
    serve(
      'chat.rpc.messages_after',
      (req) => domain.messagesAfter(req.chat_id, req.after_seq, req.limit, audienceOf(req)),
      q,
    ),
    serve(
      'chat.rpc.messages_before',
      (req) => domain.messagesBefore(req.chat_id, req.before_seq, req.limit, audienceOf(req)),
      q,
    ),
    serve('chat.rpc.list_chats', (req) => domain.listChats(req), q),
    serve('chat.rpc.chat_summary', (req) => domain.chatSummary(req.chat_id), q),
    serve('chat.rpc.admin_chat', (req) => domain.adminChat(req), q),
    serve('chat.rpc.mentions', (req) => domain.mentionsOf(req.operator_id, req.limit), q),
    serve('chat.rpc.mark_viewed', (req) => domain.markViewed(req), q),
    serve('chat.rpc.canned_list', (req) => domain.canned.list(req), q),
    serve('chat.rpc.canned_create', (req) => domain.canned.create(req), q),
    serve('chat.rpc.canned_update', (req) => domain.canned.update(req), q),
    serve('chat.rpc.canned_delete', (req) => domain.canned.delete(req), q),
    serve('chat.rpc.label_list', () => domain.labels.list(), q),
    serve('chat.rpc.label_create', (req) => domain.labels.create(req), q),
    serve('chat.rpc.label_delete', (req) => domain.labels.delete(req.id), q),
    serve('chat.rpc.set_chat_labels', (req) => domain.labels.setOnChat(req.chat_id, req.labels), q),
    serve('chat.rpc.archive', (req) => domain.setArchived(req.chat_id, true), q),
    serve('chat.rpc.unarchive', (req) => domain.setArchived(req.chat_id, false), q),
    serve(
      'chat.rpc.operator_authenticate',
      (req) => domain.operators.authenticateOperator(req.email, req.password),
      q,
    ),
    serve('chat.rpc.operator_get', (req) => domain.operators.getOperator(req.id), q),
    serve('chat.rpc.operator_list', () => domain.operators.listOperators(), q),
    serve('chat.rpc.operator_create', (req) => domain.operators.createOperator(req), q),
    serve(
      'chat.rpc.operator_update',
      (req) => domain.operators.updateOperator(req.id, req.update),
      q,
    ),
    serve('chat.rpc.attachment_get', (req) => domain.attachmentGet(req.id), q),
    serve('chat.rpc.notify_claim', (req) => domain.notifyClaim(req.chat_id, req.up_to_seq), q),
  ];
  return {
    async stop() {
      // Drain: no new requests reach this replica (peers in the queue group take them), buffered ones still run.
      await Promise.all(subs.map((s) => s.drain()));
      await inFlight.idle();
    },
  };
}

/** Notes are served only when the caller (the gateway, for an operator) asks for them. */
function audienceOf(req: { include_internal?: boolean | undefined }): MessageAudience {
  return req.include_internal ? 'operator' : 'visitor';
}

export interface ChatRpcServer {
  /** Stops taking requests and resolves once the ones in progress have answered. */
  stop(): Promise<void>;
}

/** Counts running handlers so shutdown can wait for them. */
export class InFlight {
  private running = 0;
  private waiters: Array<() => void> = [];

  async track<T>(fn: () => Promise<T>): Promise<T> {
    this.running += 1;
    try {
      return await fn();
    } finally {
      this.running -= 1;
      if (this.running === 0) for (const w of this.waiters.splice(0)) w();
    }
  }

  idle(): Promise<void> {
    return this.running === 0
      ? Promise.resolve()
      : new Promise((resolve) => this.waiters.push(resolve));
  }
}
