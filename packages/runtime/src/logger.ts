import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths never written to logs: tokens, passwords, emails, authorization headers. */
export const redactPaths = [
  'token',
  '*.token',
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
