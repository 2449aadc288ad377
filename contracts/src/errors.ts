import * as z from 'zod/mini';

/**
 * The one catalogue of error codes. Every transport maps these the same way:
 * HTTP status (below), a WebSocket `error` frame, a NATS RPC error envelope.
 */
export const ErrorCode = /* @__PURE__ */ z.enum([
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const httpStatusByErrorCode: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

/** Body of every non-2xx REST response and payload of a failed NATS RPC. */
export const ErrorBody = /* @__PURE__ */ z.object({
  code: ErrorCode,
  message: z.string(),
  /** Field-level details for validation errors (path → message). */
  details: z.optional(z.record(z.string(), z.string())),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** A domain error with a stable code; thrown in services, mapped once per transport. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, string> | undefined;
  constructor(code: ErrorCode, message: string, details?: Record<string, string>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
  toBody(): ErrorBody {
    return this.details
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

/** Turns a zod failure into a readable 400 with per-field details. */
export function validationError(error: z.core.$ZodError, what = 'request'): AppError {
  const details: Record<string, string> = {};
  for (const issue of error.issues) {
    const path = issue.path.length ? issue.path.join('.') : '(root)';
    details[path] ??= issue.message;
  }
  const first = Object.entries(details)[0];
  const summary = first ? `${first[0]}: ${first[1]}` : 'invalid';
  return new AppError('bad_request', `Invalid ${what}: ${summary}`, details);
}

/**
 * WebSocket close codes and what the client must do (soketi's ranges):
 * 4000–4099 do not reconnect, 4100–4199 reconnect with backoff, 4200–4299 reconnect now.
 * Standard codes used as-is: 1009 (frame too big), 1012 (service restart: reconnect elsewhere).
 */
export const WsCloseCode = {
  /** Standard: server restarting, reconnect (to another replica). */
  serviceRestart: 1012,
  /** Standard: a frame exceeded the size limit. */
  messageTooBig: 1009,
  /** Standard: policy violation (e.g. origin refused after upgrade). */
  policyViolation: 1008,
  /** Token invalid or expired: get a new token before reconnecting. */
  unauthorized: 4001,
  /** Operator account deactivated or visitor banned: do not reconnect. */
  forbidden: 4003,
  /** Too many messages or connections: reconnect after a backoff. */
  rateLimited: 4100,
  /** Heartbeat missed: reconnect now. */
  heartbeatTimeout: 4200,
} as const;
export type WsCloseCode = (typeof WsCloseCode)[keyof typeof WsCloseCode];

/** What a client should do on a close code. */
export function reconnectPolicy(code: number): 'never' | 'backoff' | 'now' | 'reauth' {
  if (code === WsCloseCode.unauthorized) return 'reauth';
  if (code >= 4000 && code < 4100) return 'never';
  if (code >= 4200 && code < 4300) return 'now';
  return 'backoff';
}
