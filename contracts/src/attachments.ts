/**
 * The attachment rules every party applies the same way: which file names are safe to show and
 * which files a browser may render inline.
 */

/**
 * Bidirectional controls (embeddings, overrides, isolates, marks): in a file name they make
 * "evil\u202Egnp.exe" display as "evilexe.png". They never belong in a name.
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

export function stripBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, '');
}

/** Types a browser may render inline, with the file name extensions that go with each. */
const INLINE_TYPES: Record<string, readonly string[]> = {
  'image/png': ['png'],
  'image/jpeg': ['jpg', 'jpeg', 'jfif'],
  'image/gif': ['gif'],
  'image/webp': ['webp'],
  'image/avif': ['avif'],
  'audio/mpeg': ['mp3', 'mpga'],
  'audio/ogg': ['ogg', 'oga', 'opus'],
  'audio/wav': ['wav'],
  'audio/aac': ['aac'],
  'audio/flac': ['flac'],
  'audio/mp4': ['m4a', 'mp4'],
  'audio/x-m4a': ['m4a'],
  'audio/webm': ['webm', 'weba'],
};

/**
 * Inline only when the sniffed type is an allowed image/audio type AND the name's extension
 * says the same: a GIF/HTML polyglot named poly.html downloads, so no browser or tool that
 * trusts the name ever renders it as a page. A name without an extension is trusted to the
 * sniffed type (voice notes are recorded without one).
 */
export function servesInline(contentType: string, name: string): boolean {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const extensions = INLINE_TYPES[type];
  if (!extensions) return false;
  const clean = stripBidiControls(name).trim();
  const dot = clean.lastIndexOf('.');
  if (dot <= 0) return true;
  return extensions.includes(clean.slice(dot + 1).toLowerCase());
}

/** The Content-Disposition of an attachment response (RFC 6266 filename*). */
export function attachmentDisposition(contentType: string, name: string): string {
  const type = servesInline(contentType, name) ? 'inline' : 'attachment';
  return `${type}; filename*=UTF-8''${encodeURIComponent(stripBidiControls(name))}`;
}
