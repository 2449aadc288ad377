/**
 * The email's "Open the conversation" link: POST /api/visitor/email_link exchanges its signed
 * token for a session of the visitor the email went to, once. Spent links are recorded in a
 * NATS KV bucket (create-if-absent is atomic), so a link works once across all gateway replicas.
 */
import express from 'express';
import { Kvm, type KV } from '@nats-io/kv';
import { AppError, UserId, http } from '@parley/contracts';
import { safeParseFast, verifyChatLinkToken, type Bus } from '@parley/runtime';
import { validationError } from '@parley/contracts/errors';
import type { Identity } from '../domain/identity.ts';

const BUCKET = 'parley_email_links';
/** Longer than any link lives (the bucket's TTL forgets spent links after that). */
const SPENT_KEPT_MS = 31 * 24 * 3_600_000;

/** Mounted at /api/visitor/email_link. */
export function emailLinkRoutes(deps: {
  secret: string;
  bus: Bus;
  identity: Identity;
  rpcOpts: { timeoutMs: number };
  replicas: number;
}): express.Router {
  const router = express.Router();
  let bucket: Promise<KV> | undefined;
  const spentLinks = () =>
    (bucket ??= new Kvm(deps.bus.nc)
      .create(BUCKET, { ttl: SPENT_KEPT_MS, replicas: deps.replicas, history: 1 })
      .catch(() => {
        bucket = undefined;
        throw new AppError('unavailable', 'Link store is unavailable'); // NATS KV away
      }));

  router.post('/', async (req, res) => {
    const parsed = safeParseFast(http.EmailLinkRequest, req.body ?? {});
    if (!parsed.success) throw validationError(parsed.error, 'body');
    const link = await verifyChatLinkToken(deps.secret, parsed.data.token);
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
    const profile = await deps.bus.request(
      'chat.rpc.visitor_profile',
      { user_id: userId.data },
      deps.rpcOpts,
    );
    const kv = await spentLinks();
    try {
      await kv.create(link.jti, new Date().toISOString());
    } catch {
      const exists = await kv.get(link.jti).catch(() => null);
      if (exists && exists.operation === 'PUT')
        throw new AppError(
          'conflict',
          'This link was already used. Start a new chat, or open the newest email.',
          { reason: 'spent' },
        );
      throw new AppError('unavailable', 'Link store is unavailable'); // NATS KV away
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
  return router;
}
