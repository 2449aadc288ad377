import { Counter, Histogram, type Registry } from '@parley/runtime';

/** The chat service's own metrics (Node's defaults come with the registry). */
export interface ChatMetrics {
  rpcDuration: Histogram;
  messages: Counter;
}

export function createChatMetrics(registry: Registry): ChatMetrics {
  return {
    rpcDuration: new Histogram({
      name: 'parley_chat_rpc_duration_seconds',
      help: 'Chat RPC handling time by subject and outcome (ok or the error code)',
      labelNames: ['subject', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    messages: new Counter({
      name: 'parley_chat_messages_total',
      help: 'send_message results: stored by sender type, or duplicate (a resent client_id)',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
