import http from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.ts';

export interface ReadinessCheck {
  name: string;
  check(): boolean | Promise<boolean>;
}

/** Shared by /readyz and the shutdown sequence: readiness goes 503 as soon as shutdown starts. */
export interface Lifecycle {
  shuttingDown: boolean;
}

/**
 * /healthz (process alive), /readyz (dependencies connected, not shutting down), /metrics
 * (Prometheus text). Returns false when the request is not one of these paths, so the
 * gateway can mount it in front of its own routes.
 */
export function createOpsHandler(opts: {
  registry: Registry;
  checks: ReadinessCheck[];
  lifecycle: Lifecycle;
}): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  return (req, res) => {
    const url = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","checks":{}}');
      return true;
    }
    if (url === '/readyz') {
      void (async () => {
        const results: Record<string, boolean> = {};
        for (const c of opts.checks) {
          try {
            results[c.name] = await c.check();
          } catch {
            results[c.name] = false;
          }
        }
        results.accepting = !opts.lifecycle.shuttingDown;
        const ok = Object.values(results).every(Boolean);
        res
          .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', checks: results }));
      })();
      return true;
    }
    if (url === '/metrics') {
      void opts.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return true;
    }
    return false;
  };
}

/** A small HTTP server with only the ops endpoints (services without a public API). */
export async function startOpsServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  checks: ReadinessCheck[];
  lifecycle: Lifecycle;
  logger: Logger;
  /** Extra routes (e.g. the chat service's internal attachment endpoints). */
  fallback?: (req: http.IncomingMessage, res: http.ServerResponse) => void;
}): Promise<{ server: http.Server; port: number; close(): Promise<void> }> {
  const ops = createOpsHandler(opts);
  const server = http.createServer((req, res) => {
    if (ops(req, res)) return;
    if (opts.fallback) return opts.fallback(req, res);
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end('{"code":"not_found","message":"Not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  opts.logger.info({ port }, 'http listening');
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
