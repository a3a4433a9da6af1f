import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { ledgerEntries, type orders, pointLots, referrals } from "../../schema";
import { notFound } from "../lib/errors";
import { referralSettings } from "../services/referrals";
import { ledgerHooks } from "./hooks";
import { allocate, type LotForAllocation, pendingTaken } from "./lots";
import { pointsToReverse } from "./refund";
import {
  balanceAfter,
  consumeLots,
  deficitOf,
  entry,
  loadOpenLots,
  loadProgramAndMember,
  memberDelta,
  newLot,
  outbox,
  type ProgramRow,
  type Statement,
  type WriteScope,
} from "./state";

type OpenLot = LotForAllocation & { availableAt: string };

/**
 * Take back what a referral credited this member (the net of its `referral` entries): from
 * the bonus lot first (pending or not), then other available lots first to expire; past that
 * the balance goes negative only where the program allows it. `alreadyTaken` are lot takes
 * planned earlier in the same batch (a refund's), so both never claim the same points.
 */
async function planTakeBack(
  scope: WriteScope,
  program: ProgramRow,
  referralId: string,
  reason: string,
  lots: OpenLot[],
  alreadyTaken: Map<string, number>,
) {
  const [held, bonusLots] = await scope.db.batch([
    scope.db
      .select({ net: sql<number>`COALESCE(SUM(${ledgerEntries.points}), 0)` })
      .from(ledgerEntries)
      .where(
        and(eq(ledgerEntries.memberId, scope.memberId), eq(ledgerEntries.sourceType, "referral"), eq(ledgerEntries.sourceId, referralId)),
      ),
    scope.db
      .select({ id: pointLots.id })
      .from(pointLots)
      .innerJoin(ledgerEntries, eq(ledgerEntries.id, pointLots.entryId))
      .where(
        and(eq(ledgerEntries.memberId, scope.memberId), eq(ledgerEntries.sourceType, "referral"), eq(ledgerEntries.sourceId, referralId)),
      ),
  ]);
  const owed = Math.max(0, Number(held[0]?.net ?? 0));
  if (owed === 0) return { statements: [] as Statement[], delta: {}, reversed: 0, unrecovered: 0 };
  const bonusIds = new Set(bonusLots.map((l) => l.id));
  const left = lots.map((l) => ({ ...l, remaining: l.remaining - (alreadyTaken.get(l.id) ?? 0) }));
  const { takes, shortfall } = allocate(
    [...left.filter((l) => bonusIds.has(l.id)), ...left.filter((l) => !bonusIds.has(l.id) && l.released === 1)],
    owed,
  );
  const reversed = program.allowNegativeBalance ? owed : owed - shortfall;
  const unrecovered = owed - reversed;
  if (reversed === 0) return { statements: [] as Statement[], delta: {}, reversed, unrecovered };
  const e = entry(scope, {
    type: "reverse",
    points: -reversed,
    reason,
    sourceType: "referral",
    sourceId: referralId,
    metadata: { lots: takes, unrecovered },
  });
  const delta = { balance: -reversed, pending: -pendingTaken(takes) };
  return {
    statements: [
      e.statement,
      ...consumeLots(scope, takes),
      memberDelta(scope, delta),
      outbox(scope, "points.reversed", { points: reversed, referralId, reason, entryId: e.row.id, unrecovered }),
    ],
    delta,
    reversed,
    unrecovered,
    entry: e.view,
  };
}

/** The lots a refund of `refundAmount` takes, exactly as planRefund allocates them (own order's lots first). */
function refundTakes(order: typeof orders.$inferSelect, refundAmount: number, lots: OpenLot[]): Map<string, number> {
  const target = pointsToReverse(order, refundAmount);
  const own = lots.filter((l) => l.orderId === order.orderId);
  const others = lots.filter((l) => l.orderId !== order.orderId && l.released === 1);
  const taken = new Map<string, number>();
  for (const t of allocate([...own, ...others], target).takes) taken.set(t.lotId, t.points);
  return taken;
}

