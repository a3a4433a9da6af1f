import { z } from "@hono/zod-openapi";
import { and, asc, count, eq, inArray, ne, sql } from "drizzle-orm";
import { coupons, rewards, tiers } from "../../../schema";
import type { ServiceContext } from "../../lib/context";
import { AppError, errorChainText, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { Iso } from "../../lib/openapi";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { requireMemberRow } from "../members/members";
import { balanceOf } from "../members/view";
import { configVersionBump } from "../program/config-version";

export const rewardKinds = ["coupon_percent", "fixed_discount", "free_product", "experience"] as const;
export type RewardRow = typeof rewards.$inferSelect;

/** What `rewards.definition` holds: everything that is not a column. */
export type RewardDefinition = {
  description: string | null;
  /** Percent (coupon_percent, 1–100) or minor units (fixed_discount). */
  value: number | null;
  productSku: string | null;
  /** Tiers allowed to redeem; empty = every member. */
  tierIds: string[];
  perMemberLimit: number | null;
  startsAt: string | null;
  endsAt: string | null;
  /** Issued coupons expire this many days after issue; null = they do not expire. */
  couponValidDays: number | null;
  /** Total units ever made available (null = unlimited); `inventory_remaining` is what is left. */
  inventoryTotal: number | null;
};

/** Every field of a reward as the API takes it (create requires name, kind, pointsCost). */
export const rewardFields = {
  name: z.string().trim().min(1).max(200),
  kind: z.enum(rewardKinds),
  pointsCost: z.number().int("pointsCost must be a whole number").positive().max(1_000_000_000),
  costMinor: z
    .number()
    .int("costMinor is integer minor units")
    .nonnegative()
    .max(1_000_000_000_000)
    .openapi({ description: "What one issue costs the program, in minor units" }),
  active: z.boolean(),
  inventory: z
    .number()
    .int()
    .nonnegative()
    .max(1_000_000_000)
    .nullable()
    .openapi({ description: "Total units available (null = unlimited)" }),
  perMemberLimit: z
    .number()
    .int()
    .positive()
    .max(1_000_000)
    .nullable()
    .openapi({ description: "Coupons one member may hold or have used (cancelled ones do not count); null = no limit" }),
  tierIds: z.array(z.string().min(1).max(64)).max(50).openapi({ description: "Tiers allowed to redeem; empty = all members" }),
  startsAt: Iso().nullable(),
  endsAt: Iso().nullable(),
  couponValidDays: z.number().int().positive().max(3650).nullable(),
  description: z.string().trim().max(2000).nullable(),
  value: z
    .number()
    .int()
    .positive()
    .max(1_000_000_000_000)
    .nullable()
    .openapi({ description: "coupon_percent: percent off (1–100); fixed_discount: minor units off" }),
  productSku: z.string().trim().min(1).max(128).nullable(),
};

export const RewardCreateBody = z
  .object(rewardFields)
  .partial()
  .required({ name: true, kind: true, pointsCost: true })
  .strict()
  .openapi("RewardCreate", {
    example: {
      name: "10% off your next order",
      kind: "coupon_percent",
      value: 10,
      pointsCost: 500,
      costMinor: 300,
      inventory: 1000,
      perMemberLimit: 2,
      couponValidDays: 30,
      tierIds: [],
    },
  });

export const RewardPatchBody = z
  .object(rewardFields)
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, "send at least one field to change")
  .openapi("RewardPatch", { example: { inventory: 1500, active: true } });

export type RewardInput = {
  name: string;
  kind: (typeof rewardKinds)[number];
  pointsCost: number;
  costMinor: number;
  active: boolean;
  inventory: number | null;
  perMemberLimit: number | null;
  tierIds: string[];
  startsAt: string | null;
  endsAt: string | null;
  couponValidDays: number | null;
  description: string | null;
  value: number | null;
  productSku: string | null;
};

export const RewardSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(rewardKinds),
    pointsCost: z.number().int(),
    costMinor: z.number().int(),
    active: z.boolean(),
    inventory: z.number().int().nullable(),
    inventoryRemaining: z.number().int().nullable(),
    perMemberLimit: z.number().int().nullable(),
    tierIds: z.array(z.string()),
    startsAt: z.string().nullable(),
    endsAt: z.string().nullable(),
    couponValidDays: z.number().int().nullable(),
    description: z.string().nullable(),
    value: z.number().int().nullable(),
    productSku: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Reward");

