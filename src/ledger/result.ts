import { AppError, type ErrorCode } from "../lib/errors";
import type { Statement } from "./state";

/** What an operation plans: its answer and the statements that commit it, in one batch with the idempotency record. */
export type Plan<T> = { status: 200 | 201; body: T; statements: Statement[] };

type Scalar = string | number | boolean | null;
/**
 * A ledger error's details: flat facts (amounts, a reason code). Typed as plain data because RPC
 * types a result only when every part of it is serialisable (an `unknown` drops the variant).
 */
type ErrorDetails = Record<string, Scalar | Scalar[]>;

/** What crosses the Durable Object RPC boundary: plain data, never a thrown class. */
export type LedgerResult<T = unknown> =
  | { ok: true; status: 200 | 201 | 202; body: T; replayed: boolean }
  | { ok: false; code: ErrorCode; message: string; details?: ErrorDetails };

export function unwrap<T>(result: LedgerResult<T>): { status: 200 | 201 | 202; body: T; replayed: boolean } {
  if (!result.ok) throw new AppError(result.code, result.message, result.details);
  return result;
}

export function failure(err: unknown): LedgerResult<never> {
  // The planners throw flat details (they become the JSON error body as they are).
  if (err instanceof AppError) return { ok: false, code: err.code, message: err.message, details: err.details as ErrorDetails };
  throw err;
}
