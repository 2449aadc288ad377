import type express from 'express';
import type { Request } from 'express';
import { AppError } from '@parley/contracts/errors';
import { ChatId, OperatorId, UserId, type Operator } from '@parley/contracts/models';
import { CannedResponseId } from '@parley/contracts/canned';
import * as http from '@parley/contracts/http';
import type { Logger } from '@parley/runtime';
import type { ChatAccess } from '../domain/access.ts';
import { actorOf, senderOf } from '../domain/identity.ts';
import { withRetryAfter } from './limits.ts';
import { clientIp } from './origin.ts';
import { operatorOf, parse, queryOf, route } from './routes.ts';
import { messagesPage, type RouteDeps } from './visitor-routes.ts';

const chatIdParam = (req: Request) => parse(ChatId, req.params.chat_id, 'chat id');

type ConsoleDeps = RouteDeps & { access: ChatAccess; logger: Logger };
const routes = http.consoleRoutes;

/** The operator console: login, chats, accounts, routing, visitors. */
export function consoleRoutes(api: express.Router, deps: ConsoleDeps): void {
  loginRoute(api, deps);
  chatRoutes(api, deps);
  accountRoutes(api, deps);
  routingRoutes(api, deps);
  cannedRoutes(api, deps);
  labelRoutes(api, deps);
}

/** Labels: admins manage the set, any operator labels a chat. */
function labelRoutes(api: express.Router, deps: ConsoleDeps): void {
  const { rpc } = deps;
  const { operators, admins } = deps.guards;
  route(api, routes.listLabels, operators, async (_req, res) => {
    res.json(await rpc('chat.rpc.label_list', {}));
  });
  route(api, routes.createLabel, admins, async (req, res) => {
    const body = parse(http.CreateLabelBody, req.body, 'body');
    res.status(201).json(await rpc('chat.rpc.label_create', body));
  });
  route(api, routes.deleteLabel, admins, async (req, res) => {
    const id = parse(CannedResponseId, req.params.id, 'label id');
    await rpc('chat.rpc.label_delete', { id });
    res.status(204).end();
  });
  route(api, routes.setChatLabels, operators, async (req, res) => {
    const body = parse(http.SetChatLabelsBody, req.body, 'body');
    res.json(
      await rpc('chat.rpc.set_chat_labels', { chat_id: chatIdParam(req), labels: body.labels }),
    );
  });
}

/** Canned replies: the chat service applies the team/personal rights for the acting operator. */
function cannedRoutes(api: express.Router, deps: ConsoleDeps): void {
  const { rpc } = deps;
  const { operators } = deps.guards;
  const idParam = (req: Request) => parse(CannedResponseId, req.params.id, 'canned reply id');
  route(api, routes.listCanned, operators, async (_req, res) => {
    res.json(await rpc('chat.rpc.canned_list', { actor: actorOf(operatorOf(res)) }));
  });
  route(api, routes.createCanned, operators, async (req, res) => {
    const body = parse(http.CreateCannedBody, req.body, 'body');
    res
      .status(201)
      .json(await rpc('chat.rpc.canned_create', { actor: actorOf(operatorOf(res)), body }));
  });
  route(api, routes.updateCanned, operators, async (req, res) => {
    const id = idParam(req);
    const update = parse(http.UpdateCannedBody, req.body, 'body');
    res.json(await rpc('chat.rpc.canned_update', { actor: actorOf(operatorOf(res)), id, update }));
  });
  route(api, routes.deleteCanned, operators, async (req, res) => {
    const id = idParam(req);
    await rpc('chat.rpc.canned_delete', { actor: actorOf(operatorOf(res)), id });
    res.status(204).end();
  });
}

function loginRoute(api: express.Router, deps: ConsoleDeps): void {
  const { rpc, identity, limits } = deps;

  route(api, routes.login, async (req, res) => {
    const body = parse(http.LoginRequest, req.body, 'body');
    // Counted before the password is checked, so a parallel burst cannot slip past a limit.
    const operator = await limits.login
      .attempt(body.email, clientIp(req, deps.cfg.trustProxyHops), () =>
        rpc('chat.rpc.operator_authenticate', body),
      )
      .catch(withRetryAfter(res));
    if (!operator) throw new AppError('unauthorized', 'Wrong email or password');
    if (!operator.active) throw new AppError('forbidden', 'This operator account is deactivated');
    const issued = await identity.signOperator(operator);
    const response: http.LoginResponse = {
      ...issued,
      operator: {
        id: operator.id,
        email: operator.email,
        name: operator.name,
        role: operator.role,
        max_chats: operator.max_chats,
      },
    };
    res.json(response);
  });
}

