import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { ledgerEntries, type orders, pointLots, referrals } from "../../schema";
import { batchRead } from "../db/batch-read";
import { notFound } from "../lib/errors";
import { referralSettings } from "../services/referrals/referrals";
import type { PurchaseInput } from "./earning";
import { allocate, type LotForAllocation, type LotTake, pendingTaken } from "./lots";
import {
  clawback,
  consumeLots,
  type EntryView,
  entry,
  type MemberDelta,
  type MemberRow,
  memberDelta,
  newLot,
  type Owed,
  outbox,
  type ProgramRow,
  type Statement,
  type WriteScope,
} from "./state";

type Referral = typeof referrals.$inferSelect;
type OpenLot = LotForAllocation & { availableAt: string };

/** The member's referral still waiting for a qualifying purchase, as a read for the accrual's one read batch. */
export const pendingReferralRead = (scope: WriteScope) =>
  batchRead(
    [
      scope.db
        .select()
        .from(referrals)
        .where(and(eq(referrals.programId, scope.programId), eq(referrals.refereeId, scope.memberId), eq(referrals.status, "pending")))
        .limit(1),
    ],
    ([rows]): Referral | undefined => rows[0],
  );

/**
 * The referee's first qualifying purchase (order amount ≥ minOrderAmount while the referral
 * is pending): their welcome points go into the purchase's batch; the referrer's points belong
 * to another member's Durable Object, so the referral becomes `qualified` with a
 * `referral.qualified` event and the settle cron credits the referrer through its own object.
 * Returns its statements and what it adds to the member's figures; null when nothing qualifies.
 * `owed` is what the member still owes after the purchase's own lot.
 */
export function qualifyReferral(args: {
  scope: WriteScope;
  program: ProgramRow;
  member: MemberRow;
  input: PurchaseInput;
  referral: Referral | undefined;
  owed: Owed;
}): { statements: Statement[]; delta: MemberDelta; repayments: EntryView[]; referral: QualifiedReferral } | null {
  const { scope, program, member, input, referral } = args;
  if (!member.referredBy || !referral) return null;
  const settings = referralSettings(program.settings);
  if (input.amount < settings.minOrderAmount) return null;

  const points = settings.refereePoints;
  const statements: Statement[] = [];
  let delta: MemberDelta = {};
  let bonusEntry: EntryView | null = null;
  const repayments: EntryView[] = [];
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
    const lot = newLot(scope, program, member, { entryId: e.row.id, points, hold: true, owed: args.owed });
    delta = { ...lot.delta, earned: points };
    bonusEntry = e.view;
    if (lot.repayment) repayments.push(lot.repayment);
    statements.push(
      e.statement,
      ...lot.statements,
      memberDelta(scope, delta),
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
  return { statements, delta, repayments, referral: { id: referral.id, status: "qualified", refereePoints: points, entry: bonusEntry } };
}
export type QualifiedReferral = { id: string; status: "qualified"; refereePoints: number; entry: EntryView | null };

/**
 * A refund that takes the qualifying order below the minimum (or refunds it fully) undoes the
 * referral: the referee's welcome points in the refund's batch, the referrer's by the settle
 * cron through the referrer's object (status `reversing`). `refundTakes` are the refund's own
 * lot takes, so both never claim the same points.
 */
export async function undoReferralOnRefund(args: {
  scope: WriteScope;
  program: ProgramRow;
  order: typeof orders.$inferSelect;
  refundAmount: number;
  fullyRefunded: boolean;
  lots: OpenLot[];
  refundTakes: LotTake[];
}): Promise<Statement[]> {
  const { scope, program, order } = args;
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
  const netAfter = order.amount - order.refundedAmount - args.refundAmount;
  if (!args.fullyRefunded && netAfter >= referralSettings(program.settings).minOrderAmount) return [];
  const back = await takeBackReferralPoints(
    scope,
    program,
    referral.id,
    `Referral reversed: order ${order.orderId} refunded`,
    args.lots,
    new Map(args.refundTakes.map((t) => [t.lotId, t.points])),
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
      refereePointsOwed: back.owed,
    }),
  ];
}

/**
 * Take back what a referral credited this member (the net of its `referral` entries): from
 * the bonus lot first (pending or not), then other available lots first to expire; past that
 * the balance goes negative where the program allows it, otherwise the rest becomes a points
 * debt. `alreadyTaken` are lot takes planned earlier in the same batch (a refund's), so both
 * never claim the same points.
 */
export async function takeBackReferralPoints(
  scope: WriteScope,
  program: ProgramRow,
  referralId: string,
  reason: string,
  lots: OpenLot[],
  alreadyTaken: Map<string, number>,
): Promise<{ statements: Statement[]; delta: MemberDelta; reversed: number; owed: number }> {
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
  const credited = Math.max(0, Number(held[0]?.net ?? 0));
  if (credited === 0) return { statements: [], delta: {}, reversed: 0, owed: 0 };
  const bonusIds = new Set(bonusLots.map((l) => l.id));
  const left = lots.map((l) => ({ ...l, remaining: l.remaining - (alreadyTaken.get(l.id) ?? 0) }));
  const { takes, shortfall } = allocate(
    [...left.filter((l) => bonusIds.has(l.id)), ...left.filter((l) => !bonusIds.has(l.id) && l.released === 1)],
    credited,
  );
  const { reversed, owed } = clawback(program, credited, shortfall);
  const e = entry(scope, {
    type: "reverse",
    points: -reversed,
    debt: owed,
    reason,
    sourceType: "referral",
    sourceId: referralId,
    metadata: { lots: takes },
  });
  const delta = { balance: -reversed, pending: -pendingTaken(takes), debt: owed };
  return {
    statements: [
      e.statement,
      ...consumeLots(scope, e.row.id, takes),
      memberDelta(scope, delta),
      outbox(scope, "points.reversed", { points: reversed, pointsOwed: owed, referralId, reason, entryId: e.row.id }),
    ],
    delta,
    reversed,
    owed,
  };
}

/** Which referral a referrer-side operation (credit, reverse) settles. */
export const ReferralInput = z.object({ referralId: z.string().min(1) });
export type ReferralInput = z.input<typeof ReferralInput>;

/** A referral this member referred (the referrer's side runs in the referrer's object); 404 otherwise. */
export async function referralOfReferrer(scope: WriteScope, referralId: string): Promise<Referral> {
  const [referral] = await scope.db
    .select()
    .from(referrals)
    .where(and(eq(referrals.programId, scope.programId), eq(referrals.id, referralId)))
    .limit(1);
  if (!referral || referral.referrerId !== scope.memberId) throw notFound("Referral");
  return referral;
}
