import { and, eq, isNotNull, sql } from "drizzle-orm";
import { z } from "zod";
import { coupons, ledgerEntries, rewards } from "../../../schema";
import { AppError, notFound } from "../../lib/errors";
import { couponProblem, toCouponView } from "../../services/rewards/coupons";
import { outstandingLots, returnToLots } from "../returns";
import {
  balanceAfter,
  type EntryView,
  entry,
  loadProgramAndMember,
  type MemberDelta,
  memberDelta,
  newLot,
  outbox,
  owedBy,
  requireActive,
  type Statement,
  type WriteScope,
} from "../state";

export const CancelCouponInput = z.object({ couponId: z.string().min(1) });
export type CancelCouponInput = z.input<typeof CancelCouponInput>;

/**
 * Cancel an unused coupon: its points go back to the lots they came from, with their original
 * expiry (a `return` entry sourced from the coupon, from the redemption's lot_allocations; a
 * coupon redeemed before those were recorded gets a new, immediately available lot instead, an
 * `adjust` entry), the redemption no longer counts in lifetime redeemed, and the unit goes back
 * into stock — one batch. The coupon UPDATE is not guarded
 * on status on purpose: the `coupons_status_guard` trigger aborts the whole batch (refund
 * included) if a concurrent consume got there first.
 */
export async function planCouponCancellation(scope: WriteScope, raw: CancelCouponInput) {
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
  const reason = `Coupon ${row.coupon.code} cancelled: points returned`;
  const lots = await outstandingLots(
    scope,
    and(eq(ledgerEntries.requestKey, row.coupon.requestKey), eq(ledgerEntries.type, "redeem"), eq(ledgerEntries.sourceType, "reward")),
  );
  const traced = lots.reduce((s, l) => s + l.out, 0) >= points;
  let credit: { entries: EntryView[]; statements: Statement[]; delta: MemberDelta; lapsed: number };
  if (traced) {
    const back = returnToLots(scope, lots, points, { reason, sourceType: "coupon", sourceId: row.coupon.id });
    credit = {
      entries: back.entry ? [back.entry] : [],
      statements: back.statements,
      delta: { balance: back.returned },
      lapsed: back.lapsed,
    };
  } else {
    const e = entry(scope, {
      type: "adjust",
      points,
      reason,
      sourceType: "coupon",
      sourceId: row.coupon.id,
      metadata: { rewardId: row.reward.id },
    });
    const lot = newLot(scope, program, member, { entryId: e.row.id, points, hold: false, owed: owedBy(member) });
    credit = {
      entries: [e.view, ...(lot.repayment ? [lot.repayment] : [])],
      statements: [e.statement, ...lot.statements],
      delta: lot.delta,
      lapsed: 0,
    };
  }
  const delta = { ...credit.delta, redeemed: -points };
  const cancelled = { ...row.coupon, status: "cancelled" as const, cancelledAt: scope.now };
  return {
    status: 200 as const,
    body: {
      coupon: toCouponView(cancelled, row.reward, scope.now),
      pointsReturned: points - credit.lapsed,
      ...(credit.lapsed > 0 ? { pointsLapsed: credit.lapsed } : {}),
      entries: credit.entries,
      balance: balanceAfter(member, delta),
    },
    statements: [
      db.update(coupons).set({ status: "cancelled", cancelledAt: scope.now }).where(eq(coupons.id, row.coupon.id)) as Statement,
      ...credit.statements,
      memberDelta(scope, delta),
      db
        .update(rewards)
        .set({ inventoryRemaining: sql`${rewards.inventoryRemaining} + 1` })
        .where(and(eq(rewards.id, row.reward.id), isNotNull(rewards.inventoryRemaining))) as Statement,
      outbox(scope, "coupon.cancelled", {
        couponId: row.coupon.id,
        code: row.coupon.code,
        rewardId: row.reward.id,
        pointsReturned: points - credit.lapsed,
        entryId: credit.entries[0]?.id ?? null,
      }),
    ],
  };
}
