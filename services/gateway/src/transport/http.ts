import { existsSync } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import express, { type NextFunction, type Request, type Response } from 'express';
import busboy from 'busboy';
import { RateLimiterRes } from 'rate-limiter-flexible';
// zod core: its types and parse functions take the contracts' zod/mini schemas (and classic ones).
import * as z from 'zod/v4/core';
import {
  AppError,
  ErrorBody,
  httpStatusByErrorCode,
  validationError,
} from '@parley/contracts/errors';
import {
  Attachment,
  AttachmentId,
  ChatId,
  OperatorId,
  UserId,
  type Operator,
  type SupportChat,
} from '@parley/contracts/models';
import * as http from '@parley/contracts/http';
import { safeParseFast, verifyUnsubscribeToken, type Bus, type Logger } from '@parley/runtime';
import type { GatewayConfig } from '../config.ts';
import type { ChatAccess } from '../domain/access.ts';
import {
  actorOf,
  identifiedUserId,
  newAnonymousUserId,
  senderOf,
  visitorIdentity,
  type Identity,
  type OperatorPrincipal,
  type Principal,
  type VisitorPrincipal,
} from '../domain/identity.ts';
import { clientIp, isOriginAllowed } from './origin.ts';
import { withRetryAfter, type Limits } from '../limits/index.ts';

const JSON_BODY_LIMIT = '64kb';

/** Parses a body, query or path parameter once; a failure is a 400 naming the bad fields. */
function parse<S extends z.$ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = safeParseFast(schema, value);
  if (!result.success) throw validationError(result.error, what);
  return result.data;
}

/** express 5's req.query is a getter over a fresh object; copy it so zod sees plain data. */
const queryOf = (req: Request): Record<string, unknown> => ({
  ...(req.query as Record<string, unknown>),
});

function bearerToken(req: Request): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}

interface Locals {
  principal: Principal;
  /** For operators: the account as stored now (role and active re-read on every request). */
  operator?: Operator;
}
const locals = (res: Response) => res.locals as Locals;
const visitorOf = (res: Response) => locals(res).principal as VisitorPrincipal;
const operatorOf = (res: Response) => locals(res).principal as OperatorPrincipal;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function htmlPage(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#1f2937}</style></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(body)}</p></body></html>`;
}

