import { and, eq, sql } from "drizzle-orm";
import { orders } from "../../../schema";
import { AppError, notFound } from "../../lib/errors";
import { allocate, pendingTaken } from "../lots";
import { undoReferralOnRefund } from "../referrals";
import {
  balanceAfter,
  clawback,
  consumeLots,
  entry,
  loadOpenLots,
  loadProgramAndMember,
  memberDelta,
  outbox,
  reasonFor,
  type Statement,
  type WriteScope,
} from "../state";

export type RefundInput = { orderId: string; amount: number; reason?: string };

/**
 * Points to reverse for a refund, proportional to the money refunded. Computed from the
 * cumulative target so partial refunds never sum to more than earned and a full refund
 * reverses exactly what the order earned.
 */
function pointsToReverse(
  o: { amount: number; pointsEarned: number; refundedAmount: number; pointsReversed: number },
  refund: number,
): number {
  const refundedAfter = o.refundedAmount + refund;
  const target = refundedAfter >= o.amount ? o.pointsEarned : Math.floor((o.pointsEarned * refundedAfter) / o.amount);
  return Math.max(0, Math.min(o.pointsEarned, target) - o.pointsReversed);
}

/**
 * Reverse what a refunded order earned: from that order's own lots first (pending or not),
 * then other lots first-to-expire; past that (the points were spent) the balance goes negative
 * where the program allows it, otherwise the rest becomes a points debt on the reverse entry,
 * repaid first from the member's next points. Nothing is left unrecovered. In the same batch, a
 * referral the order qualified is undone when the refund takes it below the minimum.
 */
export async function planRefund(scope: WriteScope, input: RefundInput) {
  const { program, member } = await loadProgramAndMember(scope);
  const [order] = await scope.db
    .select()
    .from(orders)
    .where(and(eq(orders.programId, scope.programId), eq(orders.orderId, input.orderId)))
    .limit(1);
  if (!order || order.memberId !== scope.memberId) throw notFound("Order");
  const refundable = order.amount - order.refundedAmount;
  if (input.amount > refundable) {
    throw new AppError(
      "refund_exceeds_order",
      `Refund of ${input.amount} exceeds the ${refundable} still refundable on order ${input.orderId}`,
      { refundable },
    );
  }
  const target = pointsToReverse(order, input.amount);
  const lots = await loadOpenLots(scope);
  const own = lots.filter((l) => l.orderId === input.orderId);
  const others = lots.filter((l) => l.orderId !== input.orderId && l.released === 1);
  const { takes, shortfall } = allocate([...own, ...others], target);
  const { reversed, owed } = clawback(program, target, shortfall);
  const reason = reasonFor(member, input.reason, `Refund of order ${input.orderId}`);
  const statements: Statement[] = [
    scope.db
      .update(orders)
      // Points owed count as reversed: a later partial refund of the order never claims them again.
      .set({ refundedAmount: sql`${orders.refundedAmount} + ${input.amount}`, pointsReversed: sql`${orders.pointsReversed} + ${target}` })
      .where(eq(orders.id, order.id)) as Statement,
  ];
  const entries = [];
  if (target > 0) {
    const e = entry(scope, {
      type: "reverse",
      points: -reversed,
      debt: owed,
      reason,
      sourceType: "order",
      sourceId: input.orderId,
      metadata: { lots: takes, refundAmount: input.amount },
    });
    entries.push(e.view);
    statements.push(
      e.statement,
      ...consumeLots(scope, e.row.id, takes),
      outbox(scope, "points.reversed", {
        points: reversed,
        pointsOwed: owed,
        orderId: input.orderId,
        refundAmount: input.amount,
        entryId: e.row.id,
      }),
    );
  }
  const fullyRefunded = order.refundedAmount + input.amount >= order.amount;
  // A fully refunded order no longer counts as a purchase: the member's order count and last
  // purchase (what RFM, lifecycle and segments read) step back to the remaining orders.
  const delta = {
    balance: -reversed,
    pending: -pendingTaken(takes),
    debt: owed,
    spend: -input.amount,
    earned: 0,
    orders: fullyRefunded ? -1 : 0,
  };
  const lastPurchase = sql`(SELECT MAX(occurred_at) FROM orders WHERE member_id = ${scope.memberId} AND refunded_amount < amount AND id != ${order.id})`;
  statements.push(memberDelta(scope, delta, fullyRefunded ? { lastPurchaseAt: lastPurchase } : {}));
  statements.push(
    ...(await undoReferralOnRefund({ scope, program, order, refundAmount: input.amount, fullyRefunded, lots, refundTakes: takes })),
  );
  return {
    status: 201 as const,
    body: {
      orderId: input.orderId,
      refundAmount: input.amount,
      pointsReversed: reversed,
      pointsOwed: owed,
      entries,
      balance: balanceAfter(member, delta),
    },
    statements,
  };
}
