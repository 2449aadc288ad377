import { goto } from '$app/navigation';
import { resolve } from '$app/paths';
import {
  http,
  type AttachmentId,
  type ChatId,
  type ClientId,
  type OperatorId,
  type OperatorStatus,
  type UserId,
} from '@parley/contracts';
import type * as z from 'zod/mini';
import { ApiError, errorFromResponse } from '@parley/chat-client/errors';
import { auth, clearSession, currentToken, markExpired } from './session.svelte.ts';

/**
 * The console's one REST client: paths from `http.consoleRoutes`, bodies checked with the
 * request schemas before sending, every response parsed with its contracts schema.
 */
type Routes = typeof http.consoleRoutes;
type RouteName = keyof Routes;
type ResponseOf<R extends RouteName> = Routes[R] extends { response: z.ZodMiniType }
  ? z.output<Routes[R]['response']>
  : void;

interface CallOptions {
  params?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  form?: FormData;
  /** Login itself must not bounce to the login page on 401. */
  anonymous?: boolean;
}

function pathFor(route: RouteName, opts: CallOptions): string {
  let path: string = http.consoleRoutes[route].path;
  for (const [name, value] of Object.entries(opts.params ?? {})) {
    path = path.replace(`:${name}`, encodeURIComponent(value));
  }
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(opts.query ?? {}))
    if (v !== undefined) query.set(k, String(v));
  const qs = query.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Sends the user to the login page and back here afterwards. */
export async function redirectToLogin(expired: boolean): Promise<void> {
  if (expired) markExpired();
  clearSession();
  const here = location.pathname + location.search;
  const login = resolve('/login');
  if (location.pathname.startsWith(login)) return;
  const params = new URLSearchParams({ next: here });
  if (expired || auth.expired) params.set('expired', '1');
  await goto(resolve(`/login?${params.toString()}`));
}

async function send(route: RouteName, opts: CallOptions): Promise<Response> {
  const headers: Record<string, string> = {};
  if (!opts.anonymous) {
    const token = currentToken();
    if (!token) {
      await redirectToLogin(true);
      throw new ApiError('unauthorized', 401, 'signed out');
    }
    headers.authorization = `Bearer ${token}`;
  }
  let body: BodyInit | undefined;
  if (opts.form) body = opts.form;
  else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(pathFor(route, opts), {
      method: http.consoleRoutes[route].method,
      headers,
      body,
    });
  } catch (err) {
    throw new ApiError('network', 0, err instanceof Error ? err.message : String(err));
  }
  if (res.status === 401 && !opts.anonymous) {
    await redirectToLogin(true);
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res;
}

async function call<R extends RouteName>(route: R, opts: CallOptions = {}): Promise<ResponseOf<R>> {
  const def = http.consoleRoutes[route];
  if ('body' in def && opts.body !== undefined) {
    // Catch a bad form here, with field messages, instead of a round trip.
    const checked = def.body.safeParse(opts.body);
    if (!checked.success) {
      const details: Record<string, string> = {};
      for (const issue of checked.error.issues)
        details[issue.path.join('.') || 'body'] ??= issue.message;
      const [field, message] = Object.entries(details)[0] ?? ['body', 'invalid'];
      throw new ApiError('bad_request', 400, `${field}: ${message}`, details);
    }
  }
  const res = await send(route, opts);
  if (!('response' in def)) return undefined as ResponseOf<R>;
  return parseBody(def.response, res) as Promise<ResponseOf<R>>;
}

async function parseBody<S extends z.ZodMiniType>(schema: S, res: Response): Promise<z.output<S>> {
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new ApiError('invalid_response', res.status, 'not JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiError(
      'invalid_response',
      res.status,
      issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid',
    );
  }
  return parsed.data;
}

