import { and, asc, eq, gte, lte, sql } from "drizzle-orm";
import { kpiSnapshots, programs } from "../../../schema";
import type { Database } from "../../db/client";
import { type KpiAggregates, kpiFigures } from "../../domain/kpis/definitions";
import { addLocalDays, localDate, localDayRange } from "../../domain/local-time";
import type { ServiceContext } from "../../lib/context";
import { AppError } from "../../lib/errors";
import { nowIso } from "../../lib/time";
import { timeZoneOf } from "../program/local-day";

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The aggregates behind every KPI as of `asOf` (see src/domain/kpis/definitions.ts), set-based:
 * one statement of scalar sub-aggregates plus the tier and stage distributions, in one batch.
 */
async function kpiAggregates(db: Database, programId: string, asOf: Date, dayStart: string): Promise<KpiAggregates> {
  const t = asOf.getTime();
  const T = iso(t);
  const w30 = iso(t - 30 * DAY);
  const w60 = iso(t - 60 * DAY);
  const w90 = iso(t - 90 * DAY);
  const liveMember = sql`program_id = ${programId} AND status NOT IN ('erased', 'merged') AND created_at < ${T}`;
  const counted = sql`program_id = ${programId} AND amount > refunded_amount`;
  const [scalars, tierRows, stageRows] = await db.batch([
    db.all<Record<string, number | null>>(sql`
      SELECT
        (SELECT COUNT(*) FROM members WHERE ${liveMember}) AS membersTotal,
        (SELECT COUNT(*) FROM members WHERE ${liveMember} AND created_at >= ${dayStart}) AS membersNew,
        (SELECT COUNT(*) FROM members WHERE ${liveMember} AND created_at >= ${w30}) AS membersNew30d,
        (SELECT COUNT(DISTINCT member_id) FROM orders WHERE ${counted} AND occurred_at >= ${w30} AND occurred_at < ${T}) AS buyers30d,
        (SELECT COUNT(*) FROM orders WHERE ${counted} AND occurred_at >= ${w30} AND occurred_at < ${T}) AS orders30d,
        (SELECT COALESCE(SUM(amount - refunded_amount), 0) FROM orders WHERE program_id = ${programId} AND occurred_at >= ${w30} AND occurred_at < ${T}) AS revenue30d,
        (SELECT COUNT(DISTINCT member_id) FROM orders WHERE ${counted} AND occurred_at >= ${w60} AND occurred_at < ${w30}) AS buyersPrev30d,
        (SELECT COUNT(DISTINCT p.member_id) FROM orders p WHERE p.program_id = ${programId} AND p.amount > p.refunded_amount AND p.occurred_at >= ${w60} AND p.occurred_at < ${w30}
           AND EXISTS (SELECT 1 FROM orders c WHERE c.member_id = p.member_id AND c.amount > c.refunded_amount AND c.occurred_at >= ${w30} AND c.occurred_at < ${T})) AS retainedBuyers,
        (SELECT COUNT(*) FROM (SELECT member_id FROM orders WHERE ${counted} AND occurred_at < ${T} GROUP BY member_id)) AS buyersEver,
        (SELECT COUNT(*) FROM (SELECT member_id FROM orders WHERE ${counted} AND occurred_at < ${T} GROUP BY member_id HAVING COUNT(*) >= 2)) AS repeatBuyersEver,
        (SELECT COALESCE(SUM(points), 0) FROM ledger_entries WHERE program_id = ${programId} AND created_at < ${T} AND points > 0 AND type IN ('earn', 'adjust') AND source_type <> 'coupon') AS pointsIssued,
        (SELECT COALESCE(-SUM(points), 0) FROM ledger_entries WHERE program_id = ${programId} AND created_at < ${T} AND type = 'redeem')
          - (SELECT COALESCE(SUM(points), 0) FROM ledger_entries WHERE program_id = ${programId} AND created_at < ${T} AND (type = 'return' OR (type = 'adjust' AND source_type = 'coupon'))) AS pointsRedeemed,
        (SELECT COALESCE(-SUM(points), 0) FROM ledger_entries WHERE program_id = ${programId} AND created_at < ${T} AND type = 'expire') AS pointsExpired,
        (SELECT COALESCE(SUM(points), 0) FROM ledger_entries WHERE program_id = ${programId} AND created_at < ${T}) AS pointsOutstanding,
        (SELECT COALESCE(SUM(debt), 0) FROM ledger_entries WHERE program_id = ${programId} AND created_at < ${T}) AS pointsDebt,
        (SELECT point_cost_per_1000 FROM programs WHERE id = ${programId}) AS pointCostPer1000,
        (SELECT COUNT(*) FROM members WHERE program_id = ${programId} AND status NOT IN ('erased', 'merged') AND created_at < ${w30}
           AND NOT (stage = 'churned' AND stage_since IS NOT NULL AND stage_since < ${w30})) AS churnBase,
        (SELECT COUNT(*) FROM members WHERE program_id = ${programId} AND status NOT IN ('erased', 'merged') AND created_at < ${w30}
           AND stage = 'churned' AND stage_since >= ${w30} AND stage_since < ${T}) AS churnedInWindow,
        (SELECT COALESCE(SUM(clv_12m), 0) FROM members WHERE ${liveMember} AND clv_12m IS NOT NULL) AS clvSum,
        (SELECT COUNT(*) FROM members WHERE ${liveMember} AND clv_12m IS NOT NULL) AS clvScored,
        (SELECT COUNT(*) FROM feedback WHERE program_id = ${programId} AND kind = 'nps' AND score >= 9 AND created_at >= ${w90} AND created_at < ${T}) AS npsPromoters,
        (SELECT COUNT(*) FROM feedback WHERE program_id = ${programId} AND kind = 'nps' AND score BETWEEN 7 AND 8 AND created_at >= ${w90} AND created_at < ${T}) AS npsPassives,
        (SELECT COUNT(*) FROM feedback WHERE program_id = ${programId} AND kind = 'nps' AND score <= 6 AND created_at >= ${w90} AND created_at < ${T}) AS npsDetractors`),
    db.all<{ name: string | null; n: number }>(sql`
      SELECT t.name AS name, COUNT(*) AS n FROM members m LEFT JOIN tiers t ON t.id = m.tier_id
      WHERE m.program_id = ${programId} AND m.status NOT IN ('erased', 'merged') AND m.created_at < ${T} GROUP BY t.name`),
    db.all<{ stage: string; n: number }>(sql`
      SELECT stage, COUNT(*) AS n FROM members WHERE ${liveMember} GROUP BY stage`),
  ]);
  const s = (scalars as Array<Record<string, number | null>>)[0] ?? {};
  const num = (k: string) => Number(s[k] ?? 0);
  return {
    membersTotal: num("membersTotal"),
    membersNew: num("membersNew"),
    membersNew30d: num("membersNew30d"),
    buyers30d: num("buyers30d"),
    orders30d: num("orders30d"),
    revenue30d: num("revenue30d"),
    buyersPrev30d: num("buyersPrev30d"),
    retainedBuyers: num("retainedBuyers"),
    buyersEver: num("buyersEver"),
    repeatBuyersEver: num("repeatBuyersEver"),
    pointsIssued: num("pointsIssued"),
    pointsRedeemed: num("pointsRedeemed"),
    pointsExpired: num("pointsExpired"),
    pointsOutstanding: num("pointsOutstanding"),
    pointsDebt: num("pointsDebt"),
    pointCostPer1000: num("pointCostPer1000"),
    churnBase: num("churnBase"),
    churnedInWindow: num("churnedInWindow"),
    clvSum: num("clvSum"),
    clvScored: num("clvScored"),
    npsPromoters: num("npsPromoters"),
    npsPassives: num("npsPassives"),
    npsDetractors: num("npsDetractors"),
    tierCounts: Object.fromEntries((tierRows as Array<{ name: string | null; n: number }>).map((r) => [r.name ?? "none", Number(r.n)])),
    stageCounts: Object.fromEntries((stageRows as Array<{ stage: string; n: number }>).map((r) => [r.stage, Number(r.n)])),
  };
}

