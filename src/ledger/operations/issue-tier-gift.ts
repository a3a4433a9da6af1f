import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { rewards, tiers } from "../../../schema";
import { batchRead, fetchTogether } from "../../db/batch-read";
import { tierDefinitionSchema } from "../../domain/tiers/schema";
import { AppError, notFound } from "../../lib/errors";
import { programAndMemberRead, requireActive, type WriteScope } from "../state";
import { giftCoupon, requireGiftable } from "./gift-coupon";

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
  requireGiftable(reward, scope.now);
  const { coupon, statements } = giftCoupon(scope, reward, { tierId: tier.id, tierVersion: tier.version, occasion: input.occasion });
  return {
    status: 201 as const,
    body: { occasion: input.occasion, tierId: tier.id, tierVersion: tier.version, rewardId: reward.id, coupon },
    statements,
  };
}