export type RewardView = z.infer<typeof RewardSchema>;

/** The stored definition with defaults, so an older or partial row still reads. */
export function definitionOf(row: Pick<RewardRow, "definition">): RewardDefinition {
  const d = (row.definition ?? {}) as Partial<RewardDefinition>;
  return {
    description: d.description ?? null,
    value: d.value ?? null,
    productSku: d.productSku ?? null,
    tierIds: Array.isArray(d.tierIds) ? d.tierIds : [],
    perMemberLimit: d.perMemberLimit ?? null,
    startsAt: d.startsAt ?? null,
    endsAt: d.endsAt ?? null,
    couponValidDays: d.couponValidDays ?? null,
    inventoryTotal: d.inventoryTotal ?? null,
  };
}

function toRewardView(row: RewardRow): RewardView {
  const d = definitionOf(row);
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    pointsCost: row.pointsCost,
    costMinor: row.costMinor,
    active: row.active,
    inventory: d.inventoryTotal,
    inventoryRemaining: row.inventoryRemaining,
    perMemberLimit: d.perMemberLimit,
    tierIds: d.tierIds,
    startsAt: d.startsAt,
    endsAt: d.endsAt,
    couponValidDays: d.couponValidDays,
    description: d.description,
    value: d.value,
    productSku: d.productSku,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const inputOf = (v: RewardView): RewardInput => ({
  name: v.name,
  kind: v.kind,
  pointsCost: v.pointsCost,
  costMinor: v.costMinor,
  active: v.active,
  inventory: v.inventory,
  perMemberLimit: v.perMemberLimit,
  tierIds: v.tierIds,
  startsAt: v.startsAt,
  endsAt: v.endsAt,
  couponValidDays: v.couponValidDays,
  description: v.description,
  value: v.value,
  productSku: v.productSku,
});

/** Cross-field rules a zod object cannot express per field: what each kind needs. */
export function rewardProblems(r: RewardInput): string[] {
  const problems: string[] = [];
  if (r.kind === "coupon_percent" && (r.value === null || r.value < 1 || r.value > 100))
    problems.push("value: coupon_percent needs value between 1 and 100 (percent off)");
  if (r.kind === "fixed_discount" && r.value === null) problems.push("value: fixed_discount needs value (minor units off)");
  if (r.kind === "free_product" && !r.productSku) problems.push("productSku: free_product needs the product's SKU");
  if (r.startsAt && r.endsAt && Date.parse(r.startsAt) >= Date.parse(r.endsAt)) problems.push("endsAt: must be after startsAt");
  return problems;
}

async function validated(ctx: ServiceContext, programId: string, r: RewardInput): Promise<RewardInput> {
  const problems = rewardProblems(r);
  const tierIds = [...new Set(r.tierIds)];
  if (tierIds.length > 0) {
    const found = await ctx.db
      .select({ id: tiers.id })
      .from(tiers)
      .where(and(eq(tiers.programId, programId), inArray(tiers.id, tierIds)));
    const unknown = tierIds.filter((id) => !found.some((f) => f.id === id));
    if (unknown.length) problems.push(`tierIds: unknown tier(s) ${unknown.join(", ")}`);
  }
  if (problems.length) throw new AppError("invalid_request", `Invalid reward: ${problems.join("; ")}`, { problems });
  return {
    ...r,
    tierIds,
    startsAt: r.startsAt && new Date(r.startsAt).toISOString(),
    endsAt: r.endsAt && new Date(r.endsAt).toISOString(),
  };
}

export const definitionFrom = (r: RewardInput): RewardDefinition => ({
  description: r.description,
  value: r.value,
  productSku: r.productSku,
  tierIds: r.tierIds,
  perMemberLimit: r.perMemberLimit,
  startsAt: r.startsAt,
  endsAt: r.endsAt,
  couponValidDays: r.couponValidDays,
  inventoryTotal: r.inventory,
});

async function requireReward(ctx: ServiceContext, programId: string, rewardId: string): Promise<RewardRow> {
  const [row] = await ctx.db
    .select()
    .from(rewards)
    .where(and(eq(rewards.programId, programId), eq(rewards.id, rewardId)))
    .limit(1);
  if (!row) throw notFound("Reward");
  return row;
}

export async function createReward({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; body: z.infer<typeof RewardCreateBody> };
}) {
  const b = input.body;
  const reward = await validated(ctx, input.programId, {
    name: b.name,
    kind: b.kind,
    pointsCost: b.pointsCost,
    costMinor: b.costMinor ?? 0,
    active: b.active ?? true,
    inventory: b.inventory ?? null,
    perMemberLimit: b.perMemberLimit ?? null,
    tierIds: b.tierIds ?? [],
    startsAt: b.startsAt ?? null,
    endsAt: b.endsAt ?? null,
    couponValidDays: b.couponValidDays ?? null,
    description: b.description ?? null,
    value: b.value ?? null,
    productSku: b.productSku ?? null,
  });
  const now = nowIso();
  const row: RewardRow = {
    id: newId("rwd"),
    programId: input.programId,
    name: reward.name,
    kind: reward.kind,
    pointsCost: reward.pointsCost,
    costMinor: reward.costMinor,
    definition: definitionFrom(reward),
    inventoryRemaining: reward.inventory,
    active: reward.active,
    createdAt: now,
    updatedAt: now,
  };
  const view = toRewardView(row);
  await ctx.db.batch([
    ctx.db.insert(rewards).values(row),
    auditStatement(ctx, { action: "reward.created", entityType: "reward", entityId: row.id, after: view }),
    configVersionBump(ctx.db, input.programId),
  ]);
  return view;
}

