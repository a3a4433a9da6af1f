import { and, eq, isNotNull, sql } from "drizzle-orm";
import { coupons, rewards } from "../../../schema";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { addDays } from "../../lib/time";
import { newCouponCode } from "../../services/rewards/coupons";
import { availabilityProblem, definitionOf } from "../../services/rewards/rewards";
import { outbox, type Statement, type WriteScope } from "../state";

type RewardRow = typeof rewards.$inferSelect;

/** Refuses a reward that cannot be given now: outside its availability or out of stock. */
export function requireGiftable(reward: RewardRow, now: string) {
  const problem = availabilityProblem(reward, now);
  if (problem) throw new AppError("coupon_not_valid", problem, { reason: "not_available" });
  if (reward.inventoryRemaining !== null && reward.inventoryRemaining <= 0)
    throw new AppError("out_of_stock", `Reward ${reward.name} is out of stock`);
}

/**
 * A reward given as a coupon with no points charged (campaign awards, tier gifts): the coupon,
 * its `reward.issued` event (with `context` saying why) and the stock taken, for the caller's batch.
 */
export function giftCoupon(scope: WriteScope, reward: RewardRow, context: Record<string, unknown>) {
  const { db } = scope;
  const validDays = definitionOf(reward).couponValidDays;
  const coupon = { id: newId("cpn"), code: newCouponCode(), expiresAt: validDays ? addDays(scope.now, validDays) : null };
  const statements: Statement[] = [
    db.insert(coupons).values({
      id: coupon.id,
      programId: scope.programId,
      code: coupon.code,
      rewardId: reward.id,
      memberId: scope.memberId,
      status: "issued",
      pointsCost: 0,
      requestKey: scope.requestKey,
      issuedAt: scope.now,
      expiresAt: coupon.expiresAt,
    }) as Statement,
    outbox(scope, "reward.issued", {
      rewardId: reward.id,
      rewardName: reward.name,
      kind: reward.kind,
      couponId: coupon.id,
      code: coupon.code,
      pointsCost: 0,
      costMinor: reward.costMinor,
      expiresAt: coupon.expiresAt,
      ...context,
    }),
  ];
  // The CHECK on inventory_remaining refuses an oversell; unlimited (null) stock is left alone.
  if (reward.inventoryRemaining !== null)
    statements.push(
      db
        .update(rewards)
        .set({ inventoryRemaining: sql`${rewards.inventoryRemaining} - 1` })
        .where(and(eq(rewards.id, reward.id), isNotNull(rewards.inventoryRemaining))) as Statement,
    );
  return { coupon, statements };
}
