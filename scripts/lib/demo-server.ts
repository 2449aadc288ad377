/**
 * Serves the demo host page (frontends/widget/demo) on its own origin, as a customer's site
 * would be, with the gateway origin substituted into its one script tag.
 */
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export async function startDemoServer(opts: {
  dir: string;
  gatewayUrl: string;
  port: number;
  host?: string;
}): Promise<{ url: string; close(): Promise<void> }> {
  const root = path.resolve(opts.dir);
  const server = http.createServer((req, res) => {
    void (async () => {
      const urlPath = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
      const rel = urlPath.endsWith('/') ? `${urlPath}index.html` : urlPath;
      const file = path.resolve(root, `.${rel}`);
      if (!file.startsWith(root + path.sep)) {
        res.writeHead(403).end('Forbidden');
        return;
      }
      try {
        let body: Buffer | string = await readFile(file);
        const ext = path.extname(file);
        if (ext === '.html')
          body = body.toString('utf8').replaceAll('__PARLEY_GATEWAY__', opts.gatewayUrl);
        res.writeHead(200, { 'content-type': types[ext] ?? 'application/octet-stream' }).end(body);
      } catch {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      }
    })();
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
