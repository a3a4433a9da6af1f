// Value segments: the RFM grid collapsed into a handful of groups marketers act on
// (high value to pamper, potential to nurture, at risk to win back, lost to let go).
// "Value" is FM = (F + M) / 2: how much and how often they buy, on the same 1–5 scale.
//
// First matching row wins:
//
// | segment     | rule                    | who                                          | typical action             |
// | ----------- | ----------------------- | -------------------------------------------- | -------------------------- |
// | new         | orders = 1 and R ≥ 4    | one purchase, and it was recent              | onboarding, second order   |
// | champions   | R ≥ 4 and FM ≥ 4        | bought recently, buy often, spend the most   | VIP perks, referrals       |
// | loyal       | R ≥ 3 and FM ≥ 3        | regular buyers with good value               | upsell, tier progress      |
// | potential   | R ≥ 3 (and FM < 3)      | recent but low value so far                  | nurture, cross-sell        |
// | at_risk     | R ≤ 2 and FM ≥ 3        | used to be valuable, have not come back      | win-back with a strong offer |
// | hibernating | R = 2 (and FM < 3)      | low value and lapsing                        | cheap reactivation         |
// | lost        | R = 1 (and FM < 3)      | low value, longest gone                      | suppress or last attempt   |
//
// The grid is complete: every R/F/M combination of a purchaser lands in exactly one row.
// Members with no purchase have no value segment (null); their lifecycle stage (new /
// dormant / churned) says what to do with them.
import type { RfmScore } from "./rfm";

export const VALUE_SEGMENTS = ["champions", "loyal", "potential", "new", "at_risk", "hibernating", "lost"] as const;
export type ValueSegment = (typeof VALUE_SEGMENTS)[number];

export type ValueSegmentInput = Pick<RfmScore, "r" | "f" | "m"> & {
  /** Lifetime orders; tells a single purchase apart from a low F score. */
  orders: number;
};

/** The member's value segment from their RFM; null when they never purchased. */
export function valueSegment({ r, f, m, orders }: ValueSegmentInput): ValueSegment | null {
  if (!(orders > 0)) return null;
  const fm = (f + m) / 2;
  if (orders === 1 && r >= 4) return "new";
  if (r >= 4 && fm >= 4) return "champions";
  if (r >= 3 && fm >= 3) return "loyal";
  if (r >= 3) return "potential";
  if (fm >= 3) return "at_risk";
  return r === 2 ? "hibernating" : "lost";
}