export const api = {
  login: (body: http.LoginRequest) => call('login', { body, anonymous: true }),
  logout: () => call('logout'),

  async listChats(archived: boolean, cursor: string | null, limit = 50) {
    const route = http.consoleRoutes.listChats;
    const res = await send('listChats', {
      query: { archived: String(archived), cursor: cursor ?? undefined, limit },
    });
    const items = await parseBody(route.response, res);
    return { items, nextCursor: res.headers.get(http.NEXT_CURSOR_HEADER) || null };
  },
  getChat: (chatId: ChatId) => call('getChat', { params: { chat_id: chatId } }),
  olderMessages: (chatId: ChatId, beforeSeq: number, limit = 50) =>
    call('chatMessages', { params: { chat_id: chatId }, query: { before_seq: beforeSeq, limit } }),
  messagesAfter: (chatId: ChatId, afterSeq: number, limit = 200) =>
    call('chatMessages', { params: { chat_id: chatId }, query: { after_seq: afterSeq, limit } }),
  sendMessage: (
    chatId: ChatId,
    content: string,
    clientId: ClientId,
    attachmentIds: AttachmentId[],
  ) =>
    call('sendMessage', {
      params: { chat_id: chatId },
      body: { content, client_id: clientId, attachment_ids: attachmentIds },
    }),
  sendNote: (chatId: ChatId, content: string, clientId: ClientId) =>
    call('sendNote', { params: { chat_id: chatId }, body: { content, client_id: clientId } }),
  mentions: () => call('mentions'),
  markViewed: (chatId: ChatId) => call('markViewed', { params: { chat_id: chatId } }),
  archive: (chatId: ChatId) => call('archive', { params: { chat_id: chatId } }),
  unarchive: (chatId: ChatId) => call('unarchive', { params: { chat_id: chatId } }),
  uploadAttachment(chatId: ChatId, file: File) {
    const form = new FormData();
    form.set(http.ATTACHMENT_CHAT_FIELD, chatId);
    form.set(http.ATTACHMENT_FILE_FIELD, file, file.name);
    return call('uploadAttachment', { form });
  },

  routingMe: () => call('routingMe'),
  setStatus: (status: OperatorStatus) => call('setStatus', { body: { status } }),
  queue: () => call('queue'),
  operatorsPresence: () => call('operatorsPresence'),
  session: (chatId: ChatId) => call('session', { params: { chat_id: chatId } }),
  take: (chatId: ChatId) => call('take', { params: { chat_id: chatId } }),
  transfer: (chatId: ChatId, toOperatorId: OperatorId | null, force = false) =>
    call('transfer', {
      params: { chat_id: chatId },
      body: { to_operator_id: toOperatorId, force },
    }),
  close: (chatId: ChatId) => call('close', { params: { chat_id: chatId } }),

  onlineVisitors: () => call('onlineVisitors'),
  onlineVisitorsPage: (query: http.OnlineVisitorsQuery) =>
    call('onlineVisitorsPage', { query: { ...query } }),
  invite: (userId: UserId, message: string) =>
    call('invite', { params: { user_id: userId }, body: { message } }),
  visitorDetails: (userId: UserId) => call('visitorDetails', { params: { user_id: userId } }),

  listOperators: () => call('listOperators'),
  createOperator: (body: z.input<typeof http.CreateOperatorRequest>) =>
    call('createOperator', { body }),
  updateOperator: (id: OperatorId, body: http.UpdateOperatorRequest) =>
    call('updateOperator', { params: { operator_id: id }, body }),
  outbox: () => call('outbox'),
  listCanned: () => call('listCanned'),
  createCanned: (body: http.CreateCannedBody) => call('createCanned', { body }),
  updateCanned: (id: string, body: http.UpdateCannedBody) =>
    call('updateCanned', { params: { id }, body }),
  deleteCanned: (id: string) => call('deleteCanned', { params: { id } }),
  businessHours: () => call('businessHours'),
  transcript: (chatId: ChatId) => call('transcript', { params: { chat_id: chatId } }),
  setBusinessHours: (body: http.BusinessHoursBody) => call('setBusinessHours', { body }),
};