function chatRoutes(api: express.Router, deps: ConsoleDeps): void {
  const { rpc } = deps;
  const { operators } = deps.guards;
  route(api, routes.listChats, operators, async (req, res) => {
    const query = parse(http.ChatListQuery, queryOf(req), 'query');
    const page = await rpc('chat.rpc.list_chats', {
      archived: query.archived === 'true',
      cursor: query.cursor ?? null,
      limit: query.limit,
      ...(query.label ? { label: query.label } : {}),
    });
    if (page.next_cursor) res.setHeader(http.NEXT_CURSOR_HEADER, page.next_cursor);
    res.json(page.items);
  });

  // Opening a chat in the console marks it viewed.
  route(api, routes.getChat, operators, async (req, res) => {
    const chatId = chatIdParam(req);
    const query = parse(http.ChatQuery, queryOf(req), 'query');
    await rpc('chat.rpc.mark_viewed', {
      chat_id: chatId,
      operator_id: operatorOf(res).operator_id,
    });
    res.json(
      await rpc('chat.rpc.admin_chat', { chat_id: chatId, viewer: null, limit: query.limit }),
    );
  });

  route(api, routes.chatMessages, operators, async (req, res) => {
    const query = parse(http.MessagesQuery, queryOf(req), 'query');
    res.json(await messagesPage(rpc, chatIdParam(req), query, 'operator'));
  });

  route(api, routes.sendNote, operators, async (req, res) => {
    const chatId = chatIdParam(req);
    const body = parse(http.SendNoteBody, req.body, 'body');
    // Any operator may annotate any chat they can open, assigned or not.
    const result = await rpc('chat.rpc.send_message', {
      chat_id: chatId,
      content: body.content,
      client_id: body.client_id,
      attachment_ids: [],
      internal: true,
      ...senderOf(operatorOf(res)),
    });
    res.status(result.duplicate ? 200 : 201).json(result);
  });

  route(api, routes.mentions, operators, async (_req, res) => {
    res.json(await rpc('chat.rpc.mentions', { operator_id: operatorOf(res).operator_id }));
  });

  route(api, routes.sendMessage, operators, async (req, res) => {
    const chatId = chatIdParam(req);
    const body = parse(http.SendMessageRequest, req.body, 'body');
    await deps.access.assertAccess(operatorOf(res), chatId);
    const result = await rpc('chat.rpc.send_message', {
      chat_id: chatId,
      ...body,
      ...senderOf(operatorOf(res)),
    });
    res.status(result.duplicate ? 200 : 201).json(result);
  });

  // An operator with the chat open sees new visitor messages as they arrive: mark them viewed.
  route(api, routes.markViewed, operators, async (req, res) => {
    res.json(
      await rpc('chat.rpc.mark_viewed', {
        chat_id: chatIdParam(req),
        operator_id: operatorOf(res).operator_id,
      }),
    );
  });

  route(api, routes.archive, operators, async (req, res) => {
    res.json(await rpc('chat.rpc.archive', { chat_id: chatIdParam(req) }));
  });
  route(api, routes.unarchive, operators, async (req, res) => {
    res.json(await rpc('chat.rpc.unarchive', { chat_id: chatIdParam(req) }));
  });
}

