import type express from 'express';
import type { Response } from 'express';
import { AppError } from '@parley/contracts/errors';
import type { ChatId, SupportChat, UserId } from '@parley/contracts/models';
import * as http from '@parley/contracts/http';
import type { Bus } from '@parley/runtime';
import type { GatewayConfig } from '../config.ts';
import type { Rpc } from '../adapters/chat-nats.ts';
import type { SpentLinks } from '../adapters/spent-links.ts';
import {
  identifiedUserId,
  newAnonymousUserId,
  senderOf,
  visitorIdentity,
  type Identity,
} from '../domain/identity.ts';
import type { WsTickets } from '../domain/tickets.ts';
import type { VisitorChats } from '../domain/visitor-chats.ts';
import { emailLinkRoute } from './email-link.ts';
import type { Limits } from '../limits/index.ts';
import type { restLimits } from './limits.ts';
import { accountOf, parse, principalOf, queryOf, route, visitorOf, type Guards } from './routes.ts';
import { unsubscribeRoutes } from './unsubscribe.ts';

export interface RouteDeps {
  cfg: GatewayConfig;
  bus: Bus;
  rpc: Rpc;
  identity: Identity;
  guards: Guards;
  limits: Limits;
  /** The per-IP REST limits as middlewares. */
  rest: ReturnType<typeof restLimits>;
  tickets: WsTickets;
  visitorChats: VisitorChats;
  spentLinks: SpentLinks;
}

/** A page of a chat's messages: after a seq, before one, or the newest. */
export async function messagesPage(
  rpc: Rpc,
  chatId: ChatId,
  query: http.MessagesQuery,
  /** Operators read internal notes too; visitors never. */
  reader: 'visitor' | 'operator',
): Promise<http.MessagesPage> {
  const includeInternal = reader === 'operator';
  if (query.after_seq !== undefined) {
    return rpc('chat.rpc.messages_after', {
      chat_id: chatId,
      after_seq: query.after_seq,
      limit: query.limit,
      include_internal: includeInternal,
    });
  }
  let beforeSeq = query.before_seq;
  if (beforeSeq === undefined) {
    const summary = await rpc('chat.rpc.chat_summary', { chat_id: chatId });
    if (!summary) throw new AppError('not_found', 'Chat not found');
    beforeSeq = summary.last_seq + 1;
  }
  return rpc('chat.rpc.messages_before', {
    chat_id: chatId,
    before_seq: beforeSeq,
    limit: query.limit,
    include_internal: includeInternal,
  });
}

const routes = http.visitorRoutes;

/**
 * Visitor identity and the visitor's own chat; the session-wide routes (me, logout, ws_ticket);
 * the links in emails (open the conversation, unsubscribe).
 */
export function visitorRoutes(api: express.Router, deps: RouteDeps): void {
  sessionRoutes(api, deps);
  visitorChatRoutes(api, deps);
  emailLinkRoute(api, deps);
  unsubscribeRoutes(api, deps);
}

