import type http from 'node:http';
import proxyAddr from 'proxy-addr';

/**
 * Browsers always send Origin on cross-site requests and WebSocket upgrades: only the gateway's
 * own origin (PUBLIC_URL or the Host it was reached at) and ALLOWED_ORIGINS pass. A request
 * without Origin is not from a browser page, so it cannot be a cross-site hijack.
 */
export function isOriginAllowed(
  origin: string | undefined,
  host: string | undefined,
  cfg: { PUBLIC_URL: string; allowedOrigins: string[] },
): boolean {
  if (origin === undefined) return true;
  const normalized = origin.replace(/\/$/, '');
  if (cfg.allowedOrigins.includes('*')) return true;
  if (normalized === new URL(cfg.PUBLIC_URL).origin) return true;
  if (cfg.allowedOrigins.includes(normalized)) return true;
  if (host) {
    try {
      if (new URL(normalized).host === host) return true;
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * The client's address as express's `trust proxy` with a hop count finds it: the socket address
 * when no proxy is trusted, else the X-Forwarded-For entry `trustedHops` from the right (each
 * trusted proxy appends the address it saw; entries further left are the client's to invent).
 */
export function clientIp(req: http.IncomingMessage, trustedHops: number): string {
  if (!req.socket.remoteAddress) return 'unknown';
  return proxyAddr(req, (_addr, hop) => hop < trustedHops);
}
