import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths never written to logs: tokens and tickets, passwords, emails, authorization headers, URLs with queries. */
export const redactPaths = [
  'token',
  '*.token',
  'ticket',
  '*.ticket',
  'req.url',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'email',
  '*.email',
  'user_email',
  '*.user_email',
  'user_hash',
  '*.user_hash',
];

export function createLogger(service: string, level: string = 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/**
 * Logs a client's connection errors (ioredis, …) at most once per `everyMs`: without a listener
 * they print as "Unhandled error event" on every reconnect attempt; with a plain one they flood.
 */
export function logConnectionErrors(
  client: { on(event: 'error', listener: (err: Error) => void): unknown },
  logger: Logger,
  what: string,
  everyMs = 10_000,
): void {
  let lastLoggedAt = 0;
  client.on('error', (err) => {
    const now = Date.now();
    if (now - lastLoggedAt < everyMs) return;
    lastLoggedAt = now;
    logger.warn({ err }, `${what} unreachable; reconnecting`);
  });
}
