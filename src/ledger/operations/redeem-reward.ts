import { and, count, eq, isNotNull, ne, sql } from "drizzle-orm";
import { z } from "zod";
import { coupons, members, rewards } from "../../../schema";
import { AppError, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { addDays } from "../../lib/time";
import { newCouponCode, toCouponView } from "../../services/rewards/coupons";
import { definitionOf, type Ineligibility, ineligibility } from "../../services/rewards/rewards";
import { outbox, type Statement, type WriteScope } from "../state";
import { planRedemption } from "./redeem";

const errorFor: Record<Ineligibility["code"], "coupon_not_valid" | "forbidden" | "limit_reached" | "out_of_stock" | "conflict"> = {
  not_available: "coupon_not_valid",
  tier_restricted: "forbidden",
  limit_reached: "limit_reached",
  out_of_stock: "out_of_stock",
  member_inactive: "conflict",
};

export const RedeemRewardInput = z.object({ rewardId: z.string().min(1) });
export type RedeemRewardInput = z.input<typeof RedeemRewardInput>;

/**
 * Redeem a reward for points, inside the member's Durable Object: the debit (lots first to
 * expire first), the stock decrement, the coupon and `reward.issued` commit in one batch.
 * Members are serialised by their own object, so tier, per-member limit and points are
 * checked here; stock is shared between members, so it is checked here for a clear 409 and
 * enforced by the CHECK (inventory_remaining >= 0): a batch that would oversell fails, the
 * object re-plans, and the re-plan sees the stock gone.
 */
export async function planRewardRedemption(scope: WriteScope, raw: RedeemRewardInput) {
  const { rewardId } = RedeemRewardInput.parse(raw);
  const { db } = scope;
  const [rewardRows, memberRows, usedRows] = await db.batch([
    db
      .select()
      .from(rewards)
      .where(and(eq(rewards.programId, scope.programId), eq(rewards.id, rewardId)))
      .limit(1),
    db
      .select({ status: members.status, tierId: members.tierId })
      .from(members)
      .where(and(eq(members.programId, scope.programId), eq(members.id, scope.memberId)))
      .limit(1),
    db
      .select({ n: count() })
      .from(coupons)
      .where(and(eq(coupons.memberId, scope.memberId), eq(coupons.rewardId, rewardId), ne(coupons.status, "cancelled"))),
  ]);
  const reward = rewardRows[0];
  if (!reward) throw notFound("Reward");
  if (!memberRows[0]) throw notFound("Member");
  const problem = ineligibility(reward, memberRows[0], Number(usedRows[0]?.n ?? 0), scope.now);
  if (problem) throw new AppError(errorFor[problem.code], problem.message, { reason: problem.code });

  const d = definitionOf(reward);
  const coupon = {
    id: newId("cpn"),
    programId: scope.programId,
    code: newCouponCode(),
    rewardId: reward.id,
    memberId: scope.memberId,
    status: "issued" as const,
    pointsCost: reward.pointsCost,
    requestKey: scope.requestKey,
    issuedAt: scope.now,
    expiresAt: d.couponValidDays ? addDays(scope.now, d.couponValidDays) : null,
    consumedAt: null,
    orderId: null,
    cancelledAt: null,
  };
  const extra: Statement[] = [
    db.insert(coupons).values(coupon) as Statement,
    outbox(scope, "reward.issued", {
      rewardId: reward.id,
      rewardName: reward.name,
      kind: reward.kind,
      couponId: coupon.id,
      code: coupon.code,
      pointsCost: reward.pointsCost,
      costMinor: reward.costMinor,
      expiresAt: coupon.expiresAt,
    }),
  ];
  // Unlimited rewards (null) are left alone; limited ones are decremented unconditionally so the CHECK can refuse an oversell.
  if (reward.inventoryRemaining !== null) {
    extra.unshift(
      db
        .update(rewards)
        .set({ inventoryRemaining: sql`${rewards.inventoryRemaining} - 1` })
        .where(and(eq(rewards.id, reward.id), isNotNull(rewards.inventoryRemaining))) as Statement,
    );
  }
  const planned = await planRedemption(
    scope,
    { points: reward.pointsCost, reason: `Reward: ${reward.name}`, sourceType: "reward", sourceId: reward.id },
    extra,
  );
  return {
    status: 201 as const,
    body: { ...planned.body, coupon: toCouponView(coupon, reward, scope.now) },
    statements: planned.statements,
  };
}
