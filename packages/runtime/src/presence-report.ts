import { randomUUID } from 'node:crypto';
import type { EventPayload } from '@parley/contracts/nats';

type Heartbeat = EventPayload<'gateway.evt.heartbeat'>;
type OperatorEntry = Heartbeat['operators'][number];
type VisitorEntry = Heartbeat['visitors'][number];

/** Room left in a part for the envelope (ids, time, report) and the NATS headers. */
const ENVELOPE_BYTES = 512;

/**
 * A gateway's full connection list as heartbeats that each fit `maxPayload` bytes: one when it
 * fits, else parts sharing a report id and `at`, so routing reconciles only once it has them
 * all. The list's size grows with the connections; a message's may not.
 */
export function presenceReport(
  gatewayId: string,
  at: string,
  operators: OperatorEntry[],
  visitors: VisitorEntry[],
  maxPayload: number,
): Heartbeat[] {
  const budget = Math.max(256, maxPayload - ENVELOPE_BYTES);
  const parts: Array<{ operators: OperatorEntry[]; visitors: VisitorEntry[] }> = [];
  let current = { operators: [] as OperatorEntry[], visitors: [] as VisitorEntry[] };
  let size = 0;
  const add = (entry: OperatorEntry | VisitorEntry, into: 'operators' | 'visitors') => {
    const bytes = Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (size + bytes > budget && size > 0) {
      parts.push(current);
      current = { operators: [], visitors: [] };
      size = 0;
    }
    (current[into] as Array<typeof entry>).push(entry);
    size += bytes;
  };
  for (const o of operators) add(o, 'operators');
  for (const v of visitors) add(v, 'visitors');
  parts.push(current);
  if (parts.length === 1) return [{ gateway_id: gatewayId, at, full: true, ...current }];
  const id = randomUUID();
  return parts.map((p, part) => ({
    gateway_id: gatewayId,
    at,
    full: true,
    report: { id, part, parts: parts.length },
    ...p,
  }));
}
