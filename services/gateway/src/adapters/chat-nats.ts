import type { ChatId, Operator, OperatorId, UserId } from '@parley/contracts/models';
import type { RpcRequest, RpcResponse, RpcSubject } from '@parley/contracts/nats';
import type { Bus } from '@parley/runtime';
import type { AccountPort } from '../domain/authenticate.ts';
import type { FetchAfter } from '../domain/delivery.ts';

/** One request to another service over NATS, with the gateway's RPC timeout. */
export type Rpc = <S extends RpcSubject>(
  subject: S,
  payload: RpcRequest<S>,
) => Promise<RpcResponse<S>>;

export function createRpc(bus: Bus, timeoutMs: number): Rpc {
  return (subject, payload) => bus.request(subject, payload, { timeoutMs });
}

/** The chat service as the gateway's domain sees it: accounts, chat owners, message pages. */
export interface ChatPort extends AccountPort {
  ownerOf(chatId: ChatId): Promise<UserId | null>;
  fetchAfter: FetchAfter;
}

export function createChatPort(rpc: Rpc): ChatPort {
  return {
    operator: (id: OperatorId): Promise<Operator | null> => rpc('chat.rpc.operator_get', { id }),
    async ownerOf(chatId) {
      const owner = await rpc('chat.rpc.chat_owner', { chat_id: chatId });
      return owner?.user_id ?? null;
    },
    fetchAfter: (chatId, afterSeq, limit, includeInternal) =>
      rpc('chat.rpc.messages_after', {
        chat_id: chatId,
        after_seq: afterSeq,
        limit,
        include_internal: includeInternal,
      }),
  };
}
