import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { fileTypeFromFile } from 'file-type';
import {
  AppError,
  type Attachment,
  type AttachmentId,
  type AttachmentKind,
  type ChatId,
} from '@parley/contracts';
import { stripBidiControls } from '@parley/contracts/attachments';
import type { AttachmentBlobs, AttachmentRecord, ChatStore } from './store.ts';

/** Types accepted by content (file-type's detection), with the kind the apps render them as. */
const DETECTED: Record<string, AttachmentKind> = {
  'image/png': 'image',
  'image/jpeg': 'image',
  'image/gif': 'image',
  'image/webp': 'image',
  'image/avif': 'image',
  'image/heic': 'image',
  'audio/mpeg': 'audio',
  'audio/ogg': 'audio',
  'audio/ogg; codecs=opus': 'audio',
  'audio/wav': 'audio',
  'audio/aac': 'audio',
  'audio/flac': 'audio',
  'audio/mp4': 'audio',
  'audio/x-m4a': 'audio',
  'application/pdf': 'file',
  'application/rtf': 'file',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'file',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'file',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'file',
  'application/vnd.oasis.opendocument.text': 'file',
  'application/vnd.oasis.opendocument.spreadsheet': 'file',
};

/**
 * Containers that hold audio or video: browsers record voice notes as audio/webm or audio/mp4,
 * which file-type reports as video/*. Accepted as audio only when the sender said audio.
 */
const AUDIO_CONTAINERS = new Set(['video/webm', 'video/mp4', 'video/ogg']);

const TEXT_SNIFF_BYTES = 64 * 1024;

/** Undetected content is accepted only as UTF-8 text (no NUL bytes): plain text, CSV, or SVG. */
async function sniffText(
  filePath: string,
): Promise<'text/plain' | 'text/csv' | 'image/svg+xml' | null> {
  const handle = await open(filePath, 'r');
  try {
    const buf = Buffer.alloc(TEXT_SNIFF_BYTES);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead);
    if (head.includes(0)) return null;
    let text: string;
    try {
      // A multi-byte character cut at the sniff boundary is not an error.
      text = new TextDecoder('utf-8', { fatal: true }).decode(head, {
        stream: bytesRead === TEXT_SNIFF_BYTES,
      });
    } catch {
      return null;
    }
    if (
      /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg[^>]*>\s*)?<svg[\s>]/i.test(text)
    ) {
      return 'image/svg+xml';
    }
    return 'text/plain';
  } finally {
    await handle.close();
  }
}

export interface DetectedType {
  content_type: string;
  kind: AttachmentKind;
}

/** The type by content, never by name; the claimed type only disambiguates audio in a media container. */
export async function detectType(
  filePath: string,
  claimedType: string | null,
): Promise<DetectedType> {
  const detected = await fileTypeFromFile(filePath);
  const claimed = (claimedType ?? '').split(';')[0]!.trim().toLowerCase();
  // XML is text to us: SVG (kept as a download) or plain text.
  if (detected && detected.mime !== 'application/xml') {
    const kind = DETECTED[detected.mime];
    if (kind) return { content_type: detected.mime, kind };
    if (AUDIO_CONTAINERS.has(detected.mime) && claimed.startsWith('audio/')) {
      return { content_type: detected.mime.replace('video/', 'audio/'), kind: 'audio' };
    }
    throw new AppError('unsupported_media_type', `Files of type ${detected.mime} are not accepted`);
  }
  const text = await sniffText(filePath);
  if (text === 'image/svg+xml') return { content_type: text, kind: 'file' };
  if (text)
    return { content_type: claimed === 'text/csv' ? 'text/csv' : 'text/plain', kind: 'file' };
  throw new AppError(
    'unsupported_media_type',
    'Only images, audio, PDF, office documents and plain text are accepted',
  );
}

/** A filename safe to keep: no path, no control or bidi characters, bounded length. */
export function cleanFilename(raw: string | null, fallbackExt: string): string {
  const base =
    stripBidiControls(raw ?? '')
      .split(/[\\/]/)
      .pop() ?? '';
  const cleaned = Array.from(base)
    .filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f && ch !== '"')
    .join('')
    .trim()
    .slice(0, 200);
  return cleaned.length > 0 ? cleaned : `attachment${fallbackExt}`;
}

const EXTENSIONS: Record<string, string> = {
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/gif': '.gif',
  'image/webp': '.webp',
  'audio/mpeg': '.mp3',
  'audio/ogg': '.ogg',
  'audio/wav': '.wav',
  'audio/webm': '.webm',
  'application/pdf': '.pdf',
  'text/plain': '.txt',
};

/**
 * Removes uploads that were never sent (the visitor closed the page, the send failed) once they
 * are older than `olderThanMs`. The record goes first and only while unsent, so a message being
 * sent at that moment either links the attachment or is refused it, never a missing file.
 */
export async function purgeUnsentAttachments(
  deps: { store: ChatStore; blobs: AttachmentBlobs },
  opts: { now: Date; olderThanMs: number; limit?: number },
): Promise<number> {
  const before = new Date(opts.now.getTime() - opts.olderThanMs).toISOString();
  let removed = 0;
  for (const record of await deps.store.unsentAttachments(before, opts.limit ?? 500)) {
    if (!(await deps.store.deleteUnsentAttachment(record.id))) continue;
    await deps.blobs.delete(record.storage_key);
    removed += 1;
  }
  return removed;
}

/** Stores an uploaded file (already streamed to tempPath within the size limit) for a chat. */
export async function storeAttachment(
  deps: { store: ChatStore; blobs: AttachmentBlobs },
  input: {
    chatId: ChatId;
    tempPath: string;
    size: number;
    claimedType: string | null;
    filename: string | null;
    now: string;
  },
): Promise<Attachment> {
  const chat = await deps.store.getChat(input.chatId);
  if (!chat) throw new AppError('not_found', 'Chat not found');
  const type = await detectType(input.tempPath, input.claimedType);
  const id = randomUUID() as AttachmentId;
  const name = cleanFilename(input.filename, EXTENSIONS[type.content_type] ?? '');
  const storageKey = await deps.blobs.put({
    id,
    tempPath: input.tempPath,
    contentType: type.content_type,
    name,
  });
  const record: AttachmentRecord = {
    id,
    chat_id: input.chatId,
    kind: type.kind,
    content_type: type.content_type,
    size: input.size,
    name,
    url: `/api/attachments/${id}`,
    storage_key: storageKey,
    message_id: null,
    created_at: input.now,
  };
  await deps.store.insertAttachment(record);
  const { chat_id: _c, storage_key: _s, message_id: _m, created_at: _t, ...attachment } = record;
  return attachment;
}
