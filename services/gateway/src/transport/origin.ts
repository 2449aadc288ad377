import type http from 'node:http';

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

export function clientIp(req: http.IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? 'unknown';
}
