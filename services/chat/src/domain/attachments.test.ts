import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '@parley/contracts';
import { servesInline } from '@parley/contracts/attachments';
import { cleanFilename, detectType } from './attachments.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-detect-'));
let n = 0;
function file(bytes: Buffer | string): string {
  const p = path.join(dir, `f${n++}`);
  writeFileSync(p, bytes);
  return p;
}

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
/** The EBML header a browser's MediaRecorder writes for audio/webm. */
const WEBM = Buffer.from(
  '1a45dfa39f4286810142f7810142f2810442f381084282847765626d42878104428581021853806701ffffffffffffff',
  'hex',
);

describe('detectType', () => {
  it('goes by content, not by the claimed type', async () => {
    expect(await detectType(file(PNG), 'application/pdf')).toEqual({
      content_type: 'image/png',
      kind: 'image',
    });
    expect(await detectType(file('%PDF-1.4\n1 0 obj\n<<>>\nendobj\n'), 'image/png')).toEqual({
      content_type: 'application/pdf',
      kind: 'file',
    });
  });

  it('takes a webm recording as audio only when the sender said audio', async () => {
    expect(await detectType(file(WEBM), 'audio/webm;codecs=opus')).toEqual({
      content_type: 'audio/webm',
      kind: 'audio',
    });
    await expect(detectType(file(WEBM), 'video/webm')).rejects.toMatchObject({
      code: 'unsupported_media_type',
    });
  });

  it('keeps SVG as a download, text as text, and refuses binaries it does not know', async () => {
    expect(
      await detectType(
        file('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'),
        'image/svg+xml',
      ),
    ).toEqual({
      content_type: 'image/svg+xml',
      kind: 'file',
    });
    expect(await detectType(file('a,b\n1,2\n'), 'text/csv')).toEqual({
      content_type: 'text/csv',
      kind: 'file',
    });
    expect(await detectType(file('hello'), 'application/octet-stream')).toEqual({
      content_type: 'text/plain',
      kind: 'file',
    });
    const binary = detectType(file(Buffer.from([0, 1, 2, 3, 0, 255, 254])), 'text/plain');
    await expect(binary).rejects.toBeInstanceOf(AppError);
    await expect(
      detectType(file(Buffer.from([0xc3, 0x28, 0xa0, 0xa1])), 'text/plain'),
    ).rejects.toMatchObject({
      code: 'unsupported_media_type',
    });
  });
});

describe('servesInline', () => {
  it('inlines raster images and audio only', () => {
    expect(servesInline('image/png', 'a.png')).toBe(true);
    expect(servesInline('audio/mpeg', 'a.mp3')).toBe(true);
    expect(servesInline('image/svg+xml', 'a.svg')).toBe(false);
    expect(servesInline('application/pdf', 'a.pdf')).toBe(false);
    expect(servesInline('text/plain', 'a.txt')).toBe(false);
  });

  it('downloads a file whose name disagrees with its sniffed type (a GIF named poly.html)', () => {
    expect(servesInline('image/gif', 'poly.html')).toBe(false);
    expect(servesInline('image/gif', 'poly.GIF')).toBe(true);
    expect(servesInline('image/png', 'photo.jpg')).toBe(false);
    expect(servesInline('audio/webm', 'voice-note')).toBe(true);
  });
});

describe('cleanFilename', () => {
  it('drops paths, quotes and control characters', () => {
    expect(cleanFilename('../../etc/passwd', '.txt')).toBe('passwd');
    expect(cleanFilename('C:\\Users\\me\\report "final".pdf', '.pdf')).toBe('report final.pdf');
    expect(cleanFilename('a\u0000b\nc.png', '.png')).toBe('abc.png');
    expect(cleanFilename(null, '.png')).toBe('attachment.png');
    expect(cleanFilename('x'.repeat(300), '')).toHaveLength(200);
  });

  it('strips bidirectional controls so a name shows what it is', () => {
    expect(cleanFilename('evil\u202Egnp.exe', '')).toBe('evilgnp.exe');
    expect(cleanFilename('\u2066a\u2069\u200E\u200F\u061Cb\u202A\u202B\u202C\u202D.pdf', '')).toBe(
      'ab.pdf',
    );
  });
});
