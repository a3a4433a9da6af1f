import { and, desc, eq, sql } from "drizzle-orm";
import { campaigns, experiments } from "../../../schema";
import { type Database, database } from "../../db/client";
import { controlKeyOf, type ExperimentDefinition, experimentSchema } from "../../domain/campaigns/definition";
import { evaluateStopRule, pickWinner, requiredSampleSizePerGroup, twoProportionZTest, welchTTestFromSums } from "../../domain/experiments";
import type { Env } from "../../env";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import type { CampaignRow, ExperimentRow } from "../campaigns/campaigns";
import { configVersionBump } from "../program/config-version";

const ALPHA = 0.05;

/** Group sums straight from SQL: n, conversions, Σ revenue, Σ revenue² (revenue per exposed member, zeros included). */
export type GroupSums = { key: string; n: number; conversions: number; revenue: number; revenueSq: number };

export function experimentDefinitionOf(row: ExperimentRow): ExperimentDefinition {
  return experimentSchema.parse(Object.fromEntries(Object.entries(row.definition).filter(([k]) => k !== "stop")));
}

const windowEnd = (days: number) => sql.raw(`strftime('%Y-%m-%dT%H:%M:%fZ', e.exposed_at, '+${Math.floor(days)} days')`);

/**
 * Per group: exposures, conversions within the window after exposure, and the revenue
 * (net order amounts) each exposed member brought in that window — set-based, one query.
 */
export async function groupSums(db: Database, experiment: ExperimentRow, def: ExperimentDefinition): Promise<GroupSums[]> {
  const end = windowEnd(def.conversion.windowDays);
  const inWindow = (col: string) => sql.raw(`${col} >= e.exposed_at AND ${col} < `);
  const conv = def.conversion;
  const converted =
    conv.type === "purchase"
      ? sql`EXISTS (SELECT 1 FROM orders o WHERE o.member_id = e.member_id AND ${inWindow("o.occurred_at")}${end} AND o.amount > o.refunded_amount)`
      : conv.type === "redemption"
        ? sql`EXISTS (SELECT 1 FROM ledger_entries l WHERE l.member_id = e.member_id AND l.type = 'redeem' AND ${inWindow("l.created_at")}${end})`
        : conv.type === "custom"
          ? sql`EXISTS (SELECT 1 FROM outbox_events v WHERE v.program_id = e.program_id AND v.type = 'activity.recorded' AND v.member_id = e.member_id AND json_extract(v.payload, '$.kind') = ${conv.activityKind} AND ${inWindow("v.created_at")}${end})`
          : // Opened / clicked one of the campaign's messages (provider events); a click counts as an open.
            sql`EXISTS (SELECT 1 FROM message_events v WHERE v.campaign_id = ${experiment.campaignId} AND v.member_id = e.member_id
                AND v.type IN ${conv.type === "opened" ? sql`('opened', 'clicked')` : sql`('clicked')`} AND ${inWindow("v.occurred_at")}${end})`;
  const rows = await db.all<{ key: string; n: number; conversions: number; revenue: number; revenueSq: number }>(sql`
    WITH x AS (
      SELECT e.variant_key AS g, ${converted} AS converted,
        COALESCE((SELECT SUM(o.amount - o.refunded_amount) FROM orders o WHERE o.member_id = e.member_id AND ${inWindow("o.occurred_at")}${end}), 0) AS revenue
      FROM experiment_exposures e WHERE e.experiment_id = ${experiment.id}
    )
    SELECT g AS key, COUNT(*) AS n, SUM(converted) AS conversions, SUM(revenue) AS revenue, SUM(revenue * revenue) AS revenueSq FROM x GROUP BY g`);
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const keys = [...(def.holdoutPct > 0 ? ["holdout"] : []), ...def.variants.map((v) => v.key)];
  return keys.map((key) => {
    const r = byKey.get(key);
    return {
      key,
      n: Number(r?.n ?? 0),
      conversions: Number(r?.conversions ?? 0),
      revenue: Number(r?.revenue ?? 0),
      revenueSq: Number(r?.revenueSq ?? 0),
    };
  });
}

/**
 * Results: per group rate and revenue per member; against the control, the lift in rate
 * (two-proportion z-test, 95 % Wald CI) and in revenue per member (Welch's t from sums);
 * the sample size the minimum detectable effect needs per group; the stop rule; and the
 * winner the data supports. With k comparisons the decision uses α/k (Bonferroni).
 */