function sessionRoutes(api: express.Router, deps: RouteDeps): void {
  const { identity, guards } = deps;

  route(api, routes.session, deps.rest.visitorSessions, async (req, res) => {
    const body = parse(http.VisitorSessionRequest, req.body ?? {}, 'body');
    let visitor: {
      user_id: UserId;
      identified: boolean;
      name: string | null;
      email: string | null;
    } | null = null;
    if (body.user_id !== undefined && body.user_hash !== undefined) {
      // The host site vouches for its logged-in user; without a valid hash the visitor stays anonymous.
      const userId = identifiedUserId(body.user_id);
      if (userId && identity.verifyUserHash(body.user_id, body.user_hash)) {
        visitor = {
          user_id: userId,
          identified: true,
          name: body.name ?? null,
          email: body.email ?? null,
        };
      }
    }
    if (!visitor && body.token) {
      // A returning anonymous visitor keeps its id only by presenting its previous valid token.
      const previous = await identity.verify(body.token);
      if (
        previous?.kind === 'visitor' &&
        !previous.identified &&
        (body.visitor_id === undefined || body.visitor_id === previous.user_id)
      ) {
        visitor = {
          user_id: previous.user_id,
          identified: false,
          name: body.name ?? previous.name,
          email: body.email ?? previous.email,
        };
      }
    }
    visitor ??= {
      user_id: newAnonymousUserId(),
      identified: false,
      name: body.name ?? null,
      email: body.email ?? null,
    };
    const issued = await identity.signVisitor(visitor);
    const response: http.VisitorSessionResponse = {
      ...issued,
      visitor: {
        id: visitor.user_id,
        name: visitor.name,
        email: visitor.email,
        identified: visitor.identified,
      },
    };
    res.json(response);
  });

  route(api, routes.logout, guards.anyone, async (req, res) => {
    const { jti, exp } = principalOf(res);
    identity.revocations.revoke(jti, exp);
    // Stored in JetStream before answering: once logout succeeds, every replica (also ones
    // started later) refuses the token. msgId makes a retried logout one entry.
    await deps.bus.publishDurable(
      'gateway.token_revoked',
      { jti, exp },
      { msgId: `logout-${jti}` },
    );
    res.status(204).end();
  });

  route(api, routes.me, guards.anyone, (req, res) => {
    const p = principalOf(res);
    const operator = accountOf(res);
    const response: http.MeResponse =
      p.kind === 'operator' && operator
        ? { kind: 'operator', operator }
        : {
            kind: 'visitor',
            visitor: {
              id: visitorOf(res).user_id,
              name: visitorOf(res).name,
              email: visitorOf(res).email,
              identified: visitorOf(res).identified,
            },
          };
    res.json(response);
  });

  route(api, routes.wsTicket, guards.anyone, async (req, res) => {
    const response: http.WsTicketResponse = await deps.tickets.issue(principalOf(res));
    res.json(response);
  });
}

function visitorChatRoutes(api: express.Router, deps: RouteDeps): void {
  const { rpc, guards, visitorChats } = deps;
  const chatIdOf = (res: Response) => visitorChats.chatIdOf(visitorIdentity(visitorOf(res)));

  route(api, routes.chat, guards.visitors, async (req, res) => {
    const query = parse(http.ChatQuery, queryOf(req), 'query');
    const visitor = visitorOf(res);
    const chat: SupportChat = await rpc('chat.rpc.visitor_chat', {
      visitor: visitorIdentity(visitor),
      limit: query.limit,
    });
    visitorChats.remember(visitor.user_id, chat.id);
    res.json(chat);
  });

  route(api, routes.markRead, guards.visitors, async (req, res) => {
    const result: http.MarkReadResponse = await rpc('chat.rpc.mark_read', {
      chat_id: await chatIdOf(res),
    });
    res.json(result);
  });

  route(api, routes.profile, guards.visitors, async (req, res) => {
    const update = parse(http.VisitorProfileUpdate, req.body ?? {}, 'body');
    const visitor = visitorOf(res);
    if (visitor.identified) {
      throw new AppError('forbidden', 'The host site manages the profile of an identified user');
    }
    res.json(await rpc('chat.rpc.update_visitor', { user_id: visitor.user_id, update }));
  });

  route(api, routes.sessionStatus, guards.visitors, async (req, res) => {
    res.json(await rpc('routing.rpc.session', { chat_id: await chatIdOf(res) }));
  });

  route(api, routes.messages, guards.visitors, async (req, res) => {
    const query = parse(http.MessagesQuery, queryOf(req), 'query');
    res.json(await messagesPage(rpc, await chatIdOf(res), query, 'visitor'));
  });

  route(api, routes.sendMessage, guards.visitors, async (req, res) => {
    const body = parse(http.SendMessageRequest, req.body, 'body');
    const result: http.SendMessageResponse = await rpc('chat.rpc.send_message', {
      chat_id: await chatIdOf(res),
      ...body,
      ...senderOf(visitorOf(res)),
    });
    res.status(result.duplicate ? 200 : 201).json(result);
  });
}
