import { z } from "@hono/zod-openapi";
import { and, eq, sql } from "drizzle-orm";
import { coupons, rewards } from "../../../schema";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { newId, randomBase32 } from "../../lib/ids";
import { nowIso } from "../../lib/time";
import { definitionOf, type RewardRow, rewardKinds } from "./rewards";

export type CouponRow = typeof coupons.$inferSelect;

/** 10 Crockford base32 characters (50 bits): unguessable at checkout, easy to read out. */
export const newCouponCode = () => randomBase32(10).toUpperCase();

/** Codes are read back by people: ignore case, spaces and dashes, and Crockford's look-alikes. */
function normalizeCouponCode(code: string): string {
  return code.trim().toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
}

export const CouponSchema = z
  .object({
    code: z.string(),
    status: z
      .enum(["issued", "consumed", "cancelled", "expired"])
      .openapi({ description: "expired once expiresAt has passed, even before the nightly sweep marks it" }),
    valid: z.boolean().openapi({ description: "Can be consumed now" }),
    reason: z.object({ code: z.string(), message: z.string() }).nullable(),
    memberId: z.string(),
    reward: z.object({
      id: z.string(),
      name: z.string(),
      kind: z.enum(rewardKinds),
      value: z.number().int().nullable(),
      productSku: z.string().nullable(),
      description: z.string().nullable(),
    }),
    value: z.number().int().nullable().openapi({ description: "Percent off (coupon_percent) or minor units off (fixed_discount)" }),
    pointsCost: z.number().int(),
    issuedAt: z.string(),
    expiresAt: z.string().nullable(),
    consumedAt: z.string().nullable(),
    orderId: z.string().nullable(),
    cancelledAt: z.string().nullable(),
  })
  .openapi("Coupon");

export type CouponView = z.infer<typeof CouponSchema>;

/** Why a coupon cannot be used (or cancelled) now, or null. */
export function couponProblem(
  c: Pick<CouponRow, "status" | "expiresAt" | "consumedAt">,
  now: string,
): { code: string; message: string } | null {
  if (c.status === "consumed") return { code: "consumed", message: `Coupon was already used at ${c.consumedAt}` };
  if (c.status === "cancelled") return { code: "cancelled", message: "Coupon was cancelled" };
  if (c.status === "expired" || (c.expiresAt && c.expiresAt <= now))
    return { code: "expired", message: `Coupon expired at ${c.expiresAt}` };
  return null;
}

export function toCouponView(
  c: CouponRow,
  reward: Pick<RewardRow, "id" | "name" | "kind" | "definition">,
  now: string,
  forMemberId?: string,
): CouponView {
  const d = definitionOf(reward);
  let reason = couponProblem(c, now);
  if (!reason && forMemberId && forMemberId !== c.memberId) reason = { code: "other_member", message: "Coupon belongs to another member" };
  const expired = c.status === "issued" && c.expiresAt !== null && c.expiresAt <= now;
  return {
    code: c.code,
    status: expired ? "expired" : c.status,
    valid: reason === null,
    reason,
    memberId: c.memberId,
    reward: { id: reward.id, name: reward.name, kind: reward.kind, value: d.value, productSku: d.productSku, description: d.description },
    value: d.value,
    pointsCost: c.pointsCost,
    issuedAt: c.issuedAt,
    expiresAt: c.expiresAt,
    consumedAt: c.consumedAt,
    orderId: c.orderId,
    cancelledAt: c.cancelledAt,
  };
}

export async function findCoupon(ctx: ServiceContext, programId: string, code: string) {
  const [row] = await ctx.db
    .select({ coupon: coupons, reward: { id: rewards.id, name: rewards.name, kind: rewards.kind, definition: rewards.definition } })
    .from(coupons)
    .innerJoin(rewards, eq(rewards.id, coupons.rewardId))
    .where(and(eq(coupons.programId, programId), eq(coupons.code, normalizeCouponCode(code))))
    .limit(1);
  if (!row) throw notFound("Coupon");
  return row;
}

/** Validate a code at checkout: one indexed read, nothing written. */
export async function validateCoupon({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; code: string; memberId?: string };
}) {
  const { coupon, reward } = await findCoupon(ctx, input.programId, input.code);
  return toCouponView(coupon, reward, nowIso(), input.memberId);
}

/**
 * Use a coupon once. The UPDATE is guarded on status = 'issued' (and not expired), so of two
 * concurrent consumes exactly one changes the row; its `coupon.consumed` event is inserted
 * under the same guard in the same batch (evaluated before the UPDATE changes the state).
 */
export async function consumeCoupon({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; code: string; orderId?: string; memberId?: string };
}) {
  const code = normalizeCouponCode(input.code);
  const now = nowIso();
  const orderId = input.orderId ?? null;
  const usable = sql`program_id = ${input.programId} AND code = ${code} AND status = 'issued' AND (expires_at IS NULL OR expires_at > ${now})${input.memberId ? sql` AND member_id = ${input.memberId}` : sql``}`;
  const [, updated] = await ctx.db.batch([
    ctx.db.run(sql`
      INSERT INTO outbox_events (id, program_id, member_id, type, payload, created_at)
      SELECT ${newId("evt")}, program_id, member_id, 'coupon.consumed',
             json_object('memberId', member_id, 'couponId', id, 'code', code, 'rewardId', reward_id, 'orderId', ${orderId}, 'pointsCost', points_cost), ${now}
      FROM coupons WHERE ${usable}`),
    ctx.db.update(coupons).set({ status: "consumed", consumedAt: now, orderId }).where(sql`${usable}`).returning({ id: coupons.id }),
  ]);
  const { coupon, reward } = await findCoupon(ctx, input.programId, code);
  if (updated.length === 0) {
    const problem =
      couponProblem(coupon, now) ??
      (input.memberId && input.memberId !== coupon.memberId
        ? { code: "other_member", message: "Coupon belongs to another member" }
        : { code: "unknown", message: "Coupon cannot be used" });
    throw new AppError("coupon_not_valid", problem.message, { reason: problem.code });
  }
  return toCouponView(coupon, reward, now);
}

/** Nightly: mark unused coupons past their expiry (breakage), in bounded batches. */
export async function expireCoupons(ctx: Pick<ServiceContext, "db">, now: Date, batchSize: number) {
  const at = now.toISOString();
  const res = await ctx.db.run(sql`
    UPDATE coupons SET status = 'expired'
    WHERE id IN (SELECT id FROM coupons WHERE status = 'issued' AND expires_at IS NOT NULL AND expires_at <= ${at} LIMIT ${batchSize})`);
  return { expired: res.rowsAffected };
}
