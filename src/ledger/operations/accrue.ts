import { and, eq } from "drizzle-orm";
import { orders } from "../../../schema";
import { batchRead, fetchTogether } from "../../db/batch-read";
import { localDate } from "../../domain/local-time";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { earnByRules, earningAndTierRead, type PurchaseInput } from "../earning";
import { allowedOccurredAt } from "../occurred-at";
import { pendingReferralRead, qualifyReferral } from "../referrals";
import {
  addDeltas,
  balanceAfter,
  type EntryView,
  entry,
  type MemberDelta,
  memberDelta,
  newLot,
  outbox,
  owedBy,
  programAndMemberRead,
  purchaseInactivityStatements,
  requireActive,
  type Statement,
  type WriteScope,
} from "../state";
import { tierUpgrade } from "../tier-upgrade";

/**
 * A purchase: record the order, earn points as a (possibly pending) lot, update the member's
 * balance and purchase figures, and emit `points.earned` — then, in this order and in the same
 * batch, what the purchase sets off: rule usage, a tier upgrade, the referral it qualifies.
 */
export async function planAccrual(scope: WriteScope, input: PurchaseInput) {
  // ONE round trip reads everything: program, member, the duplicate-order check, what earning
  // and tier qualification need (rules, ladder, usage, segments, tier figures) and a pending
  // referral; then one write batch.
  const programAndMember = programAndMemberRead(scope);
  const duplicateOrder = batchRead(
    [
      scope.db
        .select({ id: orders.id })
        .from(orders)
        .where(and(eq(orders.programId, scope.programId), eq(orders.orderId, input.orderId)))
        .limit(1),
    ],
    ([rows]) => rows[0],
  );
  const earning = earningAndTierRead(scope);
  const pendingReferral = pendingReferralRead(scope);
  const [own, duplicate, earningRows, referralRows] = await fetchTogether(scope.db, [
    programAndMember,
    duplicateOrder,
    earning,
    pendingReferral,
  ]);
  const { program, member } = programAndMember.parse(own);
  const existing = duplicateOrder.parse(duplicate);
  requireActive(member);
  if (input.currency.toUpperCase() !== program.currency) {
    throw new AppError("invalid_request", `Currency ${input.currency} does not match the program currency ${program.currency}`);
  }
  if (existing)
    throw new AppError(
      "duplicate_order",
      `Order ${input.orderId} has already been accrued (use the original Idempotency-Key to replay it)`,
    );
  // Parsed only once the checks passed, so their errors come first.
  const loaded = earning.parse(earningRows);
  const occurredAt = allowedOccurredAt(scope, program, input.occurredAt);

  // 1. The earning rules price the purchase (and record their usage).
  const rules = earnByRules(
    scope,
    { program, member },
    {
      trigger: { type: "purchase" },
      occurredAt,
      order: { amount: input.amount, items: input.items, channel: input.channel, storeId: input.storeId },
    },
    loaded,
  );
  const earn = {
    points: rules.result.points,
    lines: rules.result.lines.map((l) => ({ ruleId: l.ruleId, name: l.name, points: l.points })),
    tierMultiplier: rules.result.tierMultiplier,
  };

  // 2. The purchase itself: the order (with the tier version its benefits came from), its earn
  // entry and lot, the member's figures, the events.
  const placedUnder = loaded.ladder.find((t) => t.id === member.tierId) ?? loaded.ladder[0];
  const statements: Statement[] = [
    scope.db.insert(orders).values({
      id: newId("ord"),
      programId: scope.programId,
      memberId: scope.memberId,
      orderId: input.orderId,
      amount: input.amount,
      currency: program.currency,
      pointsEarned: earn.points,
      channel: input.channel ?? null,
      storeId: input.storeId ?? null,
      items: input.items ?? null,
      occurredAt,
      sourceScope: scope.actor,
      sourceKeyId: scope.source?.keyId ?? null,
      sourcePartner: scope.source?.partner ?? null,
      tierId: placedUnder?.id ?? null,
      tierVersion: placedUnder?.version ?? null,
      createdAt: scope.now,
    }) as Statement,
  ];
  const entries: EntryView[] = [];
  let credit: MemberDelta = {};
  let owed = owedBy(member);
  if (earn.points > 0) {
    const e = entry(scope, {
      type: "earn",
      points: earn.points,
      reason: `Purchase ${input.orderId}`,
      sourceType: "order",
      sourceId: input.orderId,
      metadata: { lines: earn.lines, tierMultiplier: earn.tierMultiplier },
    });
    const lot = newLot(scope, program, member, {
      entryId: e.row.id,
      points: earn.points,
      orderId: input.orderId,
      hold: true,
      owed,
      purchase: true,
    });
    credit = lot.delta;
    owed = lot.owedLeft;
    entries.push(e.view, ...(lot.repayment ? [lot.repayment] : []));
    statements.push(
      e.statement,
      ...lot.statements,
      outbox(scope, "points.earned", {
        points: earn.points,
        orderId: input.orderId,
        entryId: e.row.id,
        availableAt: lot.availableAt,
        expiresAt: lot.expiresAt,
      }),
    );
  }
  const delta = { ...credit, earned: earn.points, spend: input.amount, orders: 1 };
  const lastPurchaseAt = !member.lastPurchaseAt || member.lastPurchaseAt < occurredAt ? occurredAt : member.lastPurchaseAt;
  statements.push(
    memberDelta(scope, delta, {
      firstPurchaseAt: member.firstPurchaseAt && member.firstPurchaseAt < occurredAt ? member.firstPurchaseAt : occurredAt,
      lastPurchaseAt,
      lastActivityAt: lastPurchaseAt,
    }),
    outbox(scope, "order.accrued", {
      orderId: input.orderId,
      amount: input.amount,
      occurredAt,
      points: earn.points,
      firstOrder: member.ordersCount === 0,
    }),
    ...rules.statements,
    // Under the inactivity policy every purchase moves the member's one expiry date (with its lot when it earned one).
    ...(earn.points > 0 ? [] : purchaseInactivityStatements(scope, program, member)),
  );

  // 3. A tier upgrade, when the purchase qualifies the member for a higher tier.
  // Active days are the program's local days.
  const sameDay = !!member.lastPurchaseAt && localDate(member.lastPurchaseAt, program.timeZone) === localDate(occurredAt, program.timeZone);
  const tier = await tierUpgrade(
    scope,
    member,
    loaded,
    { spend: input.amount, orders: 1, pointsEarned: earn.points, activeDays: sameDay ? 0 : 1 },
    occurredAt,
  );
  statements.push(...tier.statements);

  // 4. The referral this purchase qualifies: the referee's welcome points, paid after the purchase's lot.
  const referral = qualifyReferral({ scope, program, member, input, referral: pendingReferral.parse(referralRows), owed });
  if (referral) {
    statements.push(...referral.statements);
    entries.push(...referral.repayments);
  }
  const credited = addDeltas(delta, referral?.delta ?? {});
  return {
    status: 201 as const,
    body: {
      orderId: input.orderId,
      pointsEarned: earn.points,
      lines: earn.lines,
      tierMultiplier: earn.tierMultiplier,
      entries,
      // The member's balance after this batch, the referral's welcome points included.
      balance: balanceAfter(member, credited),
      basePoints: rules.result.basePoints,
      skippedRules: rules.result.skipped.filter((s) => s.reason !== "trigger_mismatch"),
      ...(tier.change ? { tierChange: tier.change } : {}),
      ...(referral ? { referral: referral.referral } : {}),
    },
    statements,
  };
}
