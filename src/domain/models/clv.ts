/**
 * Customer lifetime value and per-member scores from a fitted BG/NBD + Gamma-Gamma pair.
 *
 * Unit convention: x, t_x, T and the BG/NBD α must all be in one time unit, named by `unit`
 * ("days" in the product; CDNOW and the published examples use "weeks"). A "month" is 30 days or
 * 4.345 weeks, the factors lifetimes uses for freq "D" and "W", so results line up with lifetimes.
 */
import { type BgNbdParams, conditionalExpectedPurchases, probabilityAlive } from "./bgnbd";
import { expectedAverageOrderValue, type GammaGammaParams } from "./gamma-gamma";

export type TimeUnit = "days" | "weeks";

const PERIODS_PER_MONTH: Record<TimeUnit, number> = { days: 30, weeks: 4.345 };
const PERIODS_PER_DAY: Record<TimeUnit, number> = { days: 1, weeks: 1 / 7 };

export interface MemberHistory {
  bgnbd: BgNbdParams;
  gg: GammaGammaParams;
  /** Repeat purchases. */
  x: number;
  /** Time of the last purchase since the first, in the model's time unit. */
  t_x: number;
  /** Time since the first purchase, in the model's time unit. */
  T: number;
  /** Mean value of the repeat purchases (0 when x = 0), in currency. */
  mBar: number;
}

export interface LifetimeValueInput extends MemberHistory {
  /** Horizon in months (default 12). */
  months?: number;
  /** Discount rate per month (default 0.01). */
  monthlyDiscountRate?: number;
  /** Model time units per month: 30 for days, 4.345 for weeks (see PERIODS_PER_MONTH). */
  periodsPerMonth: number;
}

/**
 * Discounted expected revenue over the next `months`, as lifetimes' `customer_lifetime_value`:
 *   Σ_{i=1..months} (E[Y(i·m) | history] − E[Y((i−1)·m) | history]) · E[M | x, mBar] / (1 + d)^i,
 * with m = periodsPerMonth, i.e. each month's expected purchases valued at the expected order
 * value and discounted at the end of that month.
 */
export function customerLifetimeValue(input: LifetimeValueInput): number {
  const { bgnbd, gg, x, t_x, T, mBar, months = 12, monthlyDiscountRate = 0.01, periodsPerMonth } = input;
  if (!(periodsPerMonth > 0 && Number.isFinite(periodsPerMonth))) {
    throw new RangeError(`periodsPerMonth must be positive, got ${periodsPerMonth}`);
  }
  if (!(Number.isInteger(months) && months >= 0)) throw new RangeError(`months must be a non-negative integer, got ${months}`);
  if (!(monthlyDiscountRate > -1)) throw new RangeError(`monthlyDiscountRate must be > -1, got ${monthlyDiscountRate}`);
  const orderValue = expectedAverageOrderValue(gg, x, mBar);
  let value = 0;
  let previous = 0;
  for (let month = 1; month <= months; month++) {
    const cumulative = conditionalExpectedPurchases(bgnbd, month * periodsPerMonth, x, t_x, T);
    // Skip empty months so an unbounded order value (q ≤ 1) times zero purchases cannot make NaN.
    if (cumulative > previous) value += ((cumulative - previous) * orderValue) / (1 + monthlyDiscountRate) ** month;
    previous = cumulative;
  }
  return value;
}

export interface MemberScore {
  /** P(still an active customer now). */
  pAlive: number;
  churnProbability: number;
  /** Expected purchases in the next 90 days. */
  expectedPurchases90d: number;
  /** Expected value of a future order (population mean for members without repeat purchases). */
  expectedOrderValue: number;
  /** Discounted 12-month CLV at 1 % per month. */
  clv12m: number;
}

/**
 * Scores for one member. `unit` names the unit of t_x, T and the fitted α (default "days",
 * which is what the product passes); the 90-day horizon is converted into that unit.
 */
export function scoreMember(input: MemberHistory & { unit?: TimeUnit; monthlyDiscountRate?: number }): MemberScore {
  const { bgnbd, gg, x, t_x, T, mBar, unit = "days", monthlyDiscountRate = 0.01 } = input;
  const pAlive = probabilityAlive(bgnbd, x, t_x, T);
  return {
    pAlive,
    churnProbability: 1 - pAlive,
    expectedPurchases90d: conditionalExpectedPurchases(bgnbd, 90 * PERIODS_PER_DAY[unit], x, t_x, T),
    expectedOrderValue: expectedAverageOrderValue(gg, x, mBar),
    clv12m: customerLifetimeValue({
      bgnbd,
      gg,
      x,
      t_x,
      T,
      mBar,
      months: 12,
      monthlyDiscountRate,
      periodsPerMonth: PERIODS_PER_MONTH[unit],
    }),
  };
}
