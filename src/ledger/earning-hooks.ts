import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { earningRules, members, ruleMemberUsage, tierHistory } from "../../schema";
import { combineReads, mapRead, readTogether } from "../db/batch-read";
import { BASE_LINE_ID, type EarnResult } from "../domain/rules/engine";
import type { TriggerType } from "../domain/rules/schema";
import { decideOnWrite } from "../domain/tiers/qualification";
import type { Tier, TierFigures } from "../domain/tiers/schema";
import { newId } from "../lib/ids";
import { toUtcIso } from "../lib/time";
import { earningInputsRead, evaluateEarn } from "../services/earning";
import { type WindowFigures, windowFigures, windowFiguresRead, windowStart, windowStartSql } from "../services/tiers";
import type { AccrualContext } from "./accrue";
import { ledgerHooks } from "./hooks";
import {
  balanceAfter,
  deficitOf,
  entry,
  type MemberRow,
  memberDelta,
  newLot,
  outbox,
  programAndMemberRead,
  requireActive,
  type Statement,
  type WriteScope,
} from "./state";

/** Rule usage (per member, and in total against the rule's budget) for the lines that fired. */
function ruleUsageStatements(scope: WriteScope, earn: EarnResult): Statement[] {
  return earn.lines
    .filter((l) => l.ruleId !== BASE_LINE_ID && l.points > 0)
    .flatMap((l) => [
      scope.db
        .insert(ruleMemberUsage)
        .values({ ruleId: l.ruleId, memberId: scope.memberId, points: l.points })
        .onConflictDoUpdate({
          target: [ruleMemberUsage.ruleId, ruleMemberUsage.memberId],
          set: { points: sql`${ruleMemberUsage.points} + ${l.points}` },
        }) as Statement,
      // The CHECK on earning_rules fails the whole batch if concurrent awards would exceed the budget.
      scope.db
        .update(earningRules)
        .set({ pointsAwarded: sql`${earningRules.pointsAwarded} + ${l.points}` })
        .where(eq(earningRules.id, l.ruleId)) as Statement,
    ]);
}

/**
 * What the earn and tier hooks read, in the write's one read batch: rules, ladder, the member's
 * rule usage and segments, and their figures over the ladder's window. The window depends on
 * the ladder, so SQL derives it from the stored tier definitions in the same batch.
 */
const earningAndTierRead = (scope: WriteScope) =>
  mapRead(
    combineReads({
      inputs: earningInputsRead(scope.db, scope.programId, { id: scope.memberId }),
      figures: windowFiguresRead(scope.db, scope.memberId, windowStartSql(scope.programId, scope.now)),
    }),
    ({ inputs, figures }) => ({ ...inputs, figures }),
  );
ledgerHooks.accrualReads.push(earningAndTierRead);

/** Upgrade at once when this write qualifies the member for a higher tier (never downgrade here). */
async function tierUpgradeStatements(
  scope: WriteScope,
  member: MemberRow,
  ladder: Tier[],
  add: TierFigures,
  preread: WindowFigures,
): Promise<{ statements: Statement[]; change: Record<string, unknown> | null }> {
  if (ladder.length === 0) return { statements: [], change: null };
  // The figures read beside the ladder cover windowStartSql's window; should it ever differ
  // from the parsed ladder's (it should not), read the right one.
  const from = windowStart(scope.now, ladder);
  const base = preread.since === from ? preread : await windowFigures(scope.db, scope.memberId, from);
  const figures: TierFigures = {
    spend: base.spend + add.spend,
    orders: base.orders + add.orders,
    pointsEarned: base.pointsEarned + add.pointsEarned,
    activeDays: (base.activeDays ?? 0) + (add.activeDays ?? 0),
  };
  const decision = decideOnWrite({
    tiers: ladder,
    current: { tierId: member.tierId, securedUntil: member.tierSecuredUntil },
    figures,
    now: scope.now,
  });
  if (decision.change !== "upgrade") return { statements: [], change: null };
  const to = ladder.find((t) => t.id === decision.tierId)!;
  const change = { from: member.tierId, to: to.id, toName: to.name, change: "upgrade", securedUntil: decision.securedUntil };
  return {
    change,
    statements: [
      scope.db
        .update(members)
        .set({ tierId: to.id, tierSince: scope.now, tierSecuredUntil: decision.securedUntil })
        .where(eq(members.id, scope.memberId)) as Statement,
      scope.db
        .insert(tierHistory)
        .values({
          id: newId("th"),
          programId: scope.programId,
          memberId: scope.memberId,
          fromTierId: member.tierId,
          toTierId: to.id,
          change: "upgrade",
          reason: "qualified on write",
          createdAt: scope.now,
        }) as Statement,
      outbox(scope, "tier.changed", change),
    ],
  };
}

