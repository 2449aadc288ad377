import type { HandleClientError } from '@sveltejs/kit/hooks';
import { ApiError, describeError } from '#lib/errors.ts';

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
