import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AppError, httpStatusByErrorCode } from '@parley/contracts/errors';
import * as http from '@parley/contracts/http';
import type { Bus, Logger } from '@parley/runtime';
import type { GatewayConfig } from '../config.ts';
import type { Rpc } from '../adapters/chat-nats.ts';
import type { SpentLinks } from '../adapters/spent-links.ts';
import type { ChatAccess } from '../domain/access.ts';
import type { Authenticator } from '../domain/authenticate.ts';
import type { Identity } from '../domain/identity.ts';
import type { WsTickets } from '../domain/tickets.ts';
import type { VisitorChats } from '../domain/visitor-chats.ts';
import { attachmentRoutes } from './attachments.ts';
import { deskRoutes } from './desk-routes.ts';
import { transcriptRoutes } from './transcript-routes.ts';
import { consoleRoutes } from './console-routes.ts';
import type { Limits } from '../limits/index.ts';
import { restLimits } from './limits.ts';
import { createAssetServer } from './static-assets.ts';
import { isOriginAllowed } from './origin.ts';
import { createGuards } from './routes.ts';
import { visitorRoutes } from './visitor-routes.ts';

const JSON_BODY_LIMIT = '64kb';

/** Only the contracts' route tables are served under /api (see visitorRoutes, consoleRoutes). */
export function createHttpApp(deps: {
  cfg: GatewayConfig;
  bus: Bus;
  rpc: Rpc;
  identity: Identity;
  authenticator: Authenticator;
  tickets: WsTickets;
  visitorChats: VisitorChats;
  spentLinks: SpentLinks;
  access: ChatAccess;
  limits: Limits;
  logger: Logger;
}): express.Express {
  const { cfg } = deps;
  const log = deps.logger.child({ module: 'http' });
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', cfg.trustProxyHops); // req.ip agrees with clientIp()

  app.use((req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // The console is never framed (clickjacking); the widget is, by the host sites.
    if (req.path === '/admin' || req.path.startsWith('/admin/')) {
      res.setHeader('X-Frame-Options', 'DENY');
      res.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
    }
    next();
  });

  // CORS: only allowed origins.
  app.use('/api', (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    if (!isOriginAllowed(origin, req.headers.host, cfg)) {
      throw new AppError('forbidden', 'Origin not allowed');
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Expose-Headers', http.NEXT_CURSOR_HEADER);
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET,POST,PUT,PATCH,DELETE');
      res.setHeader(
        'Access-Control-Allow-Headers',
        'authorization,content-type,x-chat-id,x-filename',
      );
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  });
  // After CORS so a browser can read the 429.
  const rest = restLimits(deps.limits, cfg.trustProxyHops);
  app.use('/api', rest.requests);

  const api = express.Router();
  api.use(express.json({ limit: JSON_BODY_LIMIT }));
  const guards = createGuards(deps.authenticator);
  const routeDeps = { ...deps, guards, rest, logger: log };
  visitorRoutes(api, routeDeps);
  consoleRoutes(api, routeDeps);
  deskRoutes(api, routeDeps);
  transcriptRoutes(api, routeDeps);
  attachmentRoutes(api, routeDeps);
  api.use(() => {
    throw new AppError('not_found', 'No such endpoint');
  });
  app.use('/api', api);

  serveStaticApps(app, cfg, log);

  // Errors: one mapping for every route.
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const e = err as { type?: string; status?: number };
    let appErr: AppError;
    if (err instanceof AppError) appErr = err;
    else if (e.type === 'entity.parse.failed')
      appErr = new AppError('bad_request', 'Body is not valid JSON');
    else if (e.type === 'entity.too.large')
      appErr = new AppError('payload_too_large', 'Body is too large');
    else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      appErr = new AppError('bad_request', 'Malformed request');
    } else {
      log.error({ err, path: req.path }, 'request failed');
      appErr = new AppError('internal', 'Internal error');
    }
    res.status(httpStatusByErrorCode[appErr.code]).json(appErr.toBody());
  });

  app.use((req, res) => {
    res.status(404).json({ code: 'not_found', message: 'Not found' });
  });

  return app;
}

/** The built widget and console, with the SPA fallback to index.html. */
function serveStaticApps(app: express.Express, cfg: GatewayConfig, log: Logger): void {
  for (const [mount, dir] of [
    ['/widget', cfg.WIDGET_DIST],
    ['/admin', cfg.ADMIN_DIST],
  ] as const) {
    const root = path.resolve(dir);
    if (!existsSync(root)) {
      log.info({ mount, dir: root }, 'static app not built; not served');
      continue;
    }
    // Absolute asset paths and client-side routing: every page of the app, with or without a
    // trailing slash (SvelteKit's trailingSlash 'never' wants /admin itself), is index.html.
    // Files go compressed; hashed ones are cached for good (static-assets.ts).
    const assets = createAssetServer(root);
    app.use(mount, (req, res, next) => assets.files(req, res, next));
    app.get([mount, `${mount}/{*rest}`], (req, res, next) => {
      // A missing file (a stale asset hash) is a 404, not the app's page.
      if (/\.[A-Za-z0-9]+$/.test(req.path)) throw new AppError('not_found', 'Not found');
      assets.sendFile(req, res, next, '/index.html');
    });
  }
}
