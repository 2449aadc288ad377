import type express from 'express';
import { AppError } from '@parley/contracts/errors';
import { ChatId, VisitorEmail } from '@parley/contracts/models';
import * as http from '@parley/contracts/http';
import { visitorIdentity } from '../domain/identity.ts';
import { withRetryAfter } from './limits.ts';
import { parse, route, visitorOf } from './routes.ts';
import type { RouteDeps } from './visitor-routes.ts';

/**
 * "Email me this conversation" (visitor) and "Send transcript" (console): the conversation goes
 * to the visitor's email through notify's mailer. Each request makes exactly one email (one
 * NATS request to one notify replica, never retried); each chat has an hourly limit.
 */
export function transcriptRoutes(api: express.Router, deps: RouteDeps): void {
  const { rpc, guards, limits, visitorChats } = deps;

  async function send(chatId: ChatId, res: express.Response) {
    const summary = await rpc('chat.rpc.chat_summary', { chat_id: chatId });
    if (!summary) throw new AppError('not_found', 'Chat not found');
    const profile = await rpc('chat.rpc.visitor_profile', { user_id: summary.user_id });
    const to = VisitorEmail.safeParse(profile?.email ?? '');
    if (!to.success) throw new AppError('conflict', 'The visitor has not given an email address');
    await limits.transcript(chatId).catch(withRetryAfter(res));
    const email = await rpc('notify.rpc.send_transcript', {
      chat_id: chatId,
      to: to.data,
      visitor_name: profile?.name ?? null,
    });
    if (email.status === 'failed')
      throw new AppError('unavailable', 'The email could not be sent; try again shortly');
    const response: http.TranscriptResponse = { email_id: email.id, to: email.to };
    res.json(response);
  }

  route(api, http.visitorRoutes.transcript, guards.visitors, async (req, res) => {
    await send(await visitorChats.chatIdOf(visitorIdentity(visitorOf(res))), res);
  });

  route(api, http.consoleRoutes.transcript, guards.operators, async (req, res) => {
    await send(parse(ChatId, req.params.chat_id, 'chat id'), res);
  });
}
