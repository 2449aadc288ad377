import { ApiError, errorFromResponse } from './errors.ts';

/**
 * Attachment URLs need the bearer token, which an <img>, <audio> or download link cannot send:
 * the file is fetched with the token and shown from a blob URL.
 */
export async function fetchAttachment(
  url: string,
  origin: string,
  token: string | null,
): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(new URL(url, origin), {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      credentials: 'omit',
    });
  } catch (error) {
    throw new ApiError('network', 0, error instanceof Error ? error.message : String(error));
  }
  if (!response.ok) throw await errorFromResponse(response);
  return response.blob();
}

/**
 * Loads a file into a blob URL for as long as the caller shows it: calls `ready` with the URL
 * or `failed` with the error, and returns the function that releases it (for a Svelte effect's
 * teardown). Nothing is called after the release.
 */
export function attachmentObjectUrl(
  load: () => Promise<Blob>,
  ready: (objectUrl: string) => void,
  failed: (error: unknown) => void,
): () => void {
  let objectUrl: string | null = null;
  let released = false;
  load().then(
    (blob) => {
      if (released) return;
      objectUrl = URL.createObjectURL(blob);
      ready(objectUrl);
    },
    (error: unknown) => {
      if (!released) failed(error);
    },
  );
  return () => {
    released = true;
    if (objectUrl) URL.revokeObjectURL(objectUrl);
  };
}
