/**
 * When earned points expire: a program's expiry policy, and what it makes of a new lot. Pure
 * functions over UTC instants and the program's IANA zone (calendar periods are local).
 *
 * - `afterEarning`: a fixed number of days after the points become available.
 * - `endOfPeriod`: at the end of the Nth local month, quarter or year after the one the points
 *   become available in (N = 0: the end of that same period), stored as the UTC instant the
 *   next period starts in the program's zone.
 * - `inactivity`: all such points expire together N days after the member's last purchase; the
 *   lots carry no date, the member row holds the one deadline that every purchase moves.
 */
import { addLocalMonths, localMonth, startOfLocalDay } from "../local-time";

export const EXPIRY_PERIODS = ["month", "quarter", "year"] as const;
export type ExpiryPeriod = (typeof EXPIRY_PERIODS)[number];

export type ExpiryPolicy =
  | { kind: "never" }
  | { kind: "afterEarning"; days: number }
  | { kind: "endOfPeriod"; period: ExpiryPeriod; periodsAfter: number }
  | { kind: "inactivity"; days: number };

/** How a lot stores its expiry (schema/ledger.ts `lotExpiryKinds`). */
export type LotExpiry = { kind: "date"; expiresAt: string | null } | { kind: "period"; expiresAt: string } | { kind: "inactivity" };

const DAY_MS = 86_400_000;
const MONTHS: Record<ExpiryPeriod, number> = { month: 1, quarter: 3, year: 12 };

/** The program columns a policy is stored in: `expiry_policy` (calendar, inactivity) or `expiry_days` (days, never). */
export type StoredExpiry = { expiryDays: number | null; expiryPolicy: Record<string, unknown> | null };

export function expiryPolicyOf(program: StoredExpiry): ExpiryPolicy {
  const p = program.expiryPolicy as ExpiryPolicy | null;
  if (p && (p.kind === "endOfPeriod" || p.kind === "inactivity")) return p;
  return program.expiryDays ? { kind: "afterEarning", days: program.expiryDays } : { kind: "never" };
}

export function storedExpiry(policy: ExpiryPolicy): StoredExpiry {
  switch (policy.kind) {
    case "never":
      return { expiryDays: null, expiryPolicy: null };
    case "afterEarning":
      return { expiryDays: policy.days, expiryPolicy: null };
    default:
      return { expiryDays: null, expiryPolicy: { ...policy } };
  }
}

/**
 * The instant local period `periodsAfter` periods after the one holding `availableAt` ends:
 * the first instant of the period after it, in `timeZone` (so a DST change inside the period
 * moves the UTC instant with the local clock).
 */
export function endOfLocalPeriod(availableAt: string, timeZone: string, period: ExpiryPeriod, periodsAfter: number): string {
  const month = localMonth(availableAt, timeZone);
  const size = MONTHS[period];
  const monthIndex = Number(month.slice(5, 7)) - 1;
  // The period's first month (January, April, July, October for quarters; January for years).
  const periodStart = addLocalMonths(month, -(monthIndex % size));
  const nextStart = addLocalMonths(periodStart, size * (periodsAfter + 1));
  return new Date(startOfLocalDay(`${nextStart}-01`, timeZone)).toISOString();
}

/** How a lot that becomes available at `availableAt` expires under `policy`. */
export function lotExpiry(policy: ExpiryPolicy, availableAt: string, timeZone: string): LotExpiry {
  switch (policy.kind) {
    case "never":
      return { kind: "date", expiresAt: null };
    case "afterEarning":
      return { kind: "date", expiresAt: new Date(Date.parse(availableAt) + policy.days * DAY_MS).toISOString() };
    case "endOfPeriod":
      return { kind: "period", expiresAt: endOfLocalPeriod(availableAt, timeZone, policy.period, policy.periodsAfter) };
    case "inactivity":
      return { kind: "inactivity" };
  }
}

/**
 * The member's inactivity deadline after a write at `now` that credits an `inactivity` lot or is
 * a purchase. A purchase moves it to `now + days` (never earlier than a deadline still ahead,
 * so lowering `days` shortens no date a member was shown); another credit starts the clock only
 * when there is none running. A deadline that has passed is over: its points have lapsed.
 */
export function inactivityDeadline(current: string | null, now: string, days: number, purchase: boolean): string {
  const running = current !== null && current > now ? current : null;
  const fresh = new Date(Date.parse(now) + days * DAY_MS).toISOString();
  if (!purchase) return running ?? fresh;
  return running !== null && running > fresh ? running : fresh;
}

/** A lot's `expires_at` and `expiry_kind` columns. */
export const lotExpiryColumns = (e: LotExpiry) => ({ expiresAt: e.kind === "inactivity" ? null : e.expiresAt, expiryKind: e.kind });
