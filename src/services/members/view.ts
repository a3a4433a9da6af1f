import { z } from "@hono/zod-openapi";
import type { members } from "../../../schema";
import { tierBenefitsSchema } from "../../domain/tiers/schema";

export type MemberRow = typeof members.$inferSelect;
export type TierRef = { id: string; name: string; rank: number; version?: number; benefits?: TierBenefitsView } | null;

/** A tier's benefits as the storefront shows them: flags and labels, the birthday gift as its label. */
const TierBenefitsViewSchema = z
  .object({
    discountPct: z.number().openapi({ description: "Percent off the cart; the quote returns it as a discount line" }),
    pointsMultiplier: z.number(),
    freeShipping: z.boolean(),
    priorityService: z.boolean(),
    birthdayGift: z
      .string()
      .nullable()
      .openapi({ description: "What the member receives on their birthday (a label; a catalog gift is issued as a coupon)" }),
    custom: z.record(z.string(), z.string()),
  })
  .openapi("TierBenefitsView");
export type TierBenefitsView = z.infer<typeof TierBenefitsViewSchema>;

export function storefrontBenefits(definition: Record<string, unknown> | null | undefined): TierBenefitsView {
  const parsed = tierBenefitsSchema.safeParse((definition as { benefits?: unknown } | null)?.benefits ?? {});
  const b = parsed.success ? parsed.data : {};
  const gift = b.birthdayGift;
  return {
    discountPct: b.discountPct ?? 0,
    pointsMultiplier: b.pointsMultiplier ?? 1,
    freeShipping: b.freeShipping ?? false,
    priorityService: b.priorityService ?? false,
    birthdayGift: gift === undefined ? null : typeof gift === "string" ? gift : (gift.label ?? null),
    custom: b.custom ?? {},
  };
}

export const MemberTierSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    rank: z.number(),
    securedUntil: z.string().nullable(),
    version: z.number().int().openapi({ description: "The tier definition's version these benefits belong to" }),
    benefits: TierBenefitsViewSchema,
  })
  .openapi("MemberTier");

export const ConsentSchema = z.object({
  email: z.boolean().default(false),
  sms: z.boolean().default(false),
  push: z.boolean().default(false),
  line: z.boolean().default(false),
  wechat: z.boolean().default(false),
});

export const MemberSchema = z
  .object({
    id: z.string(),
    externalId: z.string(),
    status: z.enum(["active", "blocked", "erased", "merged"]),
    mergedInto: z
      .string()
      .nullable()
      .openapi({ description: "Status `merged`: the member this one was merged into (lookups of this one redirect there)" }),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    name: z.string().nullable(),
    birthday: z.string().nullable(),
    attributes: z.record(z.string(), z.unknown()),
    tags: z.array(z.string()),
    consent: ConsentSchema,
    referralCode: z.string(),
    tier: MemberTierSchema.nullable(),
    balance: z.object({
      available: z.number().int(),
      pending: z.number().int(),
      /** Points held by uncaptured checkout reserves (already out of `available` and `total`). */
      reserved: z.number().int(),
      total: z.number().int(),
      /** Points owed after a clawback found them spent; repaid first from new points. */
      debt: z.number().int(),
    }),
    lifetime: z.object({ earned: z.number().int(), redeemed: z.number().int(), spend: z.number().int(), orders: z.number().int() }),
    lastPurchaseAt: z.string().nullable(),
    analytics: z.object({
      stage: z.string(),
      rfm: z.object({ r: z.number(), f: z.number(), m: z.number() }).nullable(),
      valueSegment: z.string().nullable(),
      churnProbability: z.number().nullable(),
      expectedPurchases90d: z.number().nullable(),
      expectedOrderValue: z.number().nullable(),
      clv12m: z.number().nullable(),
      scoredAt: z.string().nullable(),
      segments: z.array(z.string()),
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Member");

export type MemberView = z.infer<typeof MemberSchema>;

export function balanceOf(row: Pick<MemberRow, "pointsBalance" | "pointsPending" | "pointsReserved" | "pointsDebt">) {
  return {
    available: row.pointsBalance - row.pointsPending,
    pending: row.pointsPending,
    reserved: row.pointsReserved,
    total: row.pointsBalance,
    debt: row.pointsDebt,
  };
}

export function toMemberView(row: MemberRow, tier: TierRef, segments: string[] = []): MemberView {
  return {
    id: row.id,
    externalId: row.externalId,
    status: row.status,
    mergedInto: row.mergedInto,
    email: row.email,
    phone: row.phone,
    name: row.name,
    birthday: row.birthday,
    attributes: row.attributes,
    tags: row.tags,
    consent: row.consent,
    referralCode: row.referralCode,
    tier: tier
      ? { ...tier, securedUntil: row.tierSecuredUntil, version: tier.version ?? 1, benefits: tier.benefits ?? storefrontBenefits(null) }
      : null,
    balance: balanceOf(row),
    lifetime: { earned: row.lifetimeEarned, redeemed: row.lifetimeRedeemed, spend: row.lifetimeSpend, orders: row.ordersCount },
    lastPurchaseAt: row.lastPurchaseAt,
    analytics: {
      stage: row.stage,
      rfm: row.rfmR == null ? null : { r: row.rfmR, f: row.rfmF ?? 1, m: row.rfmM ?? 1 },
      valueSegment: row.valueSegment,
      churnProbability: row.churnProbability,
      expectedPurchases90d: row.expectedPurchases90d,
      expectedOrderValue: row.expectedOrderValue,
      clv12m: row.clv12m,
      scoredAt: row.scoredAt,
      segments,
    },
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
