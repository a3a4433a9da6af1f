import { and, asc, eq, gte, lte, sql } from "drizzle-orm";
import { kpiSnapshots, programs, tierKpiSnapshots } from "../../../schema";
import { lifecycleThresholdsOf } from "../../analytics/lifecycle";
import type { Database } from "../../db/client";
import { type KpiAggregates, kpiFigures } from "../../domain/kpis/definitions";
import { tierFigures } from "../../domain/kpis/tier-figures";
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
        (SELECT COUNT(*) FROM members m WHERE m.program_id = ${programId} AND m.status <> 'erased' AND m.created_at < ${T}
           AND ((m.last_activity_at >= ${w30} AND m.last_activity_at < ${T})
             OR EXISTS (SELECT 1 FROM orders o WHERE o.member_id = m.id AND o.amount > o.refunded_amount AND o.occurred_at >= ${w30} AND o.occurred_at < ${T}))) AS engaged30d,
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
    engaged30d: num("engaged30d"),
    activeDefinition: (await lifecycleThresholdsOf(db, programId)).recency,
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
 * Per-tier aggregates as of `asOf` (src/domain/kpis/tier-figures.ts), set-based: one statement
 * grouping the members on each tier with their orders and points, one counting the day's moves.
 */
async function tierAggregates(db: Database, programId: string, asOf: Date, dayStart: string) {
  const t = asOf.getTime();
  const T = iso(t);
  const w30 = iso(t - 30 * DAY);
  const w60 = iso(t - 60 * DAY);
  const [rows, moves] = await db.batch([
    db.all<Record<string, string | number | null>>(sql`
      -- A member not yet placed on a tier is on the entry tier (lowest rank), as earning treats them.
      WITH entry AS (SELECT id FROM tiers WHERE program_id = ${programId} ORDER BY rank LIMIT 1),
      m AS (SELECT id, COALESCE(tier_id, (SELECT id FROM entry)) AS tier_id FROM members
            WHERE program_id = ${programId} AND status <> 'erased' AND created_at < ${T}),
      o30 AS (SELECT member_id, COUNT(*) AS n, SUM(amount - refunded_amount) AS revenue FROM orders
              WHERE program_id = ${programId} AND amount > refunded_amount AND occurred_at >= ${w30} AND occurred_at < ${T} GROUP BY member_id),
      prev AS (SELECT DISTINCT member_id FROM orders
               WHERE program_id = ${programId} AND amount > refunded_amount AND occurred_at >= ${w60} AND occurred_at < ${w30}),
      ever AS (SELECT member_id, COUNT(*) AS n FROM orders
               WHERE program_id = ${programId} AND amount > refunded_amount AND occurred_at < ${T} GROUP BY member_id),
      pts AS (SELECT member_id, SUM(CASE WHEN type = 'earn' THEN points ELSE 0 END) AS earned, SUM(CASE WHEN type = 'redeem' THEN -points ELSE 0 END) AS redeemed
              FROM ledger_entries WHERE program_id = ${programId} AND created_at >= ${w30} AND created_at < ${T} AND type IN ('earn', 'redeem') GROUP BY member_id)
      SELECT t.id AS tierId, t.name AS tierName, t.rank AS rank,
        COUNT(m.id) AS members,
        COALESCE(SUM(o30.revenue), 0) AS revenue30d,
        COALESCE(SUM(o30.n), 0) AS orders30d,
        COUNT(prev.member_id) AS buyersPrev30d,
        COUNT(CASE WHEN prev.member_id IS NOT NULL AND o30.member_id IS NOT NULL THEN 1 END) AS retainedBuyers,
        COUNT(ever.member_id) AS buyersEver,
        COUNT(CASE WHEN ever.n >= 2 THEN 1 END) AS repeatBuyersEver,
        COALESCE(SUM(pts.earned), 0) AS pointsEarned30d,
        COALESCE(SUM(pts.redeemed), 0) AS pointsRedeemed30d
      FROM tiers t
      LEFT JOIN m ON m.tier_id = t.id
      LEFT JOIN o30 ON o30.member_id = m.id
      LEFT JOIN prev ON prev.member_id = m.id
      LEFT JOIN ever ON ever.member_id = m.id
      LEFT JOIN pts ON pts.member_id = m.id
      WHERE t.program_id = ${programId}
      GROUP BY t.id ORDER BY t.rank`),
    db.all<{ fromTierId: string | null; toTierId: string | null; change: string; n: number }>(sql`
      SELECT from_tier_id AS fromTierId, to_tier_id AS toTierId, change, COUNT(*) AS n FROM tier_history
      WHERE program_id = ${programId} AND created_at >= ${dayStart} AND created_at < ${T} AND change IN ('upgrade', 'downgrade')
        -- A member's first placement on a tier is no move up.
        AND from_tier_id IS NOT NULL
      GROUP BY from_tier_id, to_tier_id, change`),
  ]);
  const moved = (tierId: string, change: string, side: "fromTierId" | "toTierId") =>
    moves.filter((r) => r.change === change && r[side] === tierId).reduce((n, r) => n + Number(r.n), 0);
  return rows.map((r) => {
    const tierId = String(r.tierId);
    const num = (k: string) => Number(r[k] ?? 0);
    return {
      tierId,
      tierName: String(r.tierName),
      figures: tierFigures({
        members: num("members"),
        revenue30d: num("revenue30d"),
        orders30d: num("orders30d"),
        buyersPrev30d: num("buyersPrev30d"),
        retainedBuyers: num("retainedBuyers"),
        buyersEver: num("buyersEver"),
        repeatBuyersEver: num("repeatBuyersEver"),
        pointsEarned30d: num("pointsEarned30d"),
        pointsRedeemed30d: num("pointsRedeemed30d"),
        upgradesIn: moved(tierId, "upgrade", "toTierId"),
        upgradesOut: moved(tierId, "upgrade", "fromTierId"),
        downgradesIn: moved(tierId, "downgrade", "toTierId"),
        downgradesOut: moved(tierId, "downgrade", "fromTierId"),
      }),
    };
  });
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
  const [figures, perTier] = await Promise.all([
    kpiAggregates(db, programId, new Date(end), start).then(kpiFigures),
    tierAggregates(db, programId, new Date(end), start),
  ]);
  const createdAt = nowIso();
  const row = { timeZone, startsAt: start, endsAt: end, figures, createdAt };
  await db.batch([
    db
      .insert(kpiSnapshots)
      .values({ programId, day, ...row })
      .onConflictDoUpdate({ target: [kpiSnapshots.programId, kpiSnapshots.day], set: row }),
    // A tier deleted since an earlier take of this day leaves no row behind.
    db.delete(tierKpiSnapshots).where(and(eq(tierKpiSnapshots.programId, programId), eq(tierKpiSnapshots.day, day))),
    ...perTier.map((t) =>
      db.insert(tierKpiSnapshots).values({ programId, day, tierId: t.tierId, tierName: t.tierName, figures: t.figures, createdAt }),
    ),
  ]);
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

/** Per-tier KPI series from the daily snapshots: each day's tiers in rank order of the day's ladder. */
export async function tierKpiSeries({ ctx, input }: { ctx: ServiceContext; input: { programId: string; from?: string; to?: string } }) {
  const to = input.to ?? localDate(new Date(), await timeZoneOf(ctx.db, input.programId));
  const from = input.from ?? addLocalDays(to, -29);
  if (from > to) throw new AppError("invalid_request", "from must not be after to");
  if (Date.parse(to) - Date.parse(from) > 731 * DAY) throw new AppError("invalid_request", "at most two years per request");
  const rows = await ctx.db
    .select({
      day: tierKpiSnapshots.day,
      timeZone: kpiSnapshots.timeZone,
      tierId: tierKpiSnapshots.tierId,
      tierName: tierKpiSnapshots.tierName,
      figures: tierKpiSnapshots.figures,
    })
    .from(tierKpiSnapshots)
    .innerJoin(kpiSnapshots, and(eq(kpiSnapshots.programId, tierKpiSnapshots.programId), eq(kpiSnapshots.day, tierKpiSnapshots.day)))
    .where(and(eq(tierKpiSnapshots.programId, input.programId), gte(tierKpiSnapshots.day, from), lte(tierKpiSnapshots.day, to)))
    // Rows of a day are written in rank order (snapshotProgramDay), so storage order is rank order.
    .orderBy(asc(tierKpiSnapshots.day), asc(sql`"tier_kpi_snapshots"."rowid"`));
  const days = new Map<string, { day: string; timeZone: string; tiers: Array<{ tierId: string; tierName: string; figures: unknown }> }>();
  for (const r of rows) {
    const d = days.get(r.day) ?? { day: r.day, timeZone: r.timeZone, tiers: [] };
    days.set(r.day, d);
    d.tiers.push({ tierId: r.tierId, tierName: r.tierName, figures: r.figures });
  }
  return { from, to, data: [...days.values()] };
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