/** Operator accounts (admins only), the email outbox, visitor details. */
function accountRoutes(api: express.Router, deps: ConsoleDeps): void {
  const { rpc } = deps;
  const { operators, admins } = deps.guards;
  route(api, routes.listOperators, admins, async (req, res) => {
    res.json(await rpc('chat.rpc.operator_list', {}));
  });

  /** Routing re-reads capacity/activity; the account change itself is already durable. */
  async function tellRouting(operator: Operator): Promise<void> {
    try {
      await rpc('routing.rpc.operator_updated', { operator });
    } catch (err) {
      deps.logger.warn(
        { err, operator: operator.id },
        'routing did not take the operator update; it follows chat.evt.operator_changed',
      );
    }
  }

  route(api, routes.createOperator, admins, async (req, res) => {
    const body = parse(http.CreateOperatorRequest, req.body, 'body');
    const operator = await rpc('chat.rpc.operator_create', body);
    await tellRouting(operator);
    res.status(201).json(operator);
  });

  route(api, routes.updateOperator, admins, async (req, res) => {
    const id = parse(OperatorId, req.params.operator_id, 'operator id');
    const update = parse(http.UpdateOperatorRequest, req.body, 'body');
    if (
      id === operatorOf(res).operator_id &&
      (update.active === false || update.role === 'agent')
    ) {
      throw new AppError('conflict', 'You cannot deactivate or demote your own account');
    }
    const operator = await rpc('chat.rpc.operator_update', { id, update });
    await tellRouting(operator);
    res.json(operator);
  });

  route(api, routes.outbox, admins, async (req, res) => {
    res.json(await rpc('notify.rpc.outbox_list', { limit: 100 }));
  });

  route(api, routes.visitorDetails, operators, async (req, res) => {
    const userId = parse(UserId, req.params.user_id, 'user id');
    const [profile, online, sessions] = await Promise.all([
      rpc('chat.rpc.visitor_profile', { user_id: userId }),
      rpc('routing.rpc.online_visitor', { user_id: userId }),
      rpc('routing.rpc.visitor_sessions', { user_id: userId }),
    ]);
    if (!profile) throw new AppError('not_found', 'Visitor not found');
    const response: http.VisitorDetailsResponse = {
      profile,
      online,
      sessions,
    };
    res.json(response);
  });
}

function routingRoutes(api: express.Router, deps: ConsoleDeps): void {
  const { rpc } = deps;
  const { operators } = deps.guards;
  // Actors carry the account's current role (the guards re-read it), never the token's.
  route(api, routes.routingMe, operators, async (req, res) => {
    res.json(await rpc('routing.rpc.me', { operator_id: operatorOf(res).operator_id }));
  });
  route(api, routes.setStatus, operators, async (req, res) => {
    const body = parse(http.SetStatusRequest, req.body, 'body');
    res.json(
      await rpc('routing.rpc.set_status', {
        operator_id: operatorOf(res).operator_id,
        status: body.status,
      }),
    );
  });
  route(api, routes.queue, operators, async (req, res) => {
    res.json(await rpc('routing.rpc.queue', {}));
  });
  route(api, routes.operatorsPresence, operators, async (req, res) => {
    res.json(await rpc('routing.rpc.operators', {}));
  });
  route(api, routes.session, operators, async (req, res) => {
    res.json(await rpc('routing.rpc.session', { chat_id: chatIdParam(req) }));
  });
  route(api, routes.take, operators, async (req, res) => {
    res.json(
      await rpc('routing.rpc.take', {
        chat_id: chatIdParam(req),
        operator_id: operatorOf(res).operator_id,
      }),
    );
  });
  route(api, routes.transfer, operators, async (req, res) => {
    const body = parse(http.TransferRequest, req.body, 'body');
    res.json(
      await rpc('routing.rpc.transfer', {
        chat_id: chatIdParam(req),
        actor: actorOf(operatorOf(res)),
        to_operator_id: body.to_operator_id,
        force: body.force,
      }),
    );
  });
  route(api, routes.close, operators, async (req, res) => {
    res.json(
      await rpc('routing.rpc.close', {
        chat_id: chatIdParam(req),
        actor: actorOf(operatorOf(res)),
      }),
    );
  });
  // The whole list, for older consoles: gathered page by page, as no one NATS reply may hold it.
  route(api, routes.onlineVisitors, operators, async (req, res) => {
    const all: http.OnlineVisitorsQuery = { filter: 'all', sort: 'oldest', offset: 0, limit: 100 };
    const visitors: http.OnlineVisitorsPage['visitors'] = [];
    for (;;) {
      const page: http.OnlineVisitorsPage = await rpc('routing.rpc.online_visitors_page', {
        ...all,
        offset: visitors.length,
      });
      visitors.push(...page.visitors);
      if (page.visitors.length === 0 || visitors.length >= page.total) break;
    }
    res.json(visitors);
  });
  route(api, routes.onlineVisitorsPage, operators, async (req, res) => {
    const query = parse(http.OnlineVisitorsQuery, queryOf(req), 'query');
    res.json(await rpc('routing.rpc.online_visitors_page', query));
  });
  route(api, routes.invite, operators, async (req, res) => {
    const userId = parse(UserId, req.params.user_id, 'user id');
    const body = parse(http.InviteRequest, req.body, 'body');
    res.json(
      await rpc('routing.rpc.invite', {
        operator_id: operatorOf(res).operator_id,
        user_id: userId,
        message: body.message,
      }),
    );
  });
}
