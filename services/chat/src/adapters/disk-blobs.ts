import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AttachmentBlobs, ByteRange } from '../domain/store.ts';

/** Attachment bytes as files under ATTACHMENTS_DIR, fanned out by the id's first two characters. */
export class DiskBlobs implements AttachmentBlobs {
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  async put(input: { id: string; tempPath: string }): Promise<string> {
    const key = path.join(input.id.slice(0, 2), input.id);
    const target = path.join(this.dir, key);
    await mkdir(path.dirname(target), { recursive: true });
    // The temp file lives under the same folder, so rename is atomic and never copies.
    await rename(input.tempPath, target);
    return key;
  }

  async open(storageKey: string, range?: ByteRange): Promise<NodeJS.ReadableStream | null> {
    const target = path.resolve(this.dir, storageKey);
    if (!target.startsWith(this.dir + path.sep)) return null;
    try {
      await stat(target);
    } catch {
      return null;
    }
    return createReadStream(target, range ? { start: range.start, end: range.end } : {});
  }

  async delete(storageKey: string): Promise<void> {
    const target = path.resolve(this.dir, storageKey);
    if (target.startsWith(this.dir + path.sep)) await rm(target, { force: true });
  }

  async close(): Promise<void> {}
}