export function createHttpApp(deps: {
  cfg: GatewayConfig;
  bus: Bus;
  identity: Identity;
  access: ChatAccess;
  logger: Logger;
  limits: Limits;
}): express.Express {
  const { cfg, bus, identity, access } = deps;
  const log = deps.logger.child({ module: 'http' });
  const rpcOpts = { timeoutMs: cfg.RPC_TIMEOUT };
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', cfg.trustProxyHops); // req.ip agrees with clientIp()

  app.use((req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // The console is never framed (clickjacking); the widget is, by the host sites.
    if (req.path === '/admin' || req.path.startsWith('/admin/')) {
      res.setHeader('X-Frame-Options', 'DENY');
      res.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
    }
    next();
  });

  // ---------------------------------------------------------------- CORS (origin allowlist)
  app.use('/api', (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    if (!isOriginAllowed(origin, req.headers.host, cfg)) {
      throw new AppError('forbidden', 'Origin not allowed');
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Expose-Headers', http.NEXT_CURSOR_HEADER);
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET,POST,PUT,PATCH,DELETE');
      res.setHeader(
        'Access-Control-Allow-Headers',
        'authorization,content-type,x-chat-id,x-filename',
      );
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  });

  // ---------------------------------------------------------------- per-IP request limits
  // After CORS so a browser can read the 429. Shared by all replicas through Redis (deps.limits).
  const rateWindowSeconds = Math.ceil(cfg.HTTP_RATE_WINDOW / 1000);
  const perIp = (points: number, what: string) => {
    const limiter = deps.limits.limiter(`rest ${what}`, points, rateWindowSeconds);
    return async (req: Request, res: Response, next: NextFunction) => {
      try {
        await limiter.consume(clientIp(req, cfg.trustProxyHops));
      } catch (rejected) {
        if (!(rejected instanceof RateLimiterRes)) throw rejected;
        res.setHeader('Retry-After', String(Math.ceil(rejected.msBeforeNext / 1000)));
        throw new AppError('rate_limited', `Too many ${what} from your address: try again later`);
      }
      next();
    };
  };
  app.use('/api', perIp(cfg.HTTP_MAX_REQUESTS_PER_IP, 'requests'));
  const sessionsPerIp = perIp(cfg.VISITOR_SESSIONS_PER_IP, 'new visitor sessions');
  const uploadsPerIp = perIp(cfg.ATTACHMENT_UPLOADS_PER_IP, 'uploads');

  // ---------------------------------------------------------------- authentication
  async function authenticate(
    req: Request,
    res: Response,
    token: string | null,
  ): Promise<Principal> {
    if (!token) throw new AppError('unauthorized', 'A token is required');
    const principal = await identity.verify(token);
    if (!principal) throw new AppError('unauthorized', 'Token invalid or expired');
    locals(res).principal = principal;
    if (principal.kind === 'operator') {
      const operator = await bus.request(
        'chat.rpc.operator_get',
        { id: principal.operator_id },
        rpcOpts,
      );
      if (!operator?.active) throw new AppError('unauthorized', 'Operator account is deactivated');
      locals(res).operator = operator;
    }
    return principal;
  }

  const anyone = async (req: Request, res: Response, next: NextFunction) => {
    await authenticate(req, res, bearerToken(req));
    next();
  };
  const visitorsOnly = async (req: Request, res: Response, next: NextFunction) => {
    const p = await authenticate(req, res, bearerToken(req));
    if (p.kind !== 'visitor') throw new AppError('forbidden', 'Visitors only');
    next();
  };
  const operatorsOnly = async (req: Request, res: Response, next: NextFunction) => {
    const p = await authenticate(req, res, bearerToken(req));
    if (p.kind !== 'operator') throw new AppError('forbidden', 'Operators only');
    next();
  };
  const adminsOnly = async (req: Request, res: Response, next: NextFunction) => {
    const p = await authenticate(req, res, bearerToken(req));
    if (p.kind !== 'operator' || locals(res).operator?.role !== 'admin') {
      throw new AppError('forbidden', 'Admins only');
    }
    next();
  };

  const api = express.Router();
  api.use(express.json({ limit: JSON_BODY_LIMIT }));

  // ---------------------------------------------------------------- visitor identity
  api.post('/visitor/session', sessionsPerIp, async (req, res) => {
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

  // ---------------------------------------------------------------- operator auth
  api.post('/auth/login', async (req, res) => {
    const body = parse(http.LoginRequest, req.body, 'body');
    const ip = clientIp(req, cfg.trustProxyHops);
    const operator = await deps.limits.login
      .attempt(body.email, ip, () => bus.request('chat.rpc.operator_authenticate', body, rpcOpts))
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

  api.post('/auth/logout', anyone, async (req, res) => {
    const { jti, exp } = locals(res).principal;
    identity.revocations.revoke(jti, exp);
    // Stored in JetStream before answering: once logout succeeds, every replica (also ones
    // started later) refuses the token. msgId makes a retried logout one entry.
    await bus.publishDurable('gateway.token_revoked', { jti, exp }, { msgId: `logout-${jti}` });
    res.status(204).end();
  });

  api.get('/auth/me', anyone, (req, res) => {
    const p = locals(res).principal;
    const operator = locals(res).operator;
    const response: http.MeResponse =
      p.kind === 'operator' && operator
        ? { kind: 'operator', operator }
        : {
            kind: 'visitor',
            visitor: {
              id: (p as VisitorPrincipal).user_id,
              name: (p as VisitorPrincipal).name,
              email: (p as VisitorPrincipal).email,
              identified: (p as VisitorPrincipal).identified,
            },
          };
    res.json(response);
  });

  // ---------------------------------------------------------------- visitor's own chat
  const visitorChat = (res: Response, limit: number) =>
    bus.request(
      'chat.rpc.visitor_chat',
      { visitor: visitorIdentity(visitorOf(res)), limit },
      rpcOpts,
    );

  async function messagesPage(
    chatId: ChatId,
    query: http.MessagesQuery,
    lastSeq: () => Promise<number>,
  ) {
    if (query.after_seq !== undefined) {
      return bus.request(
        'chat.rpc.messages_after',
        { chat_id: chatId, after_seq: query.after_seq, limit: query.limit },
        rpcOpts,
      );
    }
    const beforeSeq = query.before_seq ?? (await lastSeq()) + 1;
    return bus.request(
      'chat.rpc.messages_before',
      { chat_id: chatId, before_seq: beforeSeq, limit: query.limit },
      rpcOpts,
    );
  }

  api.get('/support_chat', visitorsOnly, async (req, res) => {
    const query = parse(http.ChatQuery, queryOf(req), 'query');
    const chat: SupportChat = await visitorChat(res, query.limit);
    res.json(chat);
  });

  api.patch('/support_chat/mark_read', visitorsOnly, async (req, res) => {
    const chat = await visitorChat(res, 1);
    const result: http.MarkReadResponse = await bus.request(
      'chat.rpc.mark_read',
      { chat_id: chat.id },
      rpcOpts,
    );
    res.json(result);
  });

  api.patch('/support_chat/profile', visitorsOnly, async (req, res) => {
    const update = parse(http.VisitorProfileUpdate, req.body ?? {}, 'body');
    const visitor = visitorOf(res);
    if (visitor.identified) {
      throw new AppError('forbidden', 'The host site manages the profile of an identified user');
    }
    res.json(
      await bus.request('chat.rpc.update_visitor', { user_id: visitor.user_id, update }, rpcOpts),
    );
  });

  api.get('/support_chat/messages', visitorsOnly, async (req, res) => {
    const query = parse(http.MessagesQuery, queryOf(req), 'query');
    const chat = await visitorChat(res, 1);
    const page: http.MessagesPage = await messagesPage(chat.id, query, async () => chat.last_seq);
    res.json(page);
  });

  api.post('/support_chat/messages', visitorsOnly, async (req, res) => {
    const body = parse(http.SendMessageRequest, req.body, 'body');
    const chat = await visitorChat(res, 1);
    const result: http.SendMessageResponse = await bus.request(
      'chat.rpc.send_message',
      { chat_id: chat.id, ...body, ...senderOf(visitorOf(res)) },
      rpcOpts,
    );
    res.status(result.duplicate ? 200 : 201).json(result);
  });

  // ---------------------------------------------------------------- console: chats
  const chatIdParam = (req: Request) => parse(ChatId, req.params.chat_id, 'chat id');

  api.get('/admin/chats', operatorsOnly, async (req, res) => {
    const query = parse(http.ChatListQuery, queryOf(req), 'query');
    const page = await bus.request(
      'chat.rpc.list_chats',
      { archived: query.archived === 'true', cursor: query.cursor ?? null, limit: query.limit },
      rpcOpts,
    );
    if (page.next_cursor) res.setHeader(http.NEXT_CURSOR_HEADER, page.next_cursor);
    res.json(page.items);
  });

  api.get('/admin/chats/:chat_id', operatorsOnly, async (req, res) => {
    const chatId = chatIdParam(req);
    const query = parse(http.ChatQuery, queryOf(req), 'query');
    const chat = await bus.request(
      'chat.rpc.admin_chat',
      { chat_id: chatId, viewer: operatorOf(res).operator_id, limit: query.limit },
      rpcOpts,
    );
    res.json(chat);
  });

  api.get('/admin/chats/:chat_id/messages', operatorsOnly, async (req, res) => {
    const chatId = chatIdParam(req);
    const query = parse(http.MessagesQuery, queryOf(req), 'query');
    const page = await messagesPage(chatId, query, async () => {
      const summary = await bus.request('chat.rpc.chat_summary', { chat_id: chatId }, rpcOpts);
      if (!summary) throw new AppError('not_found', 'Chat not found');
      return summary.last_seq;
    });
    res.json(page);
  });

  api.post('/admin/chats/:chat_id/messages', operatorsOnly, async (req, res) => {
    const chatId = chatIdParam(req);
    const body = parse(http.SendMessageRequest, req.body, 'body');
    await access.assertAccess(operatorOf(res), chatId);
    const result = await bus.request(
      'chat.rpc.send_message',
      { chat_id: chatId, ...body, ...senderOf(operatorOf(res)) },
      rpcOpts,
    );
    res.status(result.duplicate ? 200 : 201).json(result);
  });

  // An operator with the chat open sees new visitor messages as they arrive: mark them viewed
  // (admin_chat with a viewer sets admin_viewed_at and publishes chat_viewed).
  api.post('/admin/chats/:chat_id/viewed', operatorsOnly, async (req, res) => {
    const chatId = chatIdParam(req);
    await bus.request(
      'chat.rpc.admin_chat',
      { chat_id: chatId, viewer: operatorOf(res).operator_id, limit: 1 },
      rpcOpts,
    );
    const summary = await bus.request('chat.rpc.chat_summary', { chat_id: chatId }, rpcOpts);
    if (!summary) throw new AppError('not_found', 'Chat not found');
    res.json(summary);
  });

  api.post('/admin/chats/:chat_id/archive', operatorsOnly, async (req, res) => {
    res.json(await bus.request('chat.rpc.archive', { chat_id: chatIdParam(req) }, rpcOpts));
  });
  api.post('/admin/chats/:chat_id/unarchive', operatorsOnly, async (req, res) => {
    res.json(await bus.request('chat.rpc.unarchive', { chat_id: chatIdParam(req) }, rpcOpts));
  });

  // ---------------------------------------------------------------- console: operators, outbox, visitors
  api.get('/admin/operators', adminsOnly, async (req, res) => {
    res.json(await bus.request('chat.rpc.operator_list', {}, rpcOpts));
  });

  /** Routing re-reads capacity/activity; the account change itself is already durable. */
  async function tellRouting(operator: Operator): Promise<void> {
    try {
      await bus.request('routing.rpc.operator_updated', { operator }, rpcOpts);
    } catch (err) {
      log.warn(
        { err, operator: operator.id },
        'routing did not take the operator update; it follows chat.evt.operator_changed',
      );
    }
  }

  api.post('/admin/operators', adminsOnly, async (req, res) => {
    const body = parse(http.CreateOperatorRequest, req.body, 'body');
    const operator = await bus.request('chat.rpc.operator_create', body, rpcOpts);
    await tellRouting(operator);
    res.status(201).json(operator);
  });

  api.patch('/admin/operators/:operator_id', adminsOnly, async (req, res) => {
    const id = parse(OperatorId, req.params.operator_id, 'operator id');
    const update = parse(http.UpdateOperatorRequest, req.body, 'body');
    if (
      id === operatorOf(res).operator_id &&
      (update.active === false || update.role === 'agent')
    ) {
      throw new AppError('conflict', 'You cannot deactivate or demote your own account');
    }
    const operator = await bus.request('chat.rpc.operator_update', { id, update }, rpcOpts);
    await tellRouting(operator);
    res.json(operator);
  });

  api.get('/admin/outbox', adminsOnly, async (req, res) => {
    res.json(await bus.request('notify.rpc.outbox_list', { limit: 100 }, rpcOpts));
  });

  api.get('/admin/visitors/:user_id', operatorsOnly, async (req, res) => {
    const userId = parse(UserId, req.params.user_id, 'user id');
    const [profile, online, sessions] = await Promise.all([
      bus.request('chat.rpc.visitor_profile', { user_id: userId }, rpcOpts),
      bus.request('routing.rpc.online_visitors', {}, rpcOpts),
      bus.request('routing.rpc.visitor_sessions', { user_id: userId }, rpcOpts),
    ]);
    if (!profile) throw new AppError('not_found', 'Visitor not found');
    const response: http.VisitorDetailsResponse = {
      profile,
      online: online.find((v) => v.user_id === userId) ?? null,
      sessions,
    };
    res.json(response);
  });

  // ---------------------------------------------------------------- routing
  api.get('/routing/me', operatorsOnly, async (req, res) => {
    res.json(
      await bus.request('routing.rpc.me', { operator_id: operatorOf(res).operator_id }, rpcOpts),
    );
  });
  api.put('/routing/status', operatorsOnly, async (req, res) => {
    const body = parse(http.SetStatusRequest, req.body, 'body');
    res.json(
      await bus.request(
        'routing.rpc.set_status',
        { operator_id: operatorOf(res).operator_id, status: body.status },
        rpcOpts,
      ),
    );
  });
  api.get('/routing/queue', operatorsOnly, async (req, res) => {
    res.json(await bus.request('routing.rpc.queue', {}, rpcOpts));
  });
  api.get('/routing/operators', operatorsOnly, async (req, res) => {
    res.json(await bus.request('routing.rpc.operators', {}, rpcOpts));
  });
  api.get('/routing/chats/:chat_id/session', operatorsOnly, async (req, res) => {
    res.json(await bus.request('routing.rpc.session', { chat_id: chatIdParam(req) }, rpcOpts));
  });
  api.post('/routing/chats/:chat_id/take', operatorsOnly, async (req, res) => {
    res.json(
      await bus.request(
        'routing.rpc.take',
        { chat_id: chatIdParam(req), operator_id: operatorOf(res).operator_id },
        rpcOpts,
      ),
    );
  });
  api.post('/routing/chats/:chat_id/transfer', operatorsOnly, async (req, res) => {
    const body = parse(http.TransferRequest, req.body, 'body');
    res.json(
      await bus.request(
        'routing.rpc.transfer',
        {
          chat_id: chatIdParam(req),
          actor: actorOf(operatorOf(res)),
          to_operator_id: body.to_operator_id,
          force: body.force,
        },
        rpcOpts,
      ),
    );
  });
  api.post('/routing/chats/:chat_id/close', operatorsOnly, async (req, res) => {
    res.json(
      await bus.request(
        'routing.rpc.close',
        { chat_id: chatIdParam(req), actor: actorOf(operatorOf(res)) },
        rpcOpts,
      ),
    );
  });
  api.get('/visitors/online', operatorsOnly, async (req, res) => {
    res.json(await bus.request('routing.rpc.online_visitors', {}, rpcOpts));
  });
  api.post('/visitors/:user_id/invite', operatorsOnly, async (req, res) => {
    const userId = parse(UserId, req.params.user_id, 'user id');
    const body = parse(http.InviteRequest, req.body, 'body');
    res.json(
      await bus.request(
        'routing.rpc.invite',
        { operator_id: operatorOf(res).operator_id, user_id: userId, message: body.message },
        rpcOpts,
      ),
    );
  });

  // ---------------------------------------------------------------- attachments
  api.post('/attachments', uploadsPerIp, anyone, async (req, res) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > http.MAX_ATTACHMENT_BYTES + 64 * 1024) {
      throw new AppError(
        'payload_too_large',
        `Attachments are limited to ${http.MAX_ATTACHMENT_BYTES} bytes`,
      );
    }
    const principal = locals(res).principal;
    const headerChat = req.headers['x-chat-id'] ?? queryOf(req).chat_id;
    const contentType = req.headers['content-type'] ?? '';
    let attachment: Attachment;
    if (contentType.startsWith('multipart/form-data')) {
      attachment = await uploadMultipart(
        req,
        principal,
        typeof headerChat === 'string' ? headerChat : undefined,
      );
    } else {
      const chatId = parse(ChatId, headerChat, 'chat id');
      await access.assertAccess(principal, chatId);
      if (!contentType) throw new AppError('unsupported_media_type', 'Content-Type is required');
      const rawName = req.headers['x-filename'];
      let name = 'upload';
      if (typeof rawName === 'string' && rawName) {
        try {
          name = decodeURIComponent(rawName);
        } catch {
          throw new AppError('bad_request', 'x-filename must be URI-encoded');
        }
      }
      attachment = await forwardUpload(req, chatId, name, contentType);
    }
    res.status(201).json(attachment);
  });

  function uploadMultipart(
    req: Request,
    principal: Principal,
    headerChat: string | undefined,
  ): Promise<Attachment> {
    return new Promise<Attachment>((resolve, reject) => {
      let parser: busboy.Busboy;
      try {
        parser = busboy({
          headers: req.headers,
          limits: { files: 1, fields: 5, fileSize: http.MAX_ATTACHMENT_BYTES + 1 },
        });
      } catch {
        reject(new AppError('bad_request', 'Malformed multipart body'));
        return;
      }
      let chatField: string | undefined = headerChat;
      let started = false;
      parser.on('field', (name, value) => {
        if (name === http.ATTACHMENT_CHAT_FIELD) chatField = value;
      });
      parser.on('file', (name, stream, info) => {
        if (name !== http.ATTACHMENT_FILE_FIELD || started) {
          stream.resume();
          return;
        }
        started = true;
        void (async () => {
          const chatId = parse(
            ChatId,
            chatField,
            'chat id (send the chat_id field before the file)',
          );
          await access.assertAccess(principal, chatId);
          return forwardUpload(
            stream,
            chatId,
            info.filename || 'upload',
            info.mimeType || 'application/octet-stream',
          );
        })().then(resolve, (err: unknown) => {
          stream.resume();
          reject(err);
        });
      });
      parser.on('error', () => reject(new AppError('bad_request', 'Malformed multipart body')));
      parser.on('close', () => {
        if (!started)
          reject(
            new AppError(
              'bad_request',
              `A file field named "${http.ATTACHMENT_FILE_FIELD}" is required`,
            ),
          );
      });
      req.pipe(parser);
    });
  }

  /** Streams the bytes to the chat service, stopping at the size limit. */
  async function forwardUpload(
    body: Readable,
    chatId: ChatId,
    name: string,
    contentType: string,
  ): Promise<Attachment> {
    let received = 0;
    let tooLarge = false;
    const limiter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        if (received > http.MAX_ATTACHMENT_BYTES) {
          tooLarge = true;
          done(
            new AppError(
              'payload_too_large',
              `Attachments are limited to ${http.MAX_ATTACHMENT_BYTES} bytes`,
            ),
          );
          return;
        }
        done(null, chunk);
      },
    });
    body.on('error', (err) => limiter.destroy(err));
    body.pipe(limiter);
    let upstream: globalThis.Response;
    try {
      upstream = await fetch(`${cfg.CHAT_INTERNAL_URL}/internal/attachments`, {
        method: 'POST',
        headers: {
          'x-chat-id': chatId,
          'x-filename': encodeURIComponent(name),
          'content-type': contentType,
        },
        body: Readable.toWeb(limiter) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
    } catch (err) {
      if (tooLarge)
        throw new AppError(
          'payload_too_large',
          `Attachments are limited to ${http.MAX_ATTACHMENT_BYTES} bytes`,
        );
      log.warn({ err }, 'attachment upload to chat failed');
      throw new AppError('unavailable', 'Attachment storage is unavailable');
    }
    await throwIfUpstreamFailed(upstream);
    return parse(Attachment, await upstream.json(), 'attachment from chat service');
  }

  async function throwIfUpstreamFailed(upstream: globalThis.Response): Promise<void> {
    if (upstream.ok) return;
    const body = ErrorBody.safeParse(await upstream.json().catch(() => null));
    if (body.success) throw new AppError(body.data.code, body.data.message, body.data.details);
    throw new AppError('unavailable', `Attachment storage answered ${upstream.status}`);
  }

  api.get('/attachments/:attachment_id', async (req, res) => {
    const id = parse(AttachmentId, req.params.attachment_id, 'attachment id');
    // <img>/<audio> cannot send headers, so the token may come in the query string.
    const queryToken = queryOf(req).token;
    const principal = await authenticate(
      req,
      res,
      bearerToken(req) ?? (typeof queryToken === 'string' ? queryToken : null),
    );
    const meta = await bus.request('chat.rpc.attachment_get', { id }, rpcOpts);
    if (!meta || !(await access.canAccess(principal, meta.chat_id))) {
      throw new AppError('not_found', 'Attachment not found');
    }
    let upstream: globalThis.Response;
    try {
      // Forward a byte range: Safari plays <audio> only when ranges work.
      const range = req.headers.range;
      upstream = await fetch(`${cfg.CHAT_INTERNAL_URL}/internal/attachments/${id}`, {
        headers: range ? { range } : {},
      });
    } catch (err) {
      log.warn({ err }, 'attachment download from chat failed');
      throw new AppError('unavailable', 'Attachment storage is unavailable');
    }
    await throwIfUpstreamFailed(upstream);
    res.status(upstream.status === 206 ? 206 : 200);
    res.setHeader('Content-Type', meta.content_type);
    for (const header of ['content-length', 'content-range', 'accept-ranges']) {
      const value = upstream.headers.get(header);
      if (value) res.setHeader(header, value);
    }
    res.setHeader('Cache-Control', 'private, max-age=3600');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // SVG can carry script: never inline, whatever kind it was filed under.
    const inline =
      (meta.kind === 'image' || meta.kind === 'audio') && !meta.content_type.includes('svg');
    res.setHeader(
      'Content-Disposition',
      `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(meta.name)}`,
    );
    if (!upstream.body) return void res.end();
    Readable.fromWeb(upstream.body as import('node:stream/web').ReadableStream).pipe(res);
  });

  // ---------------------------------------------------------------- unsubscribe link (from emails)
  api.get('/unsubscribe', async (req, res) => {
    const token = queryOf(req).token;
    const userId =
      typeof token === 'string' ? await verifyUnsubscribeToken(cfg.unsubscribeSecret, token) : null;
    const parsedUser = UserId.safeParse(userId);
    if (!parsedUser.success) {
      res
        .status(400)
        .type('html')
        .send(
          htmlPage(
            'Link not valid',
            'This unsubscribe link is invalid. Open the newest email and try its link.',
          ),
        );
      return;
    }
    await bus.request('chat.rpc.unsubscribe', { user_id: parsedUser.data }, rpcOpts);
    res
      .type('html')
      .send(
        htmlPage(
          'Unsubscribed',
          'You will no longer receive email notifications about replies to your chat.',
        ),
      );
  });

  api.use(() => {
    throw new AppError('not_found', 'No such endpoint');
  });

  app.use('/api', api);

  // ---------------------------------------------------------------- static apps (SPA fallback)
  for (const [mount, dir] of [
    ['/widget', cfg.WIDGET_DIST],
    ['/admin', cfg.ADMIN_DIST],
  ] as const) {
    const root = path.resolve(dir);
    if (!existsSync(root)) {
      log.info({ mount, dir: root }, 'static app not built; not served');
      continue;
    }
    // Absolute asset paths and client-side routing: every page of the app, with or without a
    // trailing slash (SvelteKit's trailingSlash 'never' wants /admin itself), is index.html.
    app.use(mount, express.static(root, { index: false, redirect: false, fallthrough: true }));
    const index = path.join(root, 'index.html');
    app.get([mount, `${mount}/{*rest}`], (req, res) => {
      // A missing file (a stale asset hash) is a 404, not the app's page.
      if (/\.[A-Za-z0-9]+$/.test(req.path)) throw new AppError('not_found', 'Not found');
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
    });
  }

  // ---------------------------------------------------------------- errors: one mapping for every route
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const e = err as { type?: string; status?: number };
    let appErr: AppError;
    if (err instanceof AppError) appErr = err;
    else if (e.type === 'entity.parse.failed')
      appErr = new AppError('bad_request', 'Body is not valid JSON');
    else if (e.type === 'entity.too.large')
      appErr = new AppError('payload_too_large', 'Body is too large');
    else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      appErr = new AppError('bad_request', 'Malformed request');
    } else {
      log.error({ err, path: req.path }, 'request failed');
      appErr = new AppError('internal', 'Internal error');
    }
    res.status(httpStatusByErrorCode[appErr.code]).json(appErr.toBody());
  });

  app.use((req, res) => {
    res.status(404).json({ code: 'not_found', message: 'Not found' });
  });

  return app;
}
