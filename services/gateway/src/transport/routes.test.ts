import { describe, expect, it } from 'vitest';
import type { Bus, Logger } from '@parley/runtime';
import { http } from '@parley/contracts';
import { readConfig } from '../config.ts';
import { Authenticator } from '../domain/authenticate.ts';
import { ChatAccess } from '../domain/access.ts';
import { Identity } from '../domain/identity.ts';
import { WsTickets } from '../domain/tickets.ts';
import { VisitorChats } from '../domain/visitor-chats.ts';
import { createHttpApp } from './http.ts';
import { createLimits } from '../limits/index.ts';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  matchers?: unknown[];
}

/** Every method + path the app registers under /api, read from express's router. */
function servedRoutes(app: ReturnType<typeof createHttpApp>): string[] {
  const root = (app as unknown as { router: { stack: Layer[] } }).router.stack;
  const api = root.find((l) => l.handle.stack?.some((inner) => inner.route));
  const served: string[] = [];
  for (const layer of api?.handle.stack ?? []) {
    if (!layer.route) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (on && method !== '_all') served.push(`${method.toUpperCase()} /api${layer.route.path}`);
    }
  }
  return served.sort();
}

describe('REST routes', () => {
  it('serves every route of the contracts’ route tables, and nothing else under /api', () => {
    const cfg = readConfig({
      NODE_ENV: 'test',
      WIDGET_DIST: '/nonexistent',
      ADMIN_DIST: '/nonexistent',
    });
    const identity = new Identity({
      authTokenSecret: cfg.authTokenSecret,
      identityHmacSecret: cfg.identityHmacSecret,
      visitorTtlMs: 1000,
      operatorTtlMs: 1000,
    });
    const unused = () => Promise.reject(new Error('not called while registering routes'));
    const logger = { child: () => logger, info: () => undefined } as unknown as Logger;
    const app = createHttpApp({
      cfg,
      bus: {} as Bus,
      rpc: unused,
      identity,
      authenticator: new Authenticator(identity, { operator: unused }, { ttlMs: 1000 }),
      tickets: new WsTickets(cfg.authTokenSecret, identity.revocations, unused),
      visitorChats: new VisitorChats(unused),
      spentLinks: { spend: unused },
      access: new ChatAccess(unused),
      limits: createLimits(cfg, logger),
      logger,
    });
    const inTables = [
      ...new Set(
        [...Object.values(http.consoleRoutes), ...Object.values(http.visitorRoutes)].map(
          (r) => `${r.method} ${r.path}`,
        ),
      ),
    ].sort();
    expect(inTables.length).toBeGreaterThan(30);
    expect(servedRoutes(app)).toEqual(inTables);
  });
});
