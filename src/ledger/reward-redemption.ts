import { and, count, eq, isNotNull, ne, sql } from "drizzle-orm";
import { z } from "zod";
import { coupons, members, rewards } from "../../schema";
import { AppError, notFound } from "../lib/errors";
import { newId } from "../lib/ids";
import { addDays } from "../lib/time";
import { couponProblem, newCouponCode, toCouponView } from "../services/coupons";
import { definitionOf, type Ineligibility, ineligibility } from "../services/rewards";
import { ledgerHooks } from "./hooks";
import { planRedemption } from "./redeem";
import {
  balanceAfter,
  deficitOf,
  entry,
  loadProgramAndMember,
  memberDelta,
  newLot,
  outbox,
  requireActive,
  type Statement,
  type WriteScope,
} from "./state";

const errorFor: Record<Ineligibility["code"], "coupon_not_valid" | "forbidden" | "limit_reached" | "out_of_stock" | "conflict"> = {
  not_available: "coupon_not_valid",
  tier_restricted: "forbidden",
  limit_reached: "limit_reached",
  out_of_stock: "out_of_stock",
  member_inactive: "conflict",
};

export const RedeemRewardInput = z.object({ rewardId: z.string().min(1) });

/**
 * Redeem a reward for points, inside the member's Durable Object: the debit (lots first to
 * expire first), the stock decrement, the coupon and `reward.issued` commit in one batch.
 * Members are serialised by their own object, so tier, per-member limit and points are
 * checked here; stock is shared between members, so it is checked here for a clear 409 and
 * enforced by the CHECK (inventory_remaining >= 0): a batch that would oversell fails, the
 * object re-plans, and the re-plan sees the stock gone.
 */
ledgerHooks.custom["reward.redeem"] = async (scope: WriteScope, raw: unknown) => {
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
};

export const CancelCouponInput = z.object({ couponId: z.string().min(1) });

/**
 * Cancel an unused coupon: its points come back as a new, immediately available lot (an
 * `adjust` entry sourced from the coupon), the redemption no longer counts in lifetime
 * redeemed, and the unit goes back into stock — one batch. The coupon UPDATE is not guarded
 * on status on purpose: the `coupons_status_guard` trigger aborts the whole batch (refund
 * included) if a concurrent consume got there first.
 */
ledgerHooks.custom["coupon.cancel"] = async (scope: WriteScope, raw: unknown) => {
  const { couponId } = CancelCouponInput.parse(raw);
  const { db } = scope;
  const [row] = await db
    .select({ coupon: coupons, reward: { id: rewards.id, name: rewards.name, kind: rewards.kind, definition: rewards.definition } })
    .from(coupons)
    .innerJoin(rewards, eq(rewards.id, coupons.rewardId))
    .where(and(eq(coupons.programId, scope.programId), eq(coupons.id, couponId), eq(coupons.memberId, scope.memberId)))
    .limit(1);
  if (!row) throw notFound("Coupon");
  const problem = couponProblem(row.coupon, scope.now);
  if (problem) throw new AppError("coupon_not_valid", `${problem.message}; it cannot be cancelled`, { reason: problem.code });

  const { program, member } = await loadProgramAndMember(scope);
  requireActive(member);
  const points = row.coupon.pointsCost;
  const e = entry(scope, {
    type: "adjust",
    points,
    reason: `Coupon ${row.coupon.code} cancelled: points returned`,
    sourceType: "coupon",
    sourceId: row.coupon.id,
    metadata: { rewardId: row.reward.id },
  });
  const lot = newLot(scope, program, { entryId: e.row.id, points, hold: false, deficit: deficitOf(member) });
  const delta = { balance: points, redeemed: -points };
  const cancelled = { ...row.coupon, status: "cancelled" as const, cancelledAt: scope.now };
  return {
    status: 200 as const,
    body: {
      coupon: toCouponView(cancelled, row.reward, scope.now),
      pointsReturned: points,
      entries: [e.view],
      balance: balanceAfter(member, delta),
    },
    statements: [
      db.update(coupons).set({ status: "cancelled", cancelledAt: scope.now }).where(eq(coupons.id, row.coupon.id)) as Statement,
      e.statement,
      lot.statement,
      memberDelta(scope, delta),
      db
        .update(rewards)
        .set({ inventoryRemaining: sql`${rewards.inventoryRemaining} + 1` })
        .where(and(eq(rewards.id, row.reward.id), isNotNull(rewards.inventoryRemaining))) as Statement,
      outbox(scope, "coupon.cancelled", {
        couponId: row.coupon.id,
        code: row.coupon.code,
        rewardId: row.reward.id,
        pointsReturned: points,
        entryId: e.row.id,
      }),
    ],
  };
};
