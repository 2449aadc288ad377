import type { NextFunction, Request, Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '@parley/contracts/errors';
import type { GatewayConfig } from '../config.ts';
import { clientIp } from './origin.ts';

type Middleware = (req: Request, res: Response, next: NextFunction) => Promise<void>;

/**
 * Every abuse limit of the gateway behind one interface, so the app and the WebSocket server
 * do not care where the counters live. Today's are per replica, in memory: with N replicas
 * behind a balancer an address gets up to N times the limit, which still stops a flood.
 */
export interface Limits {
  /** REST: all of /api, new visitor sessions, uploads (429 with Retry-After). */
  restPerIp: Middleware;
  visitorSessions: Middleware;
  uploads: Middleware;
  /** Login: throws rate_limited (setting Retry-After) while an account or address is locked. */
  loginAllowed(email: string, req: Request, res: Response): Promise<void>;
  loginFailed(email: string, req: Request): Promise<void>;
  loginSucceeded(email: string): Promise<void>;
  /** One WebSocket frame of a connection from an address; false when over the limit. */
  allowFrame(connectionId: string, ip: string): Promise<boolean>;
  /** The client address the limits count (X-Forwarded-For only behind a trusted proxy). */
  ipOf(req: import('node:http').IncomingMessage): string;
}

function retryAfter(res: Response, rejected: RateLimiterRes): void {
  res.setHeader('Retry-After', String(Math.ceil(rejected.msBeforeNext / 1000)));
}

export function createMemoryLimits(cfg: GatewayConfig): Limits {
  const ipOf = (req: import('node:http').IncomingMessage) => clientIp(req, cfg.TRUST_PROXY);
  const loginWindow = Math.ceil(cfg.LOGIN_WINDOW / 1000);
  const loginsPerAccount = new RateLimiterMemory({
    points: cfg.LOGIN_MAX_ATTEMPTS_PER_ACCOUNT,
    duration: loginWindow,
  });
  const loginsPerIp = new RateLimiterMemory({
    points: cfg.LOGIN_MAX_ATTEMPTS_PER_IP,
    duration: loginWindow,
  });
  const rateWindowSeconds = Math.ceil(cfg.HTTP_RATE_WINDOW / 1000);
  const perIp = (points: number, what: string): Middleware => {
    const limiter = new RateLimiterMemory({ points, duration: rateWindowSeconds });
    return async (req, res, next) => {
      try {
        await limiter.consume(ipOf(req));
      } catch (rejected) {
        if (!(rejected instanceof RateLimiterRes)) throw rejected;
        retryAfter(res, rejected);
        throw new AppError('rate_limited', `Too many ${what} from your address: try again later`);
      }
      next();
    };
  };
  const framesPerConnection = new RateLimiterMemory({
    points: cfg.WS_MAX_MESSAGES_PER_SECOND,
    duration: 1,
  });
  const framesPerIp = new RateLimiterMemory({
    points: cfg.WS_MAX_MESSAGES_PER_SECOND_PER_IP,
    duration: 1,
  });

  return {
    ipOf,
    restPerIp: perIp(cfg.HTTP_MAX_REQUESTS_PER_IP, 'requests'),
    visitorSessions: perIp(cfg.VISITOR_SESSIONS_PER_IP, 'new visitor sessions'),
    uploads: perIp(cfg.ATTACHMENT_UPLOADS_PER_IP, 'uploads'),
    async loginAllowed(email, req, res) {
      const [byAccount, byIp] = await Promise.all([
        loginsPerAccount.get(email),
        loginsPerIp.get(ipOf(req)),
      ]);
      const blocked = [byAccount, byIp].find((r) => r !== null && r.remainingPoints <= 0);
      if (blocked) {
        retryAfter(res, blocked);
        throw new AppError('rate_limited', 'Too many failed logins: try again later');
      }
    },
    async loginFailed(email, req) {
      await Promise.all([
        loginsPerAccount.consume(email).catch(() => undefined),
        loginsPerIp.consume(ipOf(req)).catch(() => undefined),
      ]);
    },
    async loginSucceeded(email) {
      await loginsPerAccount.delete(email);
    },
    async allowFrame(connectionId, ip) {
      try {
        await framesPerConnection.consume(connectionId);
        await framesPerIp.consume(ip);
        return true;
      } catch {
        return false;
      }
    },
  };
}
