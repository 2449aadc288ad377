import type { Bus } from '@parley/runtime';
import type { RoutingEvents } from '../domain/ports.ts';

/** routing.evt.* on the ROUTING_EVENTS stream. */
export function createNatsEvents(bus: Bus): RoutingEvents {
  return {
    async publish(subject, payload, msgId) {
      await bus.publishDurable(subject, payload, msgId ? { msgId } : {});
    },
    presence: (payload) => bus.publish('routing.presence.visitor', payload),
  };
}