function computeResults(experiment: ExperimentRow, def: ExperimentDefinition, sums: GroupSums[], now: Date) {
  const controlKey = controlKeyOf(def);
  const control = sums.find((s) => s.key === controlKey)!;
  const treatments = sums.filter((s) => s.key !== controlKey);
  const comparisons = Math.max(1, treatments.length);
  const decisionAlpha = ALPHA / comparisons;
  const compare = (s: GroupSums, confidence: number) => ({
    rate: twoProportionZTest({
      conversionsA: control.conversions,
      exposuresA: control.n,
      conversionsB: s.conversions,
      exposuresB: s.n,
      confidence,
    }),
    revenue: welchTTestFromSums({
      sumsA: { n: control.n, sum: control.revenue, sumSquares: control.revenueSq },
      sumsB: { n: s.n, sum: s.revenue, sumSquares: s.revenueSq },
      confidence,
    }),
  });
  const baselineRate = control.n > 0 ? control.conversions / control.n : null;
  let requiredPerGroup: number | null = null;
  if (baselineRate !== null) {
    try {
      requiredPerGroup = requiredSampleSizePerGroup({
        baselineRate,
        minimumDetectableEffect:
          baselineRate + def.minimumDetectableEffect <= 1 ? def.minimumDetectableEffect : -def.minimumDetectableEffect,
        alpha: decisionAlpha,
      });
    } catch {
      requiredPerGroup = null;
    }
  }
  const groups = sums.map((s) => ({
    key: s.key,
    isControl: s.key === controlKey,
    exposures: s.n,
    conversions: s.conversions,
    rate: s.n > 0 ? s.conversions / s.n : null,
    revenue: s.revenue,
    revenuePerMember: s.n > 0 ? s.revenue / s.n : null,
    neededMore: requiredPerGroup === null ? null : Math.max(0, requiredPerGroup - s.n),
    vsControl: s.key === controlKey ? null : compare(s, 1 - ALPHA),
  }));
  const decisions = treatments.map((s) => ({ variantKey: s.key, result: compare(s, 1 - decisionAlpha).rate }));
  const pValues = decisions.map((d) => d.result.pValue).filter((p): p is number => p !== null);
  const stopRule = evaluateStopRule({
    startedAt: experiment.startedAt,
    now,
    maxDurationDays: def.maxDurationDays,
    pValue: pValues.length ? Math.min(...pValues) : null,
    alpha: decisionAlpha,
    exposuresPerGroup: sums.map((s) => s.n),
    requiredPerGroup,
  });
  return {
    experimentId: experiment.id,
    campaignId: experiment.campaignId,
    status: experiment.status,
    startedAt: experiment.startedAt,
    stoppedAt: experiment.stoppedAt,
    winner: experiment.winner,
    controlKey,
    conversion: def.conversion,
    confidence: 1 - ALPHA,
    decisionAlpha,
    groups,
    sampleSize: { baselineRate, minimumDetectableEffect: def.minimumDetectableEffect, requiredPerGroup },
    stopRule,
    recommendation: pickWinner({ controlKey, results: decisions }),
  };
}

async function requireExperiment(db: Database, programId: string, experimentId: string) {
  const [row] = await db
    .select({ experiment: experiments, campaign: campaigns })
    .from(experiments)
    .innerJoin(campaigns, eq(campaigns.id, experiments.campaignId))
    .where(and(eq(experiments.programId, programId), eq(experiments.id, experimentId)))
    .limit(1);
  if (!row) throw notFound("Experiment");
  return row;
}

function experimentView(e: ExperimentRow, c: Pick<CampaignRow, "id" | "name" | "status">) {
  const def = experimentDefinitionOf(e);
  return {
    id: e.id,
    campaignId: c.id,
    campaignName: c.name,
    campaignStatus: c.status,
    status: e.status,
    winner: e.winner,
    startedAt: e.startedAt,
    stoppedAt: e.stoppedAt,
    stop: (e.definition.stop as Record<string, unknown> | undefined) ?? null,
    controlKey: controlKeyOf(def),
    ...def,
  };
}