/**
 * The referee's first qualifying purchase (order amount ≥ minOrderAmount while the referral
 * is pending): their welcome points go into this very batch; the referrer's points belong
 * to another member's Durable Object, so the referral becomes `qualified` with a
 * `referral.qualified` event and the settle cron credits the referrer through its own object.
 */
ledgerHooks.afterAccrual.push(async ({ scope, program, member, input, earn }) => {
  if (!member.referredBy) return { statements: [] };
  const settings = referralSettings(program.settings);
  if (input.amount < settings.minOrderAmount) return { statements: [] };
  const [referral] = await scope.db
    .select()
    .from(referrals)
    .where(and(eq(referrals.programId, scope.programId), eq(referrals.refereeId, scope.memberId), eq(referrals.status, "pending")))
    .limit(1);
  if (!referral) return { statements: [] };

  const points = settings.refereePoints;
  const statements: Statement[] = [];
  // planAccrual's own lot for this purchase comes first in the batch; mirror what it takes.
  const earnPending = earn.points > 0 && program.holdDays > 0 ? earn.points : 0;
  const deficitLeft = Math.max(0, deficitOf(member) - (earnPending > 0 ? 0 : earn.points));
  let bonusPending = 0;
  let bonusEntry = null;
  if (points > 0) {
    const e = entry(scope, {
      type: "earn",
      points,
      reason: "Referral welcome bonus",
      sourceType: "referral",
      sourceId: referral.id,
      metadata: { referrerId: referral.referrerId, orderId: input.orderId },
    });
    // Held like the purchase itself, so a quick refund takes it back before it can be spent.
    const lot = newLot(scope, program, { entryId: e.row.id, points, hold: true, deficit: deficitLeft });
    bonusPending = lot.pending ? points : 0;
    bonusEntry = e.view;
    statements.push(
      e.statement,
      lot.statement,
      memberDelta(scope, { balance: points, pending: bonusPending, earned: points }),
      outbox(scope, "points.earned", { points, referralId: referral.id, entryId: e.row.id }),
    );
  }
  statements.push(
    scope.db
      .update(referrals)
      .set({ status: "qualified", orderId: input.orderId, refereePoints: points, referrerPoints: settings.referrerPoints })
      .where(and(eq(referrals.id, referral.id), eq(referrals.status, "pending"))) as Statement,
    outbox(scope, "referral.qualified", {
      referralId: referral.id,
      referrerId: referral.referrerId,
      refereeId: scope.memberId,
      orderId: input.orderId,
      refereePoints: points,
      referrerPoints: settings.referrerPoints,
    }),
  );
  return {
    statements,
    response: {
      referral: { id: referral.id, status: "qualified", refereePoints: points, entry: bonusEntry },
      // The accrual's balance, including the welcome points credited in the same batch.
      balance: balanceAfter(member, { balance: earn.points + points, pending: earnPending + bonusPending }),
    },
  };
});

/**
 * A refund that takes the qualifying order below the minimum (or refunds it fully) undoes the
 * referral: the referee's welcome points in this batch, the referrer's by the settle cron
 * through the referrer's object (status `reversing`).
 */
ledgerHooks.afterRefund.push(async ({ scope, order, refundAmount, fullyRefunded }) => {
  const [referral] = await scope.db
    .select()
    .from(referrals)
    .where(
      and(
        eq(referrals.programId, scope.programId),
        eq(referrals.refereeId, scope.memberId),
        eq(referrals.orderId, order.orderId),
        inArray(referrals.status, ["qualified", "rewarded"]),
      ),
    )
    .limit(1);
  if (!referral) return [];
  const { program } = await loadProgramAndMember(scope);
  const netAfter = order.amount - order.refundedAmount - refundAmount;
  if (!fullyRefunded && netAfter >= referralSettings(program.settings).minOrderAmount) return [];
  const lots = await loadOpenLots(scope);
  const back = await planTakeBack(
    scope,
    program,
    referral.id,
    `Referral reversed: order ${order.orderId} refunded`,
    lots,
    refundTakes(order, refundAmount, lots),
  );
  return [
    ...back.statements,
    scope.db
      .update(referrals)
      .set({ status: "reversing" })
      .where(and(eq(referrals.id, referral.id), inArray(referrals.status, ["qualified", "rewarded"]))) as Statement,
    outbox(scope, "referral.reversed", {
      referralId: referral.id,
      referrerId: referral.referrerId,
      refereeId: scope.memberId,
      orderId: order.orderId,
      refereePointsReversed: back.reversed,
      unrecovered: back.unrecovered,
    }),
  ];
});

