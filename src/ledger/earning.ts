import { eq, sql } from "drizzle-orm";
import { earningRules, ruleMemberUsage } from "../../schema";
import { combineReads, mapRead } from "../db/batch-read";
import { BASE_LINE_ID, type EarnResult as EngineResult } from "../domain/rules/engine";
import type { EarningEvent } from "../domain/rules/schema";
import { earningInputsRead, evaluateEarn } from "../services/rules/earning";
import { windowFiguresRead, windowStartSql } from "../services/tiers/ladder";
import type { MemberRow, ProgramRow, Statement, WriteScope } from "./state";

export type PurchaseInput = {
  orderId: string;
  amount: number;
  currency: string;
  items?: Array<{ sku: string; category?: string; quantity: number; unitPrice: number }>;
  channel?: string;
  storeId?: string;
  occurredAt?: string;
};

/**
 * What earning and tier qualification read, in the write's one read batch: rules, ladder, the
 * member's rule usage and segments, and their figures over the ladder's window. The window
 * depends on the ladder, so SQL derives it from the stored tier definitions in the same batch.
 */
export const earningAndTierRead = (scope: WriteScope) =>
  mapRead(
    combineReads({
      inputs: earningInputsRead(scope.db, scope.programId, { id: scope.memberId }),
      figures: windowFiguresRead(scope.db, scope.memberId, windowStartSql(scope.programId, scope.now)),
    }),
    ({ inputs, figures }) => ({ ...inputs, figures }),
  );
export type EarningAndTierInputs = ReturnType<ReturnType<typeof earningAndTierRead>["parse"]>;

/** Rule usage (per member, and in total against the rule's budget) for the lines that fired. */
function ruleUsageStatements(scope: WriteScope, earn: EngineResult): Statement[] {
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
 * Run the earning rules for one event (a purchase or an activity) and record the rule usage
 * in the same batch, so a rule's budget and per-member cap hold under concurrency.
 */
export function earnByRules(
  scope: WriteScope,
  subject: { program: ProgramRow; member: MemberRow },
  event: EarningEvent,
  loaded: EarningAndTierInputs,
) {
  const result = evaluateEarn({ ...subject, isFirstPurchase: subject.member.ordersCount === 0 }, event, loaded);
  return { result, statements: ruleUsageStatements(scope, result) };
}
