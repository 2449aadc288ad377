import { randomUUID } from 'node:crypto';
import type { ClientId } from '@parley/contracts';
import type { Bus } from '@parley/runtime';
import type { ChatPort } from '../domain/ports.ts';

/** The chat service over NATS request/reply. */
export function createNatsChat(bus: Bus): ChatPort {
  return {
    getOperator: (id) => bus.request('chat.rpc.operator_get', { id }),
    async visitorChatId(visitor) {
      const chat = await bus.request('chat.rpc.visitor_chat', { visitor, limit: 1 });
      return chat.id;
    },
    async sendSystemMessage(chatId, text, event) {
      await bus.request('chat.rpc.send_message', {
        chat_id: chatId,
        content: text,
        client_id: null,
        sender_type: 'system',
        sender_id: null,
        sender_name: null,
        attachment_ids: [],
        event,
      });
    },
    async sendOperatorMessage(chatId, operator, content) {
      const reply = await bus.request('chat.rpc.send_message', {
        chat_id: chatId,
        content,
        client_id: randomUUID() as ClientId,
        sender_type: 'admin',
        sender_id: operator.id,
        sender_name: operator.name,
        attachment_ids: [],
      });
      return reply.message;
    },
  };
}