const ReferralOpInput = z.object({ referralId: z.string().min(1) });

async function referralOfReferrer(scope: WriteScope, raw: unknown) {
  const { referralId } = ReferralOpInput.parse(raw);
  const [referral] = await scope.db
    .select()
    .from(referrals)
    .where(and(eq(referrals.programId, scope.programId), eq(referrals.id, referralId)))
    .limit(1);
  if (!referral || referral.referrerId !== scope.memberId) throw notFound("Referral");
  return referral;
}

/**
 * Credit the referrer (run in the referrer's object by the settle cron, key
 * `referral:<id>:referrer`). Only a still-`qualified` referral pays; if a refund moved it to
 * `reversing` meanwhile, the reverse step takes back whatever was credited.
 */
ledgerHooks.custom["referral.credit"] = async (scope, raw) => {
  const referral = await referralOfReferrer(scope, raw);
  if (referral.status !== "qualified")
    return { status: 200, body: { referralId: referral.id, status: referral.status, pointsCredited: 0 }, statements: [] };
  const { program, member } = await loadProgramAndMember(scope);
  // A blocked or erased referrer earns nothing; the referral is settled all the same.
  const points = member.status === "active" ? referral.referrerPoints : 0;
  const statements: Statement[] = [];
  const entries = [];
  let delta = {};
  if (points > 0) {
    const e = entry(scope, {
      type: "earn",
      points,
      reason: "Referral reward",
      sourceType: "referral",
      sourceId: referral.id,
      metadata: { refereeId: referral.refereeId, orderId: referral.orderId },
    });
    const lot = newLot(scope, program, { entryId: e.row.id, points, hold: true, deficit: deficitOf(member) });
    delta = { balance: points, pending: lot.pending ? points : 0, earned: points };
    entries.push(e.view);
    statements.push(
      e.statement,
      lot.statement,
      memberDelta(scope, delta),
      outbox(scope, "points.earned", { points, referralId: referral.id, entryId: e.row.id }),
    );
  }
  statements.push(
    scope.db
      .update(referrals)
      .set({ status: "rewarded", rewardedAt: scope.now, referrerPoints: points })
      .where(and(eq(referrals.id, referral.id), eq(referrals.status, "qualified"))) as Statement,
    outbox(scope, "referral.rewarded", { referralId: referral.id, refereeId: referral.refereeId, referrerPoints: points }),
  );
  return {
    status: 201,
    body: { referralId: referral.id, status: "rewarded", pointsCredited: points, entries, balance: balanceAfter(member, delta) },
    statements,
  };
};

/** Take back the referrer's reward after the qualifying order was refunded (key `referral:<id>:reverse`). */
ledgerHooks.custom["referral.reverse"] = async (scope, raw) => {
  const referral = await referralOfReferrer(scope, raw);
  if (referral.status !== "reversing")
    return { status: 200, body: { referralId: referral.id, status: referral.status, pointsReversed: 0 }, statements: [] };
  const { program, member } = await loadProgramAndMember(scope);
  const back = await planTakeBack(
    scope,
    program,
    referral.id,
    `Referral reversed: the referee's order ${referral.orderId} was refunded`,
    await loadOpenLots(scope),
    new Map(),
  );
  return {
    status: 201,
    body: {
      referralId: referral.id,
      status: "reversed",
      pointsReversed: back.reversed,
      unrecovered: back.unrecovered,
      balance: balanceAfter(member, back.delta),
    },
    statements: [
      ...back.statements,
      scope.db
        .update(referrals)
        .set({ status: "reversed" })
        .where(and(eq(referrals.id, referral.id), eq(referrals.status, "reversing"))) as Statement,
    ],
  };
};
