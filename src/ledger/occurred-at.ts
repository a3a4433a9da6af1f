import { AppError } from "../lib/errors";
import { addDays, toUtcIso } from "../lib/time";
import type { ProgramRow, WriteScope } from "./state";

/** How far ahead of the server clock a reported `occurredAt` may be: the skew between a till's clock and ours. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * When a purchase or activity happened, within what the program allows: never in the future
 * (past the clock skew), and for storefront and partner keys never before the program's
 * back-dating window (`backdateDays`). Admin keys and the system's own writes may date further
 * back (imports write history directly). The rules then run as of this time — a backdated
 * purchase within the window earns what the program offered when it happened — and tier
 * windows count the order at this time.
 */
export function allowedOccurredAt(scope: WriteScope, program: ProgramRow, reported: string | undefined): string {
  if (!reported) return scope.now;
  const at = toUtcIso(reported);
  const latest = new Date(Date.parse(scope.now) + MAX_CLOCK_SKEW_MS).toISOString();
  if (Date.parse(at) > Date.parse(latest))
    throw new AppError(
      "invalid_request",
      `occurredAt ${at} is in the future: it may be at most ${MAX_CLOCK_SKEW_MS / 60_000} minutes ahead of the server clock (${scope.now})`,
      { field: "occurredAt", bound: "max_clock_skew", maxClockSkewSeconds: MAX_CLOCK_SKEW_MS / 1000, latest },
    );
  if (scope.actor === "storefront" || scope.actor === "partner") {
    const earliest = addDays(scope.now, -program.backdateDays);
    if (Date.parse(at) < Date.parse(earliest))
      throw new AppError(
        "invalid_request",
        `occurredAt ${at} is older than the program's back-dating window of ${program.backdateDays} days (earliest ${earliest}); only an admin key or an import may record older events`,
        { field: "occurredAt", bound: "backdate_window", backdateDays: program.backdateDays, earliest },
      );
  }
  return at;
}
