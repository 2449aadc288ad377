import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { GridFSBucket, ObjectId, type Db } from 'mongodb';
import type { AttachmentBlobs, ByteRange } from '../domain/store.ts';

/** Attachment bytes in GridFS (bucket "attachments"); the storage key is the GridFS file id. */
export class GridFsBlobs implements AttachmentBlobs {
  private readonly bucket: GridFSBucket;

  constructor(db: Db) {
    this.bucket = new GridFSBucket(db, { bucketName: 'attachments' });
  }

  async put(input: {
    id: string;
    tempPath: string;
    contentType: string;
    name: string;
  }): Promise<string> {
    const fileId = new ObjectId();
    await pipeline(
      createReadStream(input.tempPath),
      this.bucket.openUploadStreamWithId(fileId, input.name, {
        metadata: { attachment_id: input.id, content_type: input.contentType },
      }),
    );
    await rm(input.tempPath, { force: true });
    return fileId.toHexString();
  }

  async open(storageKey: string, range?: ByteRange): Promise<NodeJS.ReadableStream | null> {
    if (!ObjectId.isValid(storageKey)) return null;
    const id = new ObjectId(storageKey);
    const exists = await this.bucket.find({ _id: id }).limit(1).hasNext();
    if (!exists) return null;
    // GridFS's end is exclusive; HTTP's is inclusive.
    return this.bucket.openDownloadStream(
      id,
      range ? { start: range.start, end: range.end + 1 } : {},
    );
  }

  async delete(storageKey: string): Promise<void> {
    if (!ObjectId.isValid(storageKey)) return;
    try {
      await this.bucket.delete(new ObjectId(storageKey));
    } catch (e) {
      // Already gone is the outcome we wanted.
      if (!/not found/i.test(String((e as Error).message))) throw e;
    }
  }

  /** The client is closed by the store that shares it. */
  async close(): Promise<void> {}
}
