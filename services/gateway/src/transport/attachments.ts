import { Readable, Transform } from 'node:stream';
import type express from 'express';
import type { Request, Response } from 'express';
import busboy from 'busboy';
import { AppError, ErrorBody } from '@parley/contracts/errors';
import { attachmentDisposition } from '@parley/contracts/attachments';
import { Attachment, AttachmentId, ChatId } from '@parley/contracts/models';
import * as http from '@parley/contracts/http';
import type { Logger } from '@parley/runtime';
import type { GatewayConfig } from '../config.ts';
import type { Rpc } from '../adapters/chat-nats.ts';
import type { ChatAccess } from '../domain/access.ts';
import type { Principal } from '../domain/identity.ts';
import type { restLimits } from './limits.ts';
import { bearerToken, parse, principalOf, queryOf, route, type Guards } from './routes.ts';

/** The limit is the deployment's MAX_ATTACHMENT_BYTES, the same key the chat service enforces. */
const tooLarge = (maxBytes: number) =>
  new AppError('payload_too_large', `Attachments are limited to ${maxBytes} bytes`);

/** Headers of the chat service's attachment response the client gets as they are. */
const PASSED_THROUGH = ['content-length', 'content-range', 'accept-ranges'];
/** The file can run nothing and load nothing, even opened directly (the chat service's policy). */
const SANDBOX = "default-src 'none'; sandbox";

/**
 * Uploads (raw body or multipart) are streamed to the chat service, which checks the content;
 * downloads stream back with the one inline/download rule of the contracts and the chat
 * service's sandboxing Content-Security-Policy.
 */
interface ProxyContext {
  cfg: GatewayConfig;
  access: ChatAccess;
  log: Logger;
}

async function throwIfUpstreamFailed(upstream: globalThis.Response): Promise<void> {
  if (upstream.ok) return;
  const body = ErrorBody.safeParse(await upstream.json().catch(() => null));
  if (body.success) throw new AppError(body.data.code, body.data.message, body.data.details);
  throw new AppError('unavailable', `Attachment storage answered ${upstream.status}`);
}

/** Streams the bytes to the chat service, stopping at the size limit. */
async function forwardUpload(
  ctx: ProxyContext,
  body: Readable,
  chatId: ChatId,
  name: string,
  contentType: string,
): Promise<Attachment> {
  let received = 0;
  let exceeded = false;
  const limiter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      if (received > ctx.cfg.MAX_ATTACHMENT_BYTES) {
        exceeded = true;
        done(tooLarge(ctx.cfg.MAX_ATTACHMENT_BYTES));
        return;
      }
      done(null, chunk);
    },
  });
  body.on('error', (err) => limiter.destroy(err));
  body.pipe(limiter);
  let upstream: globalThis.Response;
  try {
    upstream = await fetch(`${ctx.cfg.CHAT_INTERNAL_URL}/internal/attachments`, {
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
    if (exceeded) throw tooLarge(ctx.cfg.MAX_ATTACHMENT_BYTES);
    ctx.log.warn({ err }, 'attachment upload to chat failed');
    throw new AppError('unavailable', 'Attachment storage is unavailable');
  }
  await throwIfUpstreamFailed(upstream);
  return parse(Attachment, await upstream.json(), 'attachment from chat service');
}

function uploadMultipart(
  ctx: ProxyContext,
  req: Request,
  principal: Principal,
  headerChat: string | undefined,
): Promise<Attachment> {
  return new Promise<Attachment>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { files: 1, fields: 5, fileSize: ctx.cfg.MAX_ATTACHMENT_BYTES + 1 },
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
        const chatId = parse(ChatId, chatField, 'chat id (send the chat_id field before the file)');
        await ctx.access.assertAccess(principal, chatId);
        return forwardUpload(
          ctx,
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
      if (!started) {
        reject(
          new AppError(
            'bad_request',
            `A file field named "${http.ATTACHMENT_FILE_FIELD}" is required`,
          ),
        );
      }
    });
    req.pipe(parser);
  });
}

export function attachmentRoutes(
  api: express.Router,
  deps: {
    cfg: GatewayConfig;
    rpc: Rpc;
    access: ChatAccess;
    guards: Guards;
    rest: ReturnType<typeof restLimits>;
    logger: Logger;
  },
): void {
  const { cfg, rpc, access, guards } = deps;
  const log = deps.logger;
  const ctx: ProxyContext = { cfg, access, log };
  const routes = http.visitorRoutes;

  route(api, routes.uploadAttachment, deps.rest.uploads, guards.anyone, async (req, res) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > cfg.MAX_ATTACHMENT_BYTES + 64 * 1024) throw tooLarge(cfg.MAX_ATTACHMENT_BYTES);
    const principal = principalOf(res);
    const headerChat = req.headers['x-chat-id'] ?? queryOf(req).chat_id;
    const contentType = req.headers['content-type'] ?? '';
    let attachment: Attachment;
    if (contentType.startsWith('multipart/form-data')) {
      attachment = await uploadMultipart(
        ctx,
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
      attachment = await forwardUpload(ctx, req, chatId, name, contentType);
    }
    res.status(201).json(attachment);
  });

  route(api, routes.attachment, async (req: Request, res: Response) => {
    const id = parse(AttachmentId, req.params.attachment_id, 'attachment id');
    // <img>/<audio> cannot send headers, so the token may come in the query string.
    const queryToken = queryOf(req).token;
    const principal = await guards.authenticate(
      res,
      bearerToken(req) ?? (typeof queryToken === 'string' ? queryToken : null),
    );
    const meta = await rpc('chat.rpc.attachment_get', { id });
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
    for (const header of PASSED_THROUGH) {
      const value = upstream.headers.get(header);
      if (value) res.setHeader(header, value);
    }
    res.setHeader(
      'Content-Security-Policy',
      upstream.headers.get('content-security-policy') ?? SANDBOX,
    );
    res.setHeader('Cache-Control', 'private, max-age=3600');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Disposition', attachmentDisposition(meta.content_type, meta.name));
    if (!upstream.body) return void res.end();
    Readable.fromWeb(upstream.body as import('node:stream/web').ReadableStream).pipe(res);
  });
}
