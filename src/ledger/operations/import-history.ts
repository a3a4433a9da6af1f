import { and, eq, inArray } from "drizzle-orm";
import { orders } from "../../../schema";
import { batchRead, fetchTogether } from "../../db/batch-read";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { addDays, toUtcIso } from "../../lib/time";
import { earnByRules, earningAndTierRead } from "../earning";
import {
  addDeltas,
  entry,
  type MemberDelta,
  memberDelta,
  newLot,
  owedBy,
  programAndMemberRead,
  requireActive,
  type Statement,
  type WriteScope,
} from "../state";

/**
 * How imported purchases earn: `rules` through the program's earning rules as a live purchase
 * (per-member caps and budgets count, order by order), `none` as history only (orders and
 * purchase figures, no points).
 */
export const importAwards = ["rules", "none"] as const;
type ImportAward = (typeof importAwards)[number];

type HistoryOrder = {
  orderId: string;
  amount: number;
  currency: string;
  occurredAt: string;
  channel?: string;
  storeId?: string;
};
export type HistoryInput = { award: ImportAward; orders: HistoryOrder[] };

/**
 * A member's past purchases in one batch: each order recorded as it happened; with `rules`, each
 * earns as a lot held and expiring from when it happened, the rules' usage counted order by order
 * (so a cap or budget reached by an earlier order holds for the later ones) and recorded in the
 * batch, where the budget CHECK fails it rather than let it overspend. Orders already recorded
 * are skipped, so a re-sent or re-batched import writes nothing new. No events and no tier
 * moves: history is not news (the nightly requalification counts it).
 */
export async function planHistoryImport(scope: WriteScope, input: HistoryInput) {
  const own = programAndMemberRead(scope);
  const known = batchRead(
    [
      scope.db
        .select({ orderId: orders.orderId })
        .from(orders)
        .where(
          and(
            eq(orders.programId, scope.programId),
            inArray(
              orders.orderId,
              input.orders.map((o) => o.orderId),
            ),
          ),
        ),
    ],
    ([rows]) => new Set(rows.map((r) => r.orderId)),
  );
  const earning = earningAndTierRead(scope);
  const [ownRows, knownRows, earningRows] = await fetchTogether(scope.db, [own, known, earning]);
  const { program, member } = own.parse(ownRows);
  requireActive(member);
  const wrongCurrency = input.orders.find((o) => o.currency.toUpperCase() !== program.currency);
  if (wrongCurrency) throw new AppError("invalid_request", `Order ${wrongCurrency.orderId}: currency must be ${program.currency}`);
  const existing = known.parse(knownRows);
  const fresh = input.orders.filter((o) => {
    if (existing.has(o.orderId)) return false;
    existing.add(o.orderId);
    return true;
  });
  const loaded = earning.parse(earningRows);
  // Counted as the orders earn: what the engine sees for the next order.
  const usage = new Map(loaded.usage.map((u) => [u.ruleId, u.points]));
  const rules = loaded.rules.map((r) => ({ ...r }));

  const statements: Statement[] = [];
  let credit: MemberDelta = {};
  let owed = owedBy(member);
  let pointsEarned = 0;
  let ordersCount = member.ordersCount;
  let first = member.firstPurchaseAt;
  let last = member.lastPurchaseAt;
  for (const o of [...fresh].sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : 1))) {
    const occurredAt = toUtcIso(o.occurredAt);
    let points = 0;
    let lines: Array<{ ruleId: string; points: number }> = [];
    if (input.award === "rules") {
      const earned = earnByRules(
        scope,
        { program, member: { ...member, ordersCount } },
        { trigger: { type: "purchase" }, occurredAt, order: { amount: o.amount, channel: o.channel, storeId: o.storeId } },
        { ...loaded, rules, usage: [...usage].map(([ruleId, p]) => ({ ruleId, points: p })) },
      );
      points = earned.result.points;
      lines = earned.result.lines.map((l) => ({ ruleId: l.ruleId, points: l.points }));
      for (const l of lines) {
        const rule = rules.find((r) => r.id === l.ruleId);
        if (!rule || l.points <= 0) continue;
        usage.set(l.ruleId, (usage.get(l.ruleId) ?? 0) + l.points);
        rule.pointsAwarded += l.points;
      }
      statements.push(...earned.statements);
    }
    ordersCount++;
    if (!first || occurredAt < first) first = occurredAt;
    if (!last || occurredAt > last) last = occurredAt;
    statements.push(
      scope.db.insert(orders).values({
        id: newId("ord", Date.parse(occurredAt)),
        programId: scope.programId,
        memberId: scope.memberId,
        orderId: o.orderId,
        amount: o.amount,
        currency: program.currency,
        pointsEarned: points,
        channel: o.channel ?? null,
        storeId: o.storeId ?? null,
        occurredAt,
        sourceScope: scope.actor,
        sourceKeyId: scope.source?.keyId ?? null,
        sourcePartner: scope.source?.partner ?? null,
        createdAt: scope.now,
      }) as Statement,
    );
    credit = addDeltas(credit, { spend: o.amount, orders: 1 });
    if (points > 0) {
      const e = entry(scope, {
        type: "earn",
        points,
        reason: `Purchase ${o.orderId}`,
        sourceType: "order",
        sourceId: o.orderId,
        metadata: { imported: true, lines },
        at: occurredAt,
      });
      const lot = newLot(scope, program, member, {
        entryId: e.row.id,
        points,
        orderId: o.orderId,
        hold: true,
        owed,
        purchase: true,
        // Held and expiring (by the program's policy) from when the order happened.
        dates: { earnedAt: occurredAt, availableAt: addDays(occurredAt, program.holdDays) },
      });
      owed = lot.owedLeft;
      credit = addDeltas(credit, { ...lot.delta, earned: points });
      pointsEarned += points;
      statements.push(e.statement, ...lot.statements);
    }
  }
  if (fresh.length > 0)
    statements.push(
      memberDelta(scope, credit, {
        firstPurchaseAt: first,
        lastPurchaseAt: last,
        lastActivityAt: member.lastActivityAt && last && member.lastActivityAt > last ? member.lastActivityAt : last,
      }),
    );
  return {
    status: 201 as const,
    body: { memberId: scope.memberId, imported: fresh.length, skippedExisting: input.orders.length - fresh.length, pointsEarned },
    statements,
  };
}
