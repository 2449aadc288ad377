import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserId } from '@parley/contracts';
import { presenceReport } from '@parley/runtime';
import { startBed, type Bed } from './harness.ts';

/**
 * NATS refuses any message over the server's max_payload. With a small one, a few hundred
 * visitors are more than a whole online list or a whole connection report could carry: presence
 * must still be reported, and routing's events must not queue behind it.
 */
const MAX_PAYLOAD = 16 * 1024;
const VISITORS = 300;

let bed: Bed;
beforeAll(async () => {
  bed = await startBed({ natsConfig: `max_payload: ${MAX_PAYLOAD}\n` });
});
afterAll(async () => {
  await bed?.stop();
});

const visitor = (i: number) => ({
  user_id: `v_many-${String(i).padStart(4, '0')}` as UserId,
  identified: true,
  name: `Visitor ${i} with a fairly long display name`,
  email: `visitor-${i}@customer-with-a-long-domain.example.com`,
});

describe('presence past the NATS message size', () => {
  it('reports many visitors one change at a time and in pages, and a new chat is still routed promptly', async () => {
    const anna = await bed.operator('Anna');
    await bed.connect(anna);
    await bed.request('routing.rpc.set_status', { operator_id: anna.id, status: 'online' });

    const before = bed.log.mark();
    for (let i = 0; i < VISITORS; i++) bed.visitorConnection(visitor(i), `many-conn-${i}`, true);
    for (let i = 0; i < VISITORS; i++) {
      await bed.log.wait(
        'routing.presence.visitor',
        (e) => e.user_id === visitor(i).user_id && e.visitor !== null,
        { after: before, timeoutMs: 30_000 },
      );
    }

    // The list, page by page: every page fits a message, together they hold everyone.
    const seen = new Set<string>();
    let offset = 0;
    for (;;) {
      const page = await bed.request('routing.rpc.online_visitors_page', {
        q: 'v_many-',
        sort: 'oldest',
        filter: 'all',
        offset,
        limit: 100,
      });
      expect(page.total).toBe(VISITORS);
      if (page.visitors.length === 0) break;
      expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(MAX_PAYLOAD);
      for (const v of page.visitors) seen.add(v.user_id);
      offset += page.visitors.length;
    }
    expect(seen.size).toBe(VISITORS);

    // A visitor writing now is queued and assigned: routing's events are not stuck behind presence.
    const { chatId } = await bed.visitorWrites({ name: 'Newcomer' });
    const assigned = await bed.log.wait(
      'routing.evt.assigned',
      (e) => e.session.chat_id === chatId,
    );
    expect(assigned.operator_id).toBe(anna.id);
    for (const replica of bed.replicas) expect(replica.logs()).not.toMatch(/max_payload/);
  });

  it('reconciles a connection report sent in parts: a connection missing from it is dropped', async () => {
    const gateway = 'gw-parts';
    const conns = Array.from({ length: VISITORS }, (_, i) => ({
      user_id: visitor(1000 + i).user_id,
      connection_id: `parts-conn-${i}`,
    }));
    const before = bed.log.mark();
    for (const [i, c] of conns.entries()) {
      bed.bus.publish('gateway.evt.connection', {
        gateway_id: gateway,
        connection_id: c.connection_id,
        connected: true,
        at: new Date().toISOString(),
        who: { kind: 'visitor', visitor: visitor(1000 + i), user_agent: null, country: null },
      });
    }
    const last = conns[VISITORS - 1]!;
    await bed.log.wait(
      'routing.presence.visitor',
      (e) => e.user_id === last.user_id && e.visitor !== null,
      { after: before, timeoutMs: 30_000 },
    );

    // The gateway lost the first connection without saying so; its next report omits it.
    const [gone, ...kept] = conns;
    const parts = presenceReport(gateway, new Date().toISOString(), [], kept, MAX_PAYLOAD);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(Buffer.byteLength(JSON.stringify(part))).toBeLessThan(MAX_PAYLOAD);
      bed.bus.publish('gateway.evt.heartbeat', part);
    }
    await bed.log.wait(
      'routing.presence.visitor',
      (e) => e.user_id === gone!.user_id && e.visitor === null,
      { after: before, timeoutMs: 30_000 },
    );
    const stillThere = await bed.request('routing.rpc.online_visitor', { user_id: last.user_id });
    expect(stillThere).toMatchObject({ user_id: last.user_id });
  });
});
