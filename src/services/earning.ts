import { and, eq } from "drizzle-orm";
import { earningRules, ruleMemberUsage, segmentMembers } from "../../schema";
import type { Database } from "../db/client";
import { type EarnResult, type EngineRule, evaluateRules, type RuleUsage } from "../domain/rules/engine";
import { ruleDefinitionSchema, type EarningEvent } from "../domain/rules/schema";
import type { Tier } from "../domain/tiers/schema";
import type { MemberRow, ProgramRow } from "../ledger/state";
import { loadTiers } from "./tiers";

export type EarningSubject = { program: ProgramRow; member: MemberRow | null; isFirstPurchase: boolean };

/** Active rules of a program, validated into engine rules (a corrupt row is skipped, not fatal). */
export async function loadActiveRules(db: Database, programId: string): Promise<Array<EngineRule & { pointsAwarded: number }>> {
  const rows = await db.select().from(earningRules).where(and(eq(earningRules.programId, programId), eq(earningRules.active, true)));
  return rows.flatMap((r) => {
    const parsed = ruleDefinitionSchema.safeParse(r.definition);
    return parsed.success ? [{ ...parsed.data, id: r.id, pointsAwarded: r.pointsAwarded }] : [];
  });
}

/**
 * Evaluate the program's earning rules for one event: the same function serves the quote
 * endpoint and the ledger's accrual, so a quote always equals what the write earns.
 */
export async function computeEarn(db: Database, subject: EarningSubject, event: EarningEvent): Promise<{ result: EarnResult; ladder: Tier[] }> {
  const { program, member } = subject;
  // Every read at once (one round trip): the member's usage and segments are fetched without
  // waiting for the rule ids, and usage of rules no longer active is ignored below.
  const [rules, ladder, [usageRows, segmentRows]] = await Promise.all([
    loadActiveRules(db, program.id),
    loadTiers(db, program.id),
    member
      ? db.batch([
          db.select().from(ruleMemberUsage).where(eq(ruleMemberUsage.memberId, member.id)),
          db.select({ segmentId: segmentMembers.segmentId }).from(segmentMembers).where(eq(segmentMembers.memberId, member.id)),
        ])
      : Promise.resolve([[], []] as const),
  ]);
  const usage: RuleUsage = {};
  for (const r of rules) usage[r.id] = { memberPoints: 0, totalPoints: r.pointsAwarded };
  for (const u of usageRows) if (usage[u.ruleId]) usage[u.ruleId].memberPoints = u.points;
  const tier = ladder.find((t) => t.id === member?.tierId) ?? ladder[0];
  const result = evaluateRules({
    rules,
    program: { basePointsPerUnit: program.basePointsPerUnit, unitMinor: program.unitMinor },
    event,
    member: {
      tierId: tier?.id ?? null,
      tierMultiplier: tier?.benefits.pointsMultiplier ?? 1,
      segmentIds: segmentRows.map((s) => s.segmentId),
      isFirstPurchase: subject.isFirstPurchase,
    },
    usage,
  });
  return { result, ladder };
}
