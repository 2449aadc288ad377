import type http from 'node:http';
import type { OperatorId, UserId } from '@parley/contracts/models';
import { presenceReport, type Bus, type Logger } from '@parley/runtime';
import type { GatewayConfig } from '../config.ts';
import type { Channels } from '../domain/channels.ts';
import { visitorIdentity } from '../domain/identity.ts';
import type { Connection } from './connection.ts';

/** Presence is best effort: a NATS hiccup must not take a socket event down with it. */
function bestEffort(log: Logger, publish: () => void): void {
  try {
    publish();
  } catch (err) {
    log.warn({ err }, 'presence not published');
  }
}

export function countryOf(cfg: GatewayConfig, req: http.IncomingMessage): string | null {
  if (!cfg.TRUST_PROXY) return null;
  const value = req.headers[cfg.COUNTRY_HEADER];
  const code = (Array.isArray(value) ? value[0] : value)?.trim().toUpperCase();
  // Cloudflare's XX/T1 mean unknown/Tor: not a country.
  return code && /^[A-Z]{2}$/.test(code) && code !== 'XX' && code !== 'T1' ? code : null;
}

/** Tells routing who is connected here: one event per connection change, and heartbeats. */
export function createPresence(deps: {
  cfg: GatewayConfig;
  bus: Bus;
  channels: Channels<Connection>;
  log: Logger;
  /** Housekeeping that runs with every heartbeat. */
  onBeat: () => void;
}) {
  const { cfg, bus, channels, log } = deps;

  function connection(conn: Connection, connected: boolean): void {
    const p = conn.principal;
    bestEffort(log, () =>
      bus.publish('gateway.evt.connection', {
        gateway_id: cfg.GATEWAY_ID,
        connection_id: conn.id,
        connected,
        at: new Date().toISOString(),
        who:
          p.kind === 'operator'
            ? { kind: 'operator', operator_id: p.operator_id }
            : {
                kind: 'visitor',
                visitor: visitorIdentity(p),
                user_agent: conn.userAgent,
                country: conn.country,
              },
      }),
    );
  }

  // Connection events keep presence current; the full list (an O(connections) reconciliation in
  // routing and Redis) only repairs what a lost event or a Redis restart left wrong, so it goes
  // every PRESENCE_FULL_LIST_EVERY-th beat, and the beats between only say this gateway lives.
  let beats = 0;
  const timer = setInterval(() => {
    const full = beats++ % cfg.PRESENCE_FULL_LIST_EVERY === 0;
    const operators: Array<{ operator_id: OperatorId; connection_id: string }> = [];
    const visitors: Array<{ user_id: UserId; connection_id: string }> = [];
    if (full) {
      for (const conn of channels.all) {
        if (conn.principal.kind === 'operator') {
          operators.push({ operator_id: conn.principal.operator_id, connection_id: conn.id });
        } else visitors.push({ user_id: conn.principal.user_id, connection_id: conn.id });
      }
    }
    const at = new Date().toISOString();
    if (!full) {
      bestEffort(log, () =>
        bus.publish('gateway.evt.heartbeat', {
          gateway_id: cfg.GATEWAY_ID,
          at,
          full,
          operators,
          visitors,
        }),
      );
    } else {
      // The list grows with the connections; each part fits the server's max_payload.
      const maxPayload = bus.nc.info?.max_payload ?? 1024 * 1024;
      for (const part of presenceReport(cfg.GATEWAY_ID, at, operators, visitors, maxPayload))
        bestEffort(log, () => bus.publish('gateway.evt.heartbeat', part));
    }
    deps.onBeat();
  }, cfg.PRESENCE_HEARTBEAT_INTERVAL);
  timer.unref();

  return { connection, stop: () => clearInterval(timer) };
}
