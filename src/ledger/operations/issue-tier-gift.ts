import { and, eq, isNotNull, sql } from "drizzle-orm";
import { z } from "zod";
import { coupons, rewards, tiers } from "../../../schema";
import { batchRead, fetchTogether } from "../../db/batch-read";
import { tierDefinitionSchema } from "../../domain/tiers/schema";
import { AppError, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { addDays } from "../../lib/time";
import { newCouponCode } from "../../services/rewards/coupons";
import { availabilityProblem, definitionOf } from "../../services/rewards/rewards";
import { outbox, programAndMemberRead, requireActive, type Statement, type WriteScope } from "../state";

export const TierGiftInput = z.object({
  /** The occasion, for the coupon's event and the answer (`birthday:2027`). */
  occasion: z.string().min(1).max(64),
});
export type TierGiftInput = z.input<typeof TierGiftInput>;

/**
 * A tier benefit's gift: the catalog reward the member's tier names as `benefits.birthdayGift`
 * issued as a coupon (no points charged), with its stock taken and a `reward.issued` event, in one
 * batch. Decided inside the member's object from the tier they hold now, so a tier change that
 * commits first decides which gift (or none: 409) they get.
 */
export async function planTierGift(scope: WriteScope, raw: TierGiftInput) {
  const input = TierGiftInput.parse(raw);
  const { db } = scope;
  const own = programAndMemberRead(scope);
  const ladder = batchRead([db.select().from(tiers).where(eq(tiers.programId, scope.programId))], ([rows]) => rows);
  const [ownRows, ladderRows] = await fetchTogether(db, [own, ladder]);
  const { member } = own.parse(ownRows);
  requireActive(member);
  const tier = ladder.parse(ladderRows).find((t) => t.id === member.tierId);
  const gift = tier ? tierDefinitionSchema.parse(tier.definition).benefits.birthdayGift : undefined;
  if (!tier || !gift || typeof gift === "string") throw new AppError("conflict", "The member's tier grants no catalog birthday gift");
  const [reward] = await db
    .select()
    .from(rewards)
    .where(and(eq(rewards.programId, scope.programId), eq(rewards.id, gift.rewardId)))
    .limit(1);
  if (!reward) throw notFound("Reward");
  const problem = availabilityProblem(reward, scope.now);
  if (problem) throw new AppError("coupon_not_valid", problem, { reason: "not_available" });
  if (reward.inventoryRemaining !== null && reward.inventoryRemaining <= 0)
    throw new AppError("out_of_stock", `Reward ${reward.name} is out of stock`);
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
      tierId: tier.id,
      tierVersion: tier.version,
      occasion: input.occasion,
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
  return {
    status: 201 as const,
    body: { occasion: input.occasion, tierId: tier.id, tierVersion: tier.version, rewardId: reward.id, coupon },
    statements,
  };
}
