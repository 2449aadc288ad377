/**
 * The email's "Open the conversation" link: POST /api/visitor/email_link exchanges its signed
 * token for a session of the visitor the email went to, once (see adapters/spent-links.ts).
 */
import type express from 'express';
import { AppError } from '@parley/contracts/errors';
import { UserId } from '@parley/contracts/models';
import * as http from '@parley/contracts/http';
import { verifyChatLinkToken } from '@parley/runtime';
import type { SpentLinks } from '../adapters/spent-links.ts';
import { parse, route } from './routes.ts';
import type { RouteDeps } from './visitor-routes.ts';

export function emailLinkRoute(
  api: express.Router,
  deps: RouteDeps & { spentLinks: SpentLinks },
): void {
  route(api, http.visitorRoutes.emailLink, deps.rest.visitorSessions, async (req, res) => {
    const body = parse(http.EmailLinkRequest, req.body ?? {}, 'body');
    const link = await verifyChatLinkToken(deps.cfg.unsubscribeSecret, body.token);
    if (!link.ok) {
      throw new AppError(
        'unauthorized',
        link.reason === 'expired'
          ? 'This link has expired. Start a new chat, or open the newest email.'
          : 'This link is not valid. Start a new chat, or open the newest email.',
        { reason: link.reason },
      );
    }
    const userId = UserId.safeParse(link.userId);
    if (!userId.success)
      throw new AppError('unauthorized', 'This link is not valid.', { reason: 'invalid' });
    const profile = await deps.rpc('chat.rpc.visitor_profile', { user_id: userId.data });
    if (!(await deps.spentLinks.spend(link.jti))) {
      throw new AppError(
        'conflict',
        'This link was already used. Start a new chat, or open the newest email.',
        { reason: 'spent' },
      );
    }
    const visitor = {
      user_id: userId.data,
      identified: profile?.identified ?? false,
      name: profile?.name ?? null,
      email: profile?.email ?? null,
    };
    const issued = await deps.identity.signVisitor(visitor);
    const response: http.EmailLinkResponse = {
      ...issued,
      visitor: {
        id: visitor.user_id,
        name: visitor.name,
        email: visitor.email,
        identified: visitor.identified,
      },
      chat_id: link.chatId,
    };
    res.setHeader('Cache-Control', 'no-store');
    res.json(response);
  });
}
