import type { HandleClientError } from '@sveltejs/kit/hooks';
import { config, locales } from 'zod/mini';
import { ApiError } from '@parley/chat-client/errors';
import { describeError } from '#lib/errors.ts';

// The contracts are zod/mini schemas, which load no message locale: the console shows zod's
// messages for form errors (api.ts), so load the English ones as classic zod did.
config(locales.en());

/**
 * The one place where errors thrown while navigating (load functions, framework 404s) become
 * what the error page shows; the API client's errors keep their server message.
 */
export const handleError: HandleClientError = ({ kind, error }) => {
  if (kind !== 'unknown') return;
  console.error(error);
  return {
    message: describeError(error),
    ...(error instanceof ApiError ? { code: error.code } : {}),
  };
};