ledgerHooks.earn = async (ctx: AccrualContext) => {
  const { scope, program, member, input, occurredAt } = ctx;
  const result = evaluateEarn(
    { program, member, isFirstPurchase: ctx.isFirstPurchase },
    {
      trigger: { type: "purchase" },
      occurredAt,
      order: { amount: input.amount, items: input.items, channel: input.channel, storeId: input.storeId },
    },
    ctx.preloaded(earningAndTierRead),
  );
  return {
    earn: {
      points: result.points,
      lines: result.lines.map((l) => ({ ruleId: l.ruleId, name: l.name, points: l.points })),
      tierMultiplier: result.tierMultiplier,
    },
    statements: ruleUsageStatements(scope, result),
    response: { basePoints: result.basePoints, skippedRules: result.skipped.filter((s) => s.reason !== "trigger_mismatch") },
  };
};

ledgerHooks.afterAccrual.push(async (ctx) => {
  const { ladder, figures } = ctx.preloaded(earningAndTierRead);
  const sameDay = ctx.member.lastPurchaseAt?.slice(0, 10) === ctx.occurredAt.slice(0, 10);
  const { statements, change } = await tierUpgradeStatements(
    ctx.scope,
    ctx.member,
    ladder,
    { spend: ctx.input.amount, orders: 1, pointsEarned: ctx.earn.points, activeDays: sameDay ? 0 : 1 },
    figures,
  );
  return { statements, response: change ? { tierChange: change } : {} };
});

export const ActivityInput = z.object({
  kind: z.string().trim().min(1).max(64),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
});

/** Built-in kinds map to their own rule triggers; anything else is a custom activity kind. */
function triggerForKind(kind: string): { type: TriggerType; kind?: string } {
  if (["signup", "birthday", "referral", "review", "survey"].includes(kind)) return { type: kind as TriggerType };
  return { type: "activity", kind };
}

/**
 * A non-purchase activity (review, survey, check-in, signup bonus, custom): evaluates the
 * same rules engine, credits what it earns as an available lot, records the activity.
 */
ledgerHooks.custom.activity = async (scope: WriteScope, raw: unknown) => {
  const input = ActivityInput.parse(raw);
  // One round trip: program, member, rules, ladder, usage, segments and tier figures.
  const [{ program, member }, loaded] = await readTogether(scope.db, [programAndMemberRead(scope), earningAndTierRead(scope)]);
  requireActive(member);
  const occurredAt = input.occurredAt ? toUtcIso(input.occurredAt) : scope.now;
  const result = evaluateEarn(
    { program, member, isFirstPurchase: member.ordersCount === 0 },
    { trigger: triggerForKind(input.kind), occurredAt },
    loaded,
  );
  const statements: Statement[] = [...ruleUsageStatements(scope, result)];
  const entries = [];
  if (result.points > 0) {
    const e = entry(scope, {
      type: "earn",
      points: result.points,
      reason: `Activity: ${input.kind}`,
      sourceType: "activity",
      sourceId: input.kind,
      metadata: { lines: result.lines, attributes: input.attributes ?? {} },
    });
    const lot = newLot(scope, program, { entryId: e.row.id, points: result.points, hold: false, deficit: deficitOf(member) });
    entries.push(e.view);
    statements.push(
      e.statement,
      lot.statement,
      outbox(scope, "points.earned", { points: result.points, activity: input.kind, entryId: e.row.id }),
    );
  }
  const delta = { balance: result.points, earned: result.points };
  statements.push(
    memberDelta(scope, delta, { lastActivityAt: occurredAt }),
    outbox(scope, "activity.recorded", { kind: input.kind, occurredAt, points: result.points }),
  );
  const tier = await tierUpgradeStatements(
    scope,
    member,
    loaded.ladder,
    { spend: 0, orders: 0, pointsEarned: result.points, activeDays: 0 },
    loaded.figures,
  );
  statements.push(...tier.statements);
  return {
    status: 201 as const,
    body: {
      kind: input.kind,
      pointsEarned: result.points,
      lines: result.lines,
      entries,
      balance: balanceAfter(member, delta),
      ...(tier.change ? { tierChange: tier.change } : {}),
    },
    statements,
  };
};