export async function listExperiments({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  const rows = await ctx.db
    .select({ experiment: experiments, campaign: campaigns })
    .from(experiments)
    .innerJoin(campaigns, eq(campaigns.id, experiments.campaignId))
    .where(eq(experiments.programId, input.programId))
    .orderBy(desc(experiments.id));
  return rows.map((r) => experimentView(r.experiment, r.campaign));
}

export async function getExperiment({ ctx, input }: { ctx: ServiceContext; input: { programId: string; experimentId: string } }) {
  const row = await requireExperiment(ctx.db, input.programId, input.experimentId);
  return experimentView(row.experiment, row.campaign);
}

export async function getExperimentResults({ ctx, input }: { ctx: ServiceContext; input: { programId: string; experimentId: string } }) {
  const { experiment } = await requireExperiment(ctx.db, input.programId, input.experimentId);
  const def = experimentDefinitionOf(experiment);
  return computeResults(experiment, def, await groupSums(ctx.db, experiment, def), new Date());
}

/**
 * End an experiment and roll out the winner: from now on every member the campaign fires
 * for gets the winner's treatment and no one is held out. If the holdout wins (doing
 * nothing beat every variant) the campaign is paused; without a winner it continues with
 * its own actions. Guarded on status so two stops cannot both apply.
 */
async function stop(
  db: Database,
  experiment: ExperimentRow,
  campaign: CampaignRow,
  winner: string | null,
  reason: string,
  by: "api" | "cron",
  now: string,
  extra: unknown[] = [],
) {
  const definition = { ...experiment.definition, stop: { reason, by, at: now } };
  const statements = [
    db
      .update(experiments)
      .set({ status: "stopped", stoppedAt: now, winner, definition })
      .where(and(eq(experiments.id, experiment.id), eq(experiments.status, "running")))
      .returning({ id: experiments.id }),
    ...(winner === "holdout"
      ? [
          db
            .update(campaigns)
            .set({ status: "paused", updatedAt: now })
            .where(and(eq(campaigns.id, campaign.id), eq(campaigns.status, "active"))),
        ]
      : []),
    configVersionBump(db, experiment.programId),
    ...extra,
  ];
  const [updated] = (await db.batch(statements as never)) as unknown as [Array<{ id: string }>];
  if (updated.length === 0) throw new AppError("conflict", "The experiment was stopped concurrently");
  return { ...experiment, status: "stopped" as const, stoppedAt: now, winner, definition };
}

export async function stopExperiment({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; experimentId: string; winner?: string };
}) {
  const row = await requireExperiment(ctx.db, input.programId, input.experimentId);
  if (row.experiment.status !== "running")
    throw new AppError("conflict", `Experiment already stopped (winner: ${row.experiment.winner ?? "none"})`);
  const def = experimentDefinitionOf(row.experiment);
  const now = new Date();
  const results = computeResults(row.experiment, def, await groupSums(ctx.db, row.experiment, def), now);
  const groupKeys = results.groups.map((g) => g.key);
  if (input.winner !== undefined && !groupKeys.includes(input.winner))
    throw new AppError("invalid_request", `winner must be one of ${groupKeys.join(", ")}`);
  const winner = input.winner ?? results.recommendation.winnerKey;
  const reason = input.winner !== undefined ? "manual_winner" : `manual:${results.recommendation.reason}`;
  const at = nowIso(now);
  const stopped = await stop(ctx.db, row.experiment, row.campaign, winner, reason, "api", at, [
    auditStatement(ctx, {
      action: "experiment.stopped",
      entityType: "experiment",
      entityId: row.experiment.id,
      before: { status: "running" },
      after: { status: "stopped", winner, reason },
    }),
  ]);
  const [campaign] = await ctx.db.select().from(campaigns).where(eq(campaigns.id, row.campaign.id)).limit(1);
  return {
    experiment: experimentView(stopped, campaign ?? row.campaign),
    results: { ...results, status: "stopped" as const, stoppedAt: at, winner },
  };
}

/** Nightly: apply the stop rule to every running experiment (significant with enough sample, or past max duration). */
export async function autoStopExperiments(env: Env, now: Date) {
  const db = database(env);
  const rows = await db
    .select({ experiment: experiments, campaign: campaigns })
    .from(experiments)
    .innerJoin(campaigns, eq(campaigns.id, experiments.campaignId))
    .where(eq(experiments.status, "running"));
  const out: Record<string, unknown> = {};
  for (const { experiment, campaign } of rows) {
    try {
      const def = experimentDefinitionOf(experiment);
      const results = computeResults(experiment, def, await groupSums(db, experiment, def), now);
      if (!results.stopRule.stop) continue;
      const winner = results.recommendation.winnerKey;
      await stop(
        db,
        experiment,
        campaign,
        winner,
        `${results.stopRule.reason}:${results.recommendation.reason}`,
        "cron",
        now.toISOString(),
      );
      out[experiment.id] = { winner, reason: results.stopRule.reason };
    } catch (err) {
      out[experiment.id] = { error: String(err) };
    }
  }
  return out;
}
