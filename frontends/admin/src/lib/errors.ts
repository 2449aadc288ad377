import { ApiError } from '@parley/chat-client/errors';
import { t } from './strings.ts';

/** One sentence for the user, whatever was thrown. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'network' || err.code === 'timeout') return t.networkError;
    if (err.code === 'invalid_response') return `${t.unexpectedResponse} (${err.message})`;
    if (err.code === 'forbidden') return err.message || t.forbidden;
    return err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