export async function listRewards({ ctx, input }: { ctx: ServiceContext; input: { programId: string; active?: boolean } }) {
  const rows = await ctx.db
    .select()
    .from(rewards)
    .where(and(eq(rewards.programId, input.programId), input.active === undefined ? undefined : eq(rewards.active, input.active)))
    .orderBy(asc(rewards.pointsCost), asc(rewards.id));
  return rows.map(toRewardView);
}

export async function getReward({ ctx, input }: { ctx: ServiceContext; input: { programId: string; rewardId: string } }) {
  return toRewardView(await requireReward(ctx, input.programId, input.rewardId));
}

/**
 * Merge the patch into the reward and validate it as a whole. A new `inventory` total moves
 * the remaining stock by the same difference, relatively, so redemptions landing at the same
 * time are not lost; the CHECK (remaining ≥ 0) refuses a total below what is already issued.
 */
export async function updateReward({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; rewardId: string; patch: z.infer<typeof RewardPatchBody> };
}) {
  const before = await requireReward(ctx, input.programId, input.rewardId);
  const beforeView = toRewardView(before);
  const next = await validated(ctx, input.programId, { ...inputOf(beforeView), ...input.patch });
  const now = nowIso();
  const oldTotal = beforeView.inventory;
  let remaining: unknown;
  if (next.inventory === null) remaining = null;
  else if (oldTotal === null)
    remaining = sql`${next.inventory} - (SELECT COUNT(*) FROM coupons WHERE reward_id = ${before.id} AND status <> 'cancelled')`;
  else if (next.inventory !== oldTotal) remaining = sql`${rewards.inventoryRemaining} + ${next.inventory - oldTotal}`;
  const update = ctx.db
    .update(rewards)
    .set({
      name: next.name,
      kind: next.kind,
      pointsCost: next.pointsCost,
      costMinor: next.costMinor,
      active: next.active,
      definition: definitionFrom(next),
      updatedAt: now,
      ...(remaining === undefined ? {} : { inventoryRemaining: remaining as number | null }),
    })
    .where(eq(rewards.id, before.id))
    .returning();
  try {
    const [[row]] = await ctx.db.batch([
      update,
      auditStatement(ctx, { action: "reward.updated", entityType: "reward", entityId: before.id, before: beforeView, after: next }),
      configVersionBump(ctx.db, input.programId),
    ]);
    return toRewardView(row);
  } catch (err) {
    if (/rewards_inventory_ck|CHECK constraint failed/i.test(errorChainText(err))) {
      throw new AppError("conflict", `inventory ${next.inventory} is below the number of coupons already issued for this reward`);
    }
    throw err;
  }
}

