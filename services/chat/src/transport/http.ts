import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import parseRange from 'range-parser';
import { AppError, AttachmentId, ChatId, httpStatusByErrorCode } from '@parley/contracts';
import type { Logger } from '@parley/runtime';
import { attachmentDisposition } from '@parley/contracts/attachments';
import { storeAttachment } from '../domain/attachments.ts';
import type { AttachmentBlobs, ChatStore } from '../domain/store.ts';

/**
 * Internal attachment endpoints, mounted on the chat service's ops server. They trust their
 * caller: only the gateway reaches them (CHAT_INTERNAL_URL on a private network), after it has
 * authenticated the user and checked that the user takes part in the chat. Never expose
 * HTTP_PORT of the chat service publicly.
 *
 * POST /internal/attachments   headers x-chat-id, x-filename (URI-encoded), content-type; raw body
 *                              → 201 Attachment JSON
 * GET  /internal/attachments/:id → the bytes, with Content-Type, Content-Disposition, nosniff;
 *                              honours a single Range (206 / 416): forward Range and the status
 */

function sendError(res: http.ServerResponse, err: AppError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res
    .writeHead(httpStatusByErrorCode[err.code], {
      'content-type': 'application/json',
      connection: 'close',
    })
    .end(JSON.stringify(err.toBody()));
}

function header(req: http.IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' ? v : null;
}

class TooLarge extends Error {}

/**
 * Removes staged uploads a crash left behind. Only old ones: another replica sharing the folder
 * may be receiving an upload right now.
 */
export async function sweepIncoming(
  tempDir: string,
  olderThanMs: number,
  now = Date.now(),
): Promise<number> {
  let removed = 0;
  let names: string[];
  try {
    names = await readdir(tempDir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith('upload-')) continue;
    const file = path.join(tempDir, name);
    const info = await stat(file).catch(() => null);
    if (info && now - info.mtimeMs > olderThanMs) {
      await rm(file, { force: true });
      removed += 1;
    }
  }
  return removed;
}

export function createAttachmentHttp(deps: {
  store: ChatStore;
  blobs: AttachmentBlobs;
  /** Uploads stream here first (same filesystem as the disk store, so the final move is a rename). */
  tempDir: string;
  maxBytes: number;
  logger: Logger;
  now?: () => Date;
}): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const log = deps.logger.child({ module: 'http' });
  const now = deps.now ?? (() => new Date());

  async function upload(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chatId = ChatId.safeParse(header(req, 'x-chat-id'));
    if (!chatId.success) throw new AppError('bad_request', 'x-chat-id must be a chat id');
    const declared = Number(header(req, 'content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > deps.maxBytes) {
      throw new AppError('payload_too_large', `Attachments are limited to ${deps.maxBytes} bytes`);
    }
    let filename: string | null = header(req, 'x-filename');
    if (filename !== null) {
      try {
        filename = decodeURIComponent(filename);
      } catch {
        throw new AppError('bad_request', 'x-filename must be URI-encoded');
      }
    }
    await mkdir(deps.tempDir, { recursive: true });
    const tempPath = path.join(deps.tempDir, `upload-${randomUUID()}`);
    let size = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > deps.maxBytes) cb(new TooLarge());
        else cb(null, chunk);
      },
    });
    try {
      try {
        await pipeline(req, limit, createWriteStream(tempPath));
      } catch (e) {
        if (e instanceof TooLarge) {
          throw new AppError(
            'payload_too_large',
            `Attachments are limited to ${deps.maxBytes} bytes`,
          );
        }
        throw new AppError('bad_request', 'Upload interrupted');
      }
      if (size === 0) throw new AppError('bad_request', 'The file is empty');
      const attachment = await storeAttachment(deps, {
        chatId: chatId.data,
        tempPath,
        size,
        claimedType: header(req, 'content-type'),
        filename,
        now: now().toISOString(),
      });
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(attachment));
    } finally {
      // Gone after a successful move; removed here on every failure.
      await rm(tempPath, { force: true });
    }
  }

  async function download(
    id: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const parsed = AttachmentId.safeParse(id);
    if (!parsed.success) throw new AppError('not_found', 'Attachment not found');
    const record = await deps.store.getAttachment(parsed.data);
    if (!record) throw new AppError('not_found', 'Attachment not found');
    // One byte range (Safari plays audio only from servers that honour Range); others get it all.
    const rangeHeader = header(req, 'range');
    const ranges = rangeHeader ? parseRange(record.size, rangeHeader, { combine: true }) : -2;
    if (ranges === -1) {
      res.writeHead(416, { 'content-range': `bytes */${record.size}` }).end();
      return;
    }
    const range =
      Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1
        ? ranges[0]
        : undefined;
    const stream = await deps.blobs.open(record.storage_key, range);
    if (!stream) throw new AppError('not_found', 'Attachment content is missing');
    res.writeHead(range ? 206 : 200, {
      'content-type': record.content_type,
      'content-length': String(range ? range.end - range.start + 1 : record.size),
      ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${record.size}` } : {}),
      'accept-ranges': 'bytes',
      'content-disposition': attachmentDisposition(record.content_type, record.name),
      'x-content-type-options': 'nosniff',
      // Even opened directly, the file can run nothing and load nothing.
      'content-security-policy': "default-src 'none'; media-src 'self'; img-src 'self'; sandbox",
      'cache-control': 'private, max-age=86400, immutable',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await pipeline(stream, res);
  }

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://internal');
    const run = async () => {
      if (url.pathname === '/internal/attachments') {
        if (req.method !== 'POST') throw new AppError('bad_request', 'Use POST');
        return upload(req, res);
      }
      const m = /^\/internal\/attachments\/([^/]+)$/.exec(url.pathname);
      if (m && (req.method === 'GET' || req.method === 'HEAD')) return download(m[1]!, req, res);
      throw new AppError('not_found', 'Not found');
    };
    run().catch((e: unknown) => {
      if (e instanceof AppError) return sendError(res, e);
      log.error({ err: e, path: url.pathname }, 'internal http failed');
      sendError(res, new AppError('internal', 'Internal error'));
    });
  };
}
