import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The closed set of error codes the API returns, each with its HTTP status. */
export const errorCodes = {
  invalid_request: 400,
  unknown_api_version: 400,
  member_code_invalid: 400,
  unauthorized: 401,
  invalid_signature: 401,
  forbidden: 403,
  order_of_another_source: 403,
  program_suspended: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  idempotency_conflict: 409,
  insufficient_points: 409,
  duplicate_order: 409,
  refund_exceeds_order: 409,
  redemption_expired: 409,
  reversal_exceeds_redemption: 409,
  out_of_stock: 409,
  limit_reached: 409,
  budget_exhausted: 409,
  coupon_not_valid: 409,
  referral_rejected: 409,
  member_erased: 409,
  member_merged: 409,
  merge_in_progress: 409,
  currency_locked: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
  ledger_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof errorCodes;

/** The one error type routes and services throw; the app turns it into the JSON error body. */
export class AppError extends Error {
  readonly status: ContentfulStatusCode;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.status = errorCodes[code];
  }
}

export const notFound = (what: string) => new AppError("not_found", `${what} not found`);

export type ErrorBody = { error: { code: ErrorCode; message: string; requestId: string; details?: unknown } };

export function errorBody(err: AppError, requestId: string): ErrorBody {
  return { error: { code: err.code, message: err.message, requestId, ...(err.details === undefined ? {} : { details: err.details }) } };
}

/** The messages of an error and its causes (drivers wrap SQLite's), for matching constraint names. */
export function errorChainText(err: unknown): string {
  let text = "";
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++)
    text += ` ${(e as Error).message ?? String(e)}`;
  return text;
}
