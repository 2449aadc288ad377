import { Counter, Gauge, type Registry } from '@parley/runtime';
import type { RoutingStore } from './domain/ports.ts';

/** Routing's own metrics; the gauges read the shared state from the store when scraped. */
export interface RoutingMetrics {
  assignments: Counter;
}

export function createRoutingMetrics(
  registry: Registry,
  store: Pick<RoutingStore, 'queue' | 'operators'>,
): RoutingMetrics {
  new Gauge({
    name: 'parley_routing_queue_length',
    help: 'Sessions waiting in the queue',
    registers: [registry],
    async collect() {
      this.set((await store.queue()).length);
    },
  });
  new Gauge({
    name: 'parley_routing_operators',
    help: 'Operators by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const operators = await store.operators();
      for (const status of ['online', 'away', 'offline'] as const) {
        this.set({ status }, operators.filter((o) => o.status === status).length);
      }
    },
  });
  return {
    assignments: new Counter({
      name: 'parley_routing_assignments_total',
      help: 'Chats handed to an operator, by reason (auto, manual, transfer, invitation, requeue)',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
