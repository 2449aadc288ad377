import type { NextFunction, Request, Response } from 'express';
import { AppError } from '@parley/contracts/errors';
import { LimitRefused, type Limits, type RestLimit } from '../limits/index.ts';
import { clientIp } from './origin.ts';

type Middleware = (req: Request, res: Response, next: NextFunction) => Promise<void>;

/**
 * For a `.catch` on a limited call: a refusal carries Retry-After (the chat service's own
 * "too many logins in progress" too), then the error goes on to the error handler.
 */
export function withRetryAfter(res: { setHeader(name: string, value: string): unknown }) {
  return (err: unknown): never => {
    if (err instanceof LimitRefused) res.setHeader('Retry-After', String(err.retryAfterSeconds));
    else if (err instanceof AppError && err.code === 'rate_limited')
      res.setHeader('Retry-After', '1');
    throw err;
  };
}

/** The REST middlewares of the per-IP limits (429 with Retry-After). */
export function restLimits(limits: Limits, trustedHops: number): Record<RestLimit, Middleware> {
  const middleware =
    (limit: RestLimit): Middleware =>
    async (req, res, next) => {
      await limits.rest(limit, clientIp(req, trustedHops)).catch(withRetryAfter(res));
      next();
    };
  return {
    requests: middleware('requests'),
    visitorSessions: middleware('visitorSessions'),
    uploads: middleware('uploads'),
  };
}
