import { AppError, type ErrorCode } from "../lib/errors";

/** What crosses the Durable Object RPC boundary: plain data, never a thrown class. */
export type LedgerResult<T = unknown> =
  | { ok: true; status: 200 | 201; body: T; replayed: boolean }
  | { ok: false; code: ErrorCode; message: string; details?: unknown };

export function unwrap<T>(result: LedgerResult<T>): { status: 200 | 201; body: T; replayed: boolean } {
  if (!result.ok) throw new AppError(result.code, result.message, result.details);
  return result;
}

export function failure(err: unknown): LedgerResult<never> {
  if (err instanceof AppError) return { ok: false, code: err.code, message: err.message, details: err.details };
  throw err;
}