/** A reward that has issued coupons keeps its history: deactivate it instead (409). */
export async function deleteReward({ ctx, input }: { ctx: ServiceContext; input: { programId: string; rewardId: string } }) {
  const before = await requireReward(ctx, input.programId, input.rewardId);
  const [{ n }] = await ctx.db.select({ n: count() }).from(coupons).where(eq(coupons.rewardId, before.id));
  if (n > 0) throw new AppError("conflict", `${n} coupons were issued for this reward; deactivate it with PATCH {"active": false} instead`);
  await ctx.db.batch([
    ctx.db.delete(rewards).where(eq(rewards.id, before.id)),
    auditStatement(ctx, { action: "reward.deleted", entityType: "reward", entityId: before.id, before: toRewardView(before) }),
    configVersionBump(ctx.db, input.programId),
  ]);
}

export type Ineligibility = {
  code: "not_available" | "tier_restricted" | "out_of_stock" | "limit_reached" | "member_inactive";
  message: string;
};

/** Active and inside its window at `now`; otherwise why not. */
export function availabilityProblem(row: RewardRow, now: string): string | null {
  const d = definitionOf(row);
  if (!row.active) return `Reward ${row.name} is not active`;
  if (d.startsAt && d.startsAt > now) return `Reward ${row.name} is available from ${d.startsAt}`;
  if (d.endsAt && d.endsAt <= now) return `Reward ${row.name} ended at ${d.endsAt}`;
  return null;
}

/** Why a member may not redeem a reward (ignoring points), or null: the planner and the catalog share this. */
export function ineligibility(
  row: RewardRow,
  member: { status: string; tierId: string | null },
  issuedToMember: number,
  now: string,
): Ineligibility | null {
  const d = definitionOf(row);
  const unavailable = availabilityProblem(row, now);
  if (unavailable) return { code: "not_available", message: unavailable };
  if (member.status !== "active") return { code: "member_inactive", message: `Member is ${member.status}` };
  if (d.tierIds.length > 0 && (!member.tierId || !d.tierIds.includes(member.tierId))) {
    return { code: "tier_restricted", message: `Reward ${row.name} is restricted to members of tier(s) ${d.tierIds.join(", ")}` };
  }
  if (d.perMemberLimit !== null && issuedToMember >= d.perMemberLimit) {
    return {
      code: "limit_reached",
      message: `Reward ${row.name} is limited to ${d.perMemberLimit} per member; this member already has ${issuedToMember}`,
    };
  }
  if (row.inventoryRemaining !== null && row.inventoryRemaining <= 0)
    return { code: "out_of_stock", message: `Reward ${row.name} is out of stock` };
  return null;
}

export const MemberRewardSchema = RewardSchema.omit({ costMinor: true, createdAt: true, updatedAt: true, active: true })
  .extend({
    affordable: z.boolean().openapi({ description: "The member's available points cover pointsCost" }),
    eligible: z.boolean().openapi({ description: "Nothing but points stands in the way (tier, per-member limit, stock)" }),
    reason: z.object({ code: z.string(), message: z.string() }).nullable(),
    redeemedByMember: z.number().int(),
  })
  .openapi("MemberReward");

/**
 * The storefront's catalog for one member: active rewards inside their window, each with
 * whether the member can afford it and whether they may redeem it (and if not, why).
 */
export async function listMemberRewards({ ctx, input }: { ctx: ServiceContext; input: { programId: string; memberId: string } }) {
  const member = await requireMemberRow(ctx, input.programId, input.memberId);
  const now = nowIso();
  const [rows, used] = await ctx.db.batch([
    ctx.db
      .select()
      .from(rewards)
      .where(and(eq(rewards.programId, input.programId), eq(rewards.active, true)))
      .orderBy(asc(rewards.pointsCost), asc(rewards.id)),
    ctx.db
      .select({ rewardId: coupons.rewardId, n: count() })
      .from(coupons)
      .where(and(eq(coupons.memberId, member.id), ne(coupons.status, "cancelled")))
      .groupBy(coupons.rewardId),
  ]);
  const usedBy = new Map(used.map((u) => [u.rewardId, Number(u.n)]));
  const available = member.pointsBalance - member.pointsPending;
  const data = rows
    .filter((r) => availabilityProblem(r, now) === null)
    .map((r) => {
      const { costMinor: _c, createdAt: _a, updatedAt: _u, active: _x, ...view } = toRewardView(r);
      const redeemedByMember = usedBy.get(r.id) ?? 0;
      const reason = ineligibility(r, member, redeemedByMember, now);
      return { ...view, affordable: available >= r.pointsCost, eligible: reason === null, reason, redeemedByMember };
    });
  return { balance: balanceOf(member), data };
}
