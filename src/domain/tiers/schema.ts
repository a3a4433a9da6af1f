// Tier definitions (Bronze, Silver, Gold, ...) as the admin API validates them.
// Money is integer minor units; the API adds `id` (and programId/timestamps).
import { z } from "zod";

const code = z.string().min(1).max(128);

const qualificationSchema = z.strictObject({
  /** Rolling window the figures are measured over, and how long a reached tier is secured. */
  windowDays: z.int().min(1).max(3660),
  /** any: one threshold is enough; all: every set threshold must be met. */
  mode: z.enum(["any", "all"]).default("any"),
  minSpend: z.int().nonnegative().optional(),
  minOrders: z.int().nonnegative().optional(),
  minPoints: z.int().nonnegative().optional(),
  minActiveDays: z.int().nonnegative().optional(),
});

/** A gift from the reward catalog, issued as a coupon (no points charged); `label` is what the storefront shows. */
const rewardGiftSchema = z.strictObject({ rewardId: code, label: z.string().max(500).optional() });

export const tierBenefitsSchema = z.strictObject({
  /** Percent off the cart (quote: a `tier` discount line, applied before a points redemption). */
  discountPct: z.number().min(0).max(100).optional(),
  /** Multiplies all points earned (applied on top of the earning rules). */
  pointsMultiplier: z.number().min(0).max(100).optional(),
  freeShipping: z.boolean().optional(),
  /** A label only (a string), or a catalog reward issued as a coupon on the member's local birthday. */
  birthdayGift: z.union([z.string().max(500), rewardGiftSchema]).optional(),
  priorityService: z.boolean().optional(),
  custom: z.record(z.string().max(128), z.string().max(1000)).optional(),
});
export type TierBenefits = z.infer<typeof tierBenefitsSchema>;

export const tierDefinitionSchema = z.strictObject({
  name: z.string().min(1).max(100),
  /** 0 = entry tier, which everyone qualifies for; higher ranks are better. */
  rank: z.int().min(0).max(1000),
  qualification: qualificationSchema,
  benefits: tierBenefitsSchema.default({}),
  /** Days after securedUntil a member who no longer qualifies keeps the tier. */
  graceDays: z.int().min(0).max(3660).default(0),
  /** Reached only by assignment (POST /v1/members/{memberId}/tier), whatever its thresholds. */
  inviteOnly: z.boolean().optional(),
});
export type TierDefinition = z.infer<typeof tierDefinitionSchema>;

export const tierSchema = tierDefinitionSchema.extend({
  id: code,
  /** The definition's version (1 on creation, +1 on every change). */
  version: z.int().positive().optional(),
  programId: code.optional(),
  createdAt: z.iso.datetime().optional(),
  updatedAt: z.iso.datetime().optional(),
});
export type Tier = z.infer<typeof tierSchema>;

/** Figures over the qualification window. Spend in minor units. */
export interface TierFigures {
  spend: number;
  orders: number;
  pointsEarned: number;
  activeDays?: number;
}

/** Ladder-level problems a single-tier schema cannot see (run before saving a tier set). */
export function tierLadderProblems(tiers: Pick<Tier, "name" | "rank" | "inviteOnly">[]): string[] {
  const problems: string[] = [];
  if (!tiers.some((t) => t.rank === 0)) problems.push("a tier with rank 0 (the entry tier) is required");
  if (tiers.some((t) => t.rank === 0 && t.inviteOnly)) problems.push("the entry tier (rank 0) is everyone's and cannot be invite-only");
  const seen = new Map<number, string>();
  for (const t of tiers) {
    const other = seen.get(t.rank);
    if (other !== undefined) problems.push(`tiers "${other}" and "${t.name}" share rank ${t.rank}`);
    else seen.set(t.rank, t.name);
  }
  return problems;
}

/** The cart discount a tier grants on `amount` (minor units), rounded down so it never exceeds the percentage. */
export function tierDiscount(benefits: TierBenefits | undefined, amount: number): number {
  const pct = benefits?.discountPct ?? 0;
  if (pct <= 0 || amount <= 0) return 0;
  return Math.min(amount, Math.floor((amount * Math.round(pct * 100)) / 10_000));
}
