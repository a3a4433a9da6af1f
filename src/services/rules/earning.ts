import { and, eq, inArray, sql } from "drizzle-orm";
import { earningRules, members, orders, ruleMemberUsage, segmentMembers } from "../../../schema";
import { type BatchRead, batchRead, combineReads, mapRead, readTogether } from "../../db/batch-read";
import type { Database } from "../../db/client";
import { localDate, localMonth, wholeYearsBetween } from "../../domain/local-time";
import {
  type EarnResult,
  type EngineRule,
  evaluateRules,
  type MilestoneFacts,
  type RuleUsage,
  streakMonths,
} from "../../domain/rules/engine";
import { type EarningEvent, ruleDefinitionSchema } from "../../domain/rules/schema";
import type { Tier } from "../../domain/tiers/schema";
import type { MemberRow, ProgramRow } from "../../ledger/state";
import { tiersRead } from "../tiers/ladder";

export type EarningSubject = { program: ProgramRow; member: MemberRow | null; isFirstPurchase: boolean };
export type ActiveRule = EngineRule & { pointsAwarded: number };
/** Everything the rules engine reads for one event: the program's rules and ladder, the member's rule usage and segments. */
export type EarningInputs = {
  rules: ActiveRule[];
  ladder: Tier[];
  usage: Array<{ ruleId: string; points: number }>;
  segmentIds: string[];
  /** The first and last purchase instant of each UTC day with purchases, recent (only when a streak rule is active). */
  purchaseDays: Array<{ first: string; last: string }>;
};
/** How far back streak milestones look: the longest streak (24 months) and a month to spare. */
const STREAK_LOOKBACK_DAYS = 25 * 31 + 1;

/** The member whose usage and segments count: by id, by external id (quote), or none (a guest). */
export type EarningMemberRef = { id: string } | { externalId: string } | null;

/** Active rules of a program, validated into engine rules (a corrupt row is skipped, not fatal). */
function activeRulesRead(db: Database, programId: string): BatchRead<ActiveRule[]> {
  return batchRead(
    [
      db
        .select()
        .from(earningRules)
        .where(and(eq(earningRules.programId, programId), eq(earningRules.active, true))),
    ],
    ([rows]) =>
      rows.flatMap((r) => {
        const parsed = ruleDefinitionSchema.safeParse(r.definition);
        return parsed.success ? [{ ...parsed.data, id: r.id, pointsAwarded: r.pointsAwarded }] : [];
      }),
  );
}

export async function loadActiveRules(db: Database, programId: string): Promise<ActiveRule[]> {
  const [rules] = await readTogether(db, [activeRulesRead(db, programId)]);
  return rules;
}

/**
 * The rules engine's reads as one batch-able read, so a caller can fetch them together with its own
 * (the accrual with program, member and order; the quote with program and member). Usage and
 * segments are fetched without waiting for the rule ids; usage of inactive rules is ignored.
 */
export function earningInputsRead(db: Database, programId: string, member: EarningMemberRef): BatchRead<EarningInputs> {
  const rulesAndLadder = combineReads({ rules: activeRulesRead(db, programId), ladder: tiersRead(db, programId) });
  if (!member) return mapRead(rulesAndLadder, (loaded) => ({ ...loaded, usage: [], segmentIds: [], purchaseDays: [] }));
  const isMember = (column: typeof ruleMemberUsage.memberId | typeof segmentMembers.memberId | typeof orders.memberId) =>
    "id" in member
      ? eq(column, member.id)
      : inArray(
          column,
          db
            .select({ id: members.id })
            .from(members)
            .where(and(eq(members.programId, programId), eq(members.externalId, member.externalId))),
        );
  const memberReads = batchRead(
    [
      db
        .select({ ruleId: ruleMemberUsage.ruleId, points: ruleMemberUsage.points })
        .from(ruleMemberUsage)
        .where(isMember(ruleMemberUsage.memberId)),
      db.select({ segmentId: segmentMembers.segmentId }).from(segmentMembers).where(isMember(segmentMembers.memberId)),
      // Streak milestones count local months with a purchase. The first and last order of each UTC
      // day fall in every local month that day's orders do (months only grow with time), so these
      // two per day give the months exactly, in at most one row per day; nothing without a streak rule.
      db
        .select({ first: sql<string>`MIN(${orders.occurredAt})`, last: sql<string>`MAX(${orders.occurredAt})` })
        .from(orders)
        .where(
          and(
            isMember(orders.memberId),
            sql`${orders.occurredAt} >= ${new Date(Date.now() - STREAK_LOOKBACK_DAYS * 86_400_000).toISOString()}`,
            sql`EXISTS (SELECT 1 FROM earning_rules WHERE program_id = ${programId} AND active = 1
                AND json_extract(definition, '$.trigger.milestone.kind') = 'streak')`,
          ),
        )
        .groupBy(sql`substr(${orders.occurredAt}, 1, 10)`),
    ],
    ([usage, segments, days]) => ({ usage, segmentIds: segments.map((s) => s.segmentId), purchaseDays: days }),
  );
  return mapRead(combineReads({ rulesAndLadder, memberReads }), (loaded) => ({ ...loaded.rulesAndLadder, ...loaded.memberReads }));
}

/**
 * Evaluate the program's earning rules for one event: the same function serves the quote
 * endpoint and the ledger's accrual, so a quote always equals what the write earns.
 */
export function evaluateEarn(subject: EarningSubject, event: EarningEvent, inputs: EarningInputs): EarnResult {
  const { program, member } = subject;
  const { rules, ladder } = inputs;
  const usage: RuleUsage = {};
  for (const r of rules) usage[r.id] = { memberPoints: 0, totalPoints: r.pointsAwarded };
  for (const u of inputs.usage) if (usage[u.ruleId]) usage[u.ruleId].memberPoints = u.points;
  const tier = ladder.find((t) => t.id === member?.tierId) ?? ladder[0];
  const timeZone = program.timeZone;
  let milestones: MilestoneFacts | undefined;
  if (member) {
    const isPurchase = event.trigger.type === "purchase";
    const months = inputs.purchaseDays.flatMap((d) => [localMonth(d.first, timeZone), localMonth(d.last, timeZone)]);
    milestones = {
      orders: member.ordersCount + (isPurchase ? 1 : 0),
      spend: member.lifetimeSpend + (isPurchase ? (event.order?.amount ?? 0) : 0),
      streakMonths: isPurchase
        ? streakMonths([...months, localMonth(event.occurredAt, timeZone)], localMonth(event.occurredAt, timeZone))
        : 0,
      membershipYears: wholeYearsBetween(localDate(member.createdAt, timeZone), localDate(event.occurredAt, timeZone)),
    };
  }
  return evaluateRules({
    rules,
    program: { basePointsPerUnit: program.basePointsPerUnit, unitMinor: program.unitMinor, timeZone: program.timeZone },
    event,
    member: {
      tierId: tier?.id ?? null,
      tierMultiplier: tier?.benefits.pointsMultiplier ?? 1,
      segmentIds: inputs.segmentIds,
      isFirstPurchase: subject.isFirstPurchase,
      milestones,
    },
    usage,
  });
}
