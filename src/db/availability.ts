import { AppError } from "../lib/errors";

/**
 * Whether an error means the database could not be reached or did not answer in time (a refused
 * or dropped connection, a 5xx from the server, our own deadline), as opposed to an answer it gave
 * (a constraint, a missing row) or our own refusal. Only the former may be stored and forwarded:
 * the write's outcome is unknown, and replaying it under its idempotency record is safe.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  let reachedNetwork = false;
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof AppError) return false;
    const { name, code, status, message } = e as { name?: string; code?: unknown; status?: unknown; message?: string };
    // SQLite answered: the database is there and said no.
    if (typeof code === "string" && code.startsWith("SQLITE_")) return false;
    if (name === "TimeoutError" || name === "AbortError") reachedNetwork = true;
    else if (typeof status === "number") {
      if (status >= 500 || status === 429) reachedNetwork = true;
      else return false;
    } else if (code === "HRANA_CLOSED_ERROR" || code === "HRANA_WEBSOCKET_ERROR") reachedNetwork = true;
    else if (e instanceof TypeError || /network|fetch failed|connect|ECONNREFUSED|ECONNRESET|socket|timed? ?out/i.test(message ?? ""))
      reachedNetwork = true;
  }
  return reachedNetwork;
}

/** The 503 a write gets when the database is out of reach and the write cannot wait in the member's queue. */
export const ledgerUnavailable = (message: string, details?: Record<string, string | number | null>) =>
  new AppError("ledger_unavailable", message, details);
