import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@parley/runtime/testing';

/** A built app as SvelteKit lays it out: hashed assets under _app/immutable, index.html. */
const outside = mkdtempSync(path.join(os.tmpdir(), 'parley-static-'));
const dist = path.join(outside, 'app');
const script = `export const words = ${JSON.stringify(Array.from({ length: 400 }, (_, i) => `word${i}`))};\n`;
const html = `<!doctype html><html><head><title>Widget</title></head><body>${'<div>hello</div>'.repeat(100)}</body></html>`;
mkdirSync(path.join(dist, '_app/immutable/chunks'), { recursive: true });
writeFileSync(path.join(dist, '_app/immutable/chunks/app.Bx3f9a.js'), script);
writeFileSync(path.join(dist, 'index.html'), html);
writeFileSync(path.join(dist, 'loader.js'), script);
writeFileSync(path.join(outside, 'secret.js'), 'not for the web');

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    services: ['gateway'],
    buildApps: false,
    env: { WIDGET_DIST: dist, ADMIN_DIST: dist },
  });
});
afterAll(async () => {
  await stack?.stop();
  rmSync(outside, { recursive: true, force: true });
});

/** The raw response: node's http client does not decode, so we see what crossed the wire. */
function get(
  pathname: string,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}> {
  const url = new URL(pathname, stack.gatewayUrl);
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the apps’ files over HTTP', () => {
  it('serves a hashed asset brotli- or gzip-compressed as accepted, cached as immutable', async () => {
    const asset = '/widget/_app/immutable/chunks/app.Bx3f9a.js';
    const br = await get(asset, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['vary']).toMatch(/Accept-Encoding/i);
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(br.body.length).toBeLessThan(Buffer.byteLength(script) / 2);
    expect(brotliDecompressSync(br.body).toString()).toBe(script);

    const gz = await get(asset, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(script);

    const plain = await get(asset);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(script);
    // Each encoding has its own validator, so a cache never mixes them up.
    expect(new Set([br.headers.etag, gz.headers.etag, plain.headers.etag]).size).toBe(3);
  });

  it('makes the app page and unhashed files revalidate, answering 304 when unchanged', async () => {
    const page = await get('/widget/some/client/route', { 'accept-encoding': 'br' });
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(brotliDecompressSync(page.body).toString()).toBe(html);

    const loader = await get('/widget/loader.js', { 'accept-encoding': 'gzip' });
    expect(loader.headers['cache-control']).toBe('no-cache');
    const again = await get('/widget/loader.js', {
      'accept-encoding': 'gzip',
      'if-none-match': String(loader.headers.etag),
    });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('still answers 404 for a missing asset and never serves files outside the app', async () => {
    expect((await get('/widget/_app/immutable/chunks/gone.js')).status).toBe(404);
    const escaped = await get('/widget/..%2fsecret.js');
    expect(escaped.status).toBe(404);
    expect(escaped.body.toString()).not.toContain('not for the web');
  });
});
