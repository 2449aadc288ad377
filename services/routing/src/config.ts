import { z } from 'zod';
import { baseConfig, httpPort, envDuration, loadConfig } from '@parley/runtime';

export const configSchema = baseConfig.extend({
  HTTP_PORT: httpPort(8082, 'Port of the ops server (/healthz, /readyz, /metrics)'),
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .describe(
      'Redis holding routing state (run it with AOF persistence); redis+sentinel://host:port[,host:port…]/<master name> for Redis Sentinel',
    ),
  REDIS_PREFIX: z
    .string()
    .default('parley:routing:')
    .describe('Prefix of every routing key in Redis'),
  OPERATOR_OFFLINE_GRACE: envDuration
    .default(60_000)
    .describe(
      'How long an operator with no open connection stays online before going offline (e.g. 60s)',
    ),
  VISITOR_OFFLINE_GRACE: envDuration
    .default(15_000)
    .describe(
      'How long a visitor with no open connection stays in the online list (covers page reloads)',
    ),
  RETURN_TO_QUEUE_GRACE: envDuration
    .default(30_000)
    .describe(
      'A chat an operator returns to the queue goes to someone else first; after this long it may go to any free operator, the returner included',
    ),
  GATEWAY_HEARTBEAT_TIMEOUT: envDuration
    .default(45_000)
    .describe('A gateway silent for this long is presumed dead and its connections are dropped'),
  OUTBOX_LEASE: envDuration
    .default(5000)
    .describe(
      'Lease of the replica relaying routing events; another replica takes over this long after it dies',
    ),
  CONSUMER_ACK_WAIT: envDuration
    .default(10_000)
    .describe(
      'How long a chat event taken by a replica stays unacknowledged before another replica gets it (a crashed replica)',
    ),
  TICK_INTERVAL: envDuration
    .default(1000)
    .describe(
      'How often each replica checks due grace periods and silent gateways (capped by the grace periods)',
    ),
});
export type RoutingConfig = z.output<typeof configSchema>;

export function readConfig(env: Record<string, string | undefined> = process.env): RoutingConfig {
  return loadConfig(configSchema, env);
}