/**
 * The snapshot of local `day` (YYYY-MM-DD): figures as of the end of that day in the
 * program's zone ("new" = joined during that day, which lasts 23 or 25 hours on a DST change).
 * A day already snapshotted keeps the zone it was taken in when it is taken again. Idempotent (upsert).
 */
export async function snapshotProgramDay(db: Database, programId: string, day: string) {
  const [[existing], [program]] = await db.batch([
    db
      .select({ timeZone: kpiSnapshots.timeZone })
      .from(kpiSnapshots)
      .where(and(eq(kpiSnapshots.programId, programId), eq(kpiSnapshots.day, day)))
      .limit(1),
    db.select({ timeZone: programs.timeZone }).from(programs).where(eq(programs.id, programId)).limit(1),
  ]);
  const timeZone = existing?.timeZone ?? program?.timeZone ?? "UTC";
  const { start, end } = localDayRange(day, timeZone);
  const figures = kpiFigures(await kpiAggregates(db, programId, new Date(end), start));
  const row = { timeZone, startsAt: start, endsAt: end, figures, createdAt: nowIso() };
  await db
    .insert(kpiSnapshots)
    .values({ programId, day, ...row })
    .onConflictDoUpdate({ target: [kpiSnapshots.programId, kpiSnapshots.day], set: row });
  return figures;
}

