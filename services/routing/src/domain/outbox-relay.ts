import type { Logger } from '@parley/runtime';
import type { RoutingStore } from './ports.ts';
import type { RoutingService } from './routing.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Relays the outbox to NATS. Every replica runs one; a lease in Redis lets exactly one relay at
 * a time, so routing.evt.* keep the order of the state changes. If the relaying replica dies its
 * lease expires and another one resumes from the last relayed entry (JetStream dedupes resent
 * events by msgId). Presence is not in the outbox (RoutingService.announce), so no entry's size
 * grows with the number of visitors.
 */
export function startOutboxRelay(opts: {
  store: RoutingStore;
  routing: RoutingService;
  holder: string;
  logger: Logger;
  leaseMs?: number;
}): { stop(): Promise<void> } {
  const { store, routing, holder } = opts;
  const leaseMs = opts.leaseMs ?? 5000;
  const log = opts.logger.child({ module: 'outbox' });
  let stopped = false;

  const loop = (async () => {
    let cursor: string | null = null;
    while (!stopped) {
      try {
        if (!(await store.outbox.lease(holder, leaseMs))) {
          cursor = null;
          await sleep(Math.min(250, leaseMs / 5));
          continue;
        }
        if (cursor === null) {
          cursor = await store.outbox.cursor();
        }
        const entries = await store.outbox.read(cursor, Math.min(250, leaseMs / 5));
        for (const entry of entries) {
          // Checked before every entry: a replica that lost the lease while it waited on Redis
          // or NATS stops instead of publishing alongside the new holder.
          if (!(await store.outbox.lease(holder, leaseMs))) {
            cursor = null;
            break;
          }
          await routing.publish(entry.changes, entry.id);
          if (!(await store.outbox.advance(holder, entry.id, leaseMs))) {
            cursor = null;
            break;
          }
          cursor = entry.id;
        }
      } catch (err) {
        if (stopped) break;
        // NATS or Redis unavailable: retry from the last relayed entry.
        log.warn({ err }, 'outbox relay failed, retrying');
        cursor = null;
        await sleep(500);
      }
    }
    await store.outbox.release(holder).catch(() => undefined);
  })();

  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
