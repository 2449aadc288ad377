import { ErrorBody, type ErrorCode } from '@parley/contracts/errors';

/**
 * A failed REST call: the server's error code and message, or `network` (no answer),
 * `timeout` (no answer in time) or `invalid_response` (an answer outside the contract).
 */
export class ApiError extends Error {
  readonly code: ErrorCode | 'network' | 'timeout' | 'invalid_response';
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;
  readonly details: Record<string, string> | undefined;
  constructor(
    code: ApiError['code'],
    status: number,
    message: string,
    details?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** The ApiError for a non-2xx response body (already read as JSON, or null). */
export function errorFromBody(json: unknown, status: number): ApiError {
  const body = ErrorBody.safeParse(json);
  if (body.success)
    return new ApiError(body.data.code, status, body.data.message, body.data.details);
  return new ApiError('invalid_response', status, `HTTP ${status}`);
}

export async function errorFromResponse(response: Response): Promise<ApiError> {
  return errorFromBody(await response.json().catch(() => null), response.status);
}

/** The codes that say "try the same request again later": the request itself was fine. */
const retryableCodes: ReadonlySet<string> = new Set([
  'network',
  'timeout',
  'unavailable',
  'rate_limited',
  'internal',
]);

export function isRetryableCode(code: string): boolean {
  return retryableCodes.has(code);
}

/** True for a failure worth retrying unchanged; false for one the person must act on. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ApiError) return isRetryableCode(error.code);
  // A fetch that threw before any response (offline, DNS, reset) is a network failure.
  return error instanceof TypeError;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