/**
 * Hourly: each program's snapshot of its local day that just ended, once that day is over in
 * its zone (the first run after its local midnight, or the next run if that one failed).
 */
export async function snapshotAllPrograms(db: Database, now: Date) {
  const rows = await db.all<{ id: string; timeZone: string; last: string | null }>(sql`
    SELECT p.id AS id, p.time_zone AS timeZone, (SELECT MAX(k.day) FROM kpi_snapshots k WHERE k.program_id = p.id) AS last FROM programs p
    WHERE p.suspended_at IS NULL`);
  const days: Record<string, string> = {};
  const failed: Record<string, string> = {};
  for (const { id, timeZone, last } of rows) {
    const day = addLocalDays(localDate(now, timeZone), -1);
    if (last !== null && last >= day) continue;
    try {
      await snapshotProgramDay(db, id, day);
      days[id] = day;
    } catch (err) {
      failed[id] = String(err);
    }
  }
  return { programs: Object.keys(days).length, days, failed };
}

export async function kpiSeries({ ctx, input }: { ctx: ServiceContext; input: { programId: string; from?: string; to?: string } }) {
  const to = input.to ?? localDate(new Date(), await timeZoneOf(ctx.db, input.programId));
  const from = input.from ?? addLocalDays(to, -29);
  if (from > to) throw new AppError("invalid_request", "from must not be after to");
  if (Date.parse(to) - Date.parse(from) > 731 * DAY) throw new AppError("invalid_request", "at most two years per request");
  const rows = await ctx.db
    .select({
      day: kpiSnapshots.day,
      timeZone: kpiSnapshots.timeZone,
      startsAt: kpiSnapshots.startsAt,
      endsAt: kpiSnapshots.endsAt,
      figures: kpiSnapshots.figures,
      createdAt: kpiSnapshots.createdAt,
    })
    .from(kpiSnapshots)
    .where(and(eq(kpiSnapshots.programId, input.programId), gte(kpiSnapshots.day, from), lte(kpiSnapshots.day, to)))
    .orderBy(asc(kpiSnapshots.day));
  return { from, to, data: rows };
}

/** Today's figures computed live, as of now; "today" is the program's local day so far. */
export async function kpisToday({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  const now = new Date();
  const timeZone = await timeZoneOf(ctx.db, input.programId);
  const day = localDate(now, timeZone);
  return {
    day,
    timeZone,
    asOf: now.toISOString(),
    figures: kpiFigures(await kpiAggregates(ctx.db, input.programId, now, localDayRange(day, timeZone).start)),
  };
}
