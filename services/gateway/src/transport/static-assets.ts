import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import type { NextFunction, Request, Response } from 'express';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Text formats worth compressing; images and fonts (woff2) are compressed already. */
const COMPRESSIBLE = new Set(['.js', '.mjs', '.css', '.html', '.json', '.svg', '.txt', '.map']);
/** Below this a compressed copy saves less than its headers cost. */
const MIN_BYTES = 1024;
/** SvelteKit names everything under _app/immutable/ by its content hash. */
const IMMUTABLE = /^\/_app\/immutable\//;

type Encoding = 'br' | 'gzip' | 'identity';

/** Cache-Control for a file of a built app: hashed assets forever, the rest revalidated. */
export function cacheControlFor(relPath: string): string {
  return IMMUTABLE.test(relPath) ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/**
 * Serves a built app's files compressed (brotli or gzip, as the browser accepts), each encoding
 * compressed once per file version and kept in memory, so a page view costs no compression
 * work; hashed assets are cached by browsers for a year, everything else revalidated (ETag).
 */
export function createAssetServer(root: string) {
  const base = path.resolve(root);
  const encoded = new Map<string, Promise<Buffer>>();

  async function body(file: string, version: string, enc: Encoding): Promise<Buffer> {
    const key = `${file}\0${version}\0${enc}`;
    let entry = encoded.get(key);
    if (!entry) {
      entry = readFile(file).then((raw) => {
        if (enc === 'br')
          return brotli(raw, {
            params: {
              [zlib.BROTLI_PARAM_QUALITY]: 11,
              [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length,
            },
          });
        if (enc === 'gzip') return gzipAsync(raw, { level: 9 });
        return raw;
      });
      // A failed read is not remembered; the next request tries again.
      entry.catch(() => encoded.delete(key));
      encoded.set(key, entry);
    }
    return entry;
  }

  /** Sends `relPath` (under the app's root) or calls next() when there is no such file. */
  async function send(req: Request, res: Response, next: NextFunction, relPath: string) {
    const file = path.join(base, path.normalize(relPath));
    if (file !== base && !file.startsWith(base + path.sep)) return next();
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) return next();
    const ext = path.extname(file).toLowerCase();
    const compressible = COMPRESSIBLE.has(ext) && info.size >= MIN_BYTES;
    // Brotli when accepted at all (smaller than gzip at the same cost: it is compressed once).
    let enc: Encoding = 'identity';
    if (compressible && req.acceptsEncodings('br') === 'br') enc = 'br';
    else if (compressible && req.acceptsEncodings('gzip') === 'gzip') enc = 'gzip';
    const version = `${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}`;
    res.type(ext);
    res.setHeader('Cache-Control', cacheControlFor(relPath));
    if (compressible) res.setHeader('Vary', 'Accept-Encoding');
    res.setHeader('ETag', `"${version}${enc === 'identity' ? '' : `-${enc}`}"`);
    res.setHeader('Last-Modified', info.mtime.toUTCString());
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    const data = await body(file, version, enc);
    if (enc !== 'identity') res.setHeader('Content-Encoding', enc);
    res.setHeader('Content-Length', data.length);
    if (req.method === 'HEAD') res.end();
    else res.end(data);
  }

  return {
    /** Middleware for the app's mount: its files, or next() for anything else. */
    files(req: Request, res: Response, next: NextFunction) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return next();
      let rel: string;
      try {
        rel = decodeURIComponent(req.path);
      } catch {
        return next();
      }
      send(req, res, next, rel).catch(next);
    },
    /** Sends one file of the app (the SPA's index.html for a client-side route). */
    sendFile(req: Request, res: Response, next: NextFunction, relPath: string) {
      send(req, res, next, relPath).catch(next);
    },
  };
}
