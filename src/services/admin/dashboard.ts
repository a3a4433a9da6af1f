import { and, desc, eq, gte, isNotNull, ne, sql } from "drizzle-orm";
import { campaigns, experiments, kpiSnapshots, members, programs, segments, tiers } from "../../../schema";
import { LIFECYCLE_STAGES } from "../../domain/lifecycle/stages";
import type { ServiceContext } from "../../lib/context";
import { notFound } from "../../lib/errors";
import { addDays, nowIso } from "../../lib/time";

const CHURN_BUCKETS = 10;
const TOP_CLV_LIMIT = 10;
const LIST_LIMIT = 50;

const num = (v: unknown) => Number(v ?? 0);

/**
 * Everything the admin dashboard shows that can be read straight off the member rows and
 * configuration tables, in one round trip (a batch of grouped reads over one program).
 * Member-level scores (stage, churn probability, CLV) are whatever the crons last wrote.
 */
export async function dashboardOverview({ ctx, input }: { ctx: ServiceContext; input: { programId: string; days: number; now?: Date } }) {
  const { db } = ctx;
  const { programId } = input;
  const now = nowIso(input.now);
  const since = addDays(now, -input.days).slice(0, 10);
  const newSince = addDays(now, -30);
  const live = and(eq(members.programId, programId), ne(members.status, "erased"));
  const bucket = sql<number>`min(cast(${members.churnProbability} * ${CHURN_BUCKETS} as integer), ${CHURN_BUCKETS - 1})`;

  const [
    program,
    totals,
    tierRows,
    tierCounts,
    stageRows,
    valueRows,
    churnRows,
    topRows,
    segmentRows,
    kpiRows,
    campaignRows,
    experimentRows,
  ] = await db.batch([
    db
      .select({ id: programs.id, name: programs.name, currency: programs.currency, pointCostPer1000: programs.pointCostPer1000 })
      .from(programs)
      .where(eq(programs.id, programId))
      .limit(1),
    db
      .select({
        total: sql<number>`count(*)`,
        active: sql<number>`coalesce(sum(${members.status} = 'active'), 0)`,
        blocked: sql<number>`coalesce(sum(${members.status} = 'blocked'), 0)`,
        erased: sql<number>`coalesce(sum(${members.status} = 'erased'), 0)`,
        newLast30d: sql<number>`coalesce(sum(${members.createdAt} >= ${newSince}), 0)`,
        purchasers: sql<number>`coalesce(sum(${members.ordersCount} > 0), 0)`,
        pointsOutstanding: sql<number>`coalesce(sum(max(${members.pointsBalance}, 0)), 0)`,
        pointsPending: sql<number>`coalesce(sum(max(${members.pointsPending}, 0)), 0)`,
        pointsDebt: sql<number>`coalesce(sum(${members.pointsDebt}), 0)`,
        pointsEarned: sql<number>`coalesce(sum(${members.lifetimeEarned}), 0)`,
        pointsRedeemed: sql<number>`coalesce(sum(${members.lifetimeRedeemed}), 0)`,
        scored: sql<number>`coalesce(sum(${members.churnProbability} is not null), 0)`,
        meanChurn: sql<number | null>`avg(${members.churnProbability})`,
        meanClv: sql<number | null>`avg(${members.clv12m})`,
      })
      .from(members)
      .where(eq(members.programId, programId)),
    db.select({ id: tiers.id, name: tiers.name, rank: tiers.rank }).from(tiers).where(eq(tiers.programId, programId)).orderBy(tiers.rank),
    db.select({ tierId: members.tierId, members: sql<number>`count(*)` }).from(members).where(live).groupBy(members.tierId),
    db.select({ stage: members.stage, members: sql<number>`count(*)` }).from(members).where(live).groupBy(members.stage),
    db
      .select({ segment: members.valueSegment, members: sql<number>`count(*)` })
      .from(members)
      .where(and(live, isNotNull(members.valueSegment)))
      .groupBy(members.valueSegment),
    db
      .select({ bucket, members: sql<number>`count(*)` })
      .from(members)
      .where(and(live, isNotNull(members.churnProbability)))
      .groupBy(bucket),
    db
      .select({
        id: members.id,
        externalId: members.externalId,
        name: members.name,
        tierId: members.tierId,
        clv12m: members.clv12m,
        churnProbability: members.churnProbability,
        expectedPurchases90d: members.expectedPurchases90d,
        lifetimeSpend: members.lifetimeSpend,
        ordersCount: members.ordersCount,
      })
      .from(members)
      .where(and(eq(members.programId, programId), eq(members.status, "active"), isNotNull(members.clv12m)))
      .orderBy(desc(members.clv12m), members.id)
      .limit(TOP_CLV_LIMIT),
    db
      .select({ id: segments.id, name: segments.name, members: segments.memberCount, computedAt: segments.computedAt })
      .from(segments)
      .where(eq(segments.programId, programId))
      .orderBy(desc(segments.memberCount), segments.name)
      .limit(LIST_LIMIT),
    db
      .select({ day: kpiSnapshots.day, figures: kpiSnapshots.figures })
      .from(kpiSnapshots)
      .where(and(eq(kpiSnapshots.programId, programId), gte(kpiSnapshots.day, since)))
      .orderBy(kpiSnapshots.day),
    db
      .select({
        id: campaigns.id,
        name: campaigns.name,
        status: campaigns.status,
        trigger: campaigns.trigger,
        budgetMinor: campaigns.budgetMinor,
        spentMinor: campaigns.spentMinor,
      })
      .from(campaigns)
      .where(eq(campaigns.programId, programId))
      .orderBy(desc(campaigns.createdAt))
      .limit(LIST_LIMIT),
    db
      .select({
        id: experiments.id,
        campaignId: experiments.campaignId,
        status: experiments.status,
        winner: experiments.winner,
        startedAt: experiments.startedAt,
        stoppedAt: experiments.stoppedAt,
      })
      .from(experiments)
      .where(eq(experiments.programId, programId))
      .orderBy(desc(experiments.startedAt))
      .limit(LIST_LIMIT),
  ]);

  if (!program[0]) throw notFound("Program");
  const t = totals[0];
  const tierNames = new Map(tierRows.map((r) => [r.id, r]));
  const countByTier = new Map(tierCounts.map((r) => [r.tierId, num(r.members)]));
  const countByStage = new Map(stageRows.map((r) => [r.stage, num(r.members)]));
  const countByBucket = new Map(churnRows.map((r) => [num(r.bucket), num(r.members)]));
  const stages = [...LIFECYCLE_STAGES, ...[...countByStage.keys()].filter((s) => !(LIFECYCLE_STAGES as readonly string[]).includes(s))];
  const pointsOutstanding = num(t.pointsOutstanding);

  return {
    program: program[0],
    generatedAt: now,
    members: {
      total: num(t.total),
      active: num(t.active),
      blocked: num(t.blocked),
      erased: num(t.erased),
      newLast30d: num(t.newLast30d),
      purchasers: num(t.purchasers),
    },
    // Every configured tier in rank order (zero-member tiers included), then members without a tier.
    tiers: [
      ...tierRows.map((r) => ({
        tierId: r.id as string | null,
        name: r.name,
        rank: r.rank as number | null,
        members: countByTier.get(r.id) ?? 0,
      })),
      ...(countByTier.get(null) ? [{ tierId: null, name: "No tier", rank: null, members: countByTier.get(null)! }] : []),
    ],
    stages: stages.map((stage) => ({ stage, members: countByStage.get(stage) ?? 0 })),
    valueSegments: valueRows.map((r) => ({ segment: r.segment as string, members: num(r.members) })),
    churnRisk: {
      buckets: Array.from({ length: CHURN_BUCKETS }, (_, i) => ({
        from: i / CHURN_BUCKETS,
        to: (i + 1) / CHURN_BUCKETS,
        members: countByBucket.get(i) ?? 0,
      })),
      scored: num(t.scored),
      mean: t.meanChurn == null ? null : Number(t.meanChurn),
    },
    clv: {
      mean: t.meanClv == null ? null : Math.round(Number(t.meanClv)),
      top: topRows.map((r) => ({ ...r, tier: r.tierId ? (tierNames.get(r.tierId)?.name ?? null) : null })),
    },
    segments: segmentRows.map((r) => ({ ...r, members: num(r.members) })),
    points: { earned: num(t.pointsEarned), redeemed: num(t.pointsRedeemed) },
    liability: {
      pointsOutstanding,
      pointsPending: num(t.pointsPending),
      pointsAvailable: pointsOutstanding - num(t.pointsPending),
      pointsDebt: num(t.pointsDebt),
      // The liability is net of what members owe; pointCostPer1000 is minor units per 1000 points.
      moneyMinor: Math.round((Math.max(0, pointsOutstanding - num(t.pointsDebt)) * program[0].pointCostPer1000) / 1000),
      currency: program[0].currency,
    },
    kpiSnapshots: kpiRows.map((r) => ({ day: r.day, figures: r.figures })),
    campaigns: campaignRows,
    experiments: experimentRows,
  };
}
