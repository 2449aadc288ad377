import express, { type NextFunction, type Request, type Response } from 'express';
// zod core: its types and parse functions take the contracts' zod/mini schemas (and classic ones).
import type * as z from 'zod/v4/core';
import { AppError, validationError } from '@parley/contracts/errors';
import type { Operator } from '@parley/contracts/models';
import { safeParseFast } from '@parley/runtime';
import type { Authenticator } from '../domain/authenticate.ts';
import type { OperatorPrincipal, Principal, VisitorPrincipal } from '../domain/identity.ts';

/** Parses a body, query or path parameter once; a failure is a 400 naming the bad fields. */
export function parse<S extends z.$ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = safeParseFast(schema, value);
  if (!result.success) throw validationError(result.error, what);
  return result.data;
}

/** express 5's req.query is a getter over a fresh object; copy it so zod sees plain data. */
export const queryOf = (req: Request): Record<string, unknown> => ({
  ...(req.query as Record<string, unknown>),
});

export function bearerToken(req: Request): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}

interface Locals {
  principal: Principal;
  /** For operators: the account as it is now. */
  operator: Operator | null;
}
export const principalOf = (res: Response) => (res.locals as Locals).principal;
export const visitorOf = (res: Response) => principalOf(res) as VisitorPrincipal;
export const operatorOf = (res: Response) => principalOf(res) as OperatorPrincipal;
export const accountOf = (res: Response) => (res.locals as Locals).operator;

export type Handler = (req: Request, res: Response, next: NextFunction) => unknown;

/** Who may call a route; each guard authenticates first (token, current account). */
export function createGuards(authenticator: Authenticator) {
  async function authenticate(res: Response, token: string | null): Promise<Principal> {
    const { principal, operator } = await authenticator.authenticate(token);
    Object.assign(res.locals, { principal, operator } satisfies Locals);
    return principal;
  }
  const guard =
    (allow: (p: Principal, operator: Operator | null) => boolean, refusal: string): Handler =>
    async (req, res, next) => {
      const p = await authenticate(res, bearerToken(req));
      if (!allow(p, accountOf(res))) throw new AppError('forbidden', refusal);
      next();
    };
  return {
    authenticate,
    anyone: guard(() => true, ''),
    visitors: guard((p) => p.kind === 'visitor', 'Visitors only'),
    operators: guard((p) => p.kind === 'operator', 'Operators only'),
    admins: guard((p, o) => p.kind === 'operator' && o?.role === 'admin', 'Admins only'),
  };
}
export type Guards = ReturnType<typeof createGuards>;

export interface RouteDef {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
}

/**
 * Registers a route of a contracts route table on the /api router: method and path come from
 * the table (so server and clients cannot drift apart), the handlers from the caller.
 */
export function route(router: express.Router, def: RouteDef, ...handlers: Handler[]): void {
  const path = def.path.replace(/^\/api/, '');
  const method = def.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
  router[method](path, ...handlers);
}
