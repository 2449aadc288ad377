import { ErrorBody, type ErrorCode } from '@parley/contracts';
import { t } from './strings.ts';

/** A failed call: the server's error code and message, or a network/parse failure. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode | 'network' | 'unexpected_response';
  readonly details: Record<string, string> | undefined;
  constructor(
    status: number,
    code: ApiError['code'],
    message: string,
    details?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }

  static async fromResponse(res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => '');
    try {
      const body = ErrorBody.parse(JSON.parse(text));
      return new ApiError(res.status, body.code, body.message, body.details);
    } catch {
      return new ApiError(res.status, 'unexpected_response', `${res.status} ${res.statusText}`);
    }
  }
}

/** One sentence for the user, whatever was thrown. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'network') return t.networkError;
    if (err.code === 'unexpected_response') return `${t.unexpectedResponse} (${err.message})`;
    if (err.code === 'forbidden') return err.message || t.forbidden;
    return err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
