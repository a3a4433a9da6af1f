import { eq, sql } from "drizzle-orm";
import { experiments } from "../../../schema";
import { welchTTestFromSums } from "../../domain/experiments";
import type { ServiceContext } from "../../lib/context";
import { experimentDefinitionOf, groupSums } from "../experiments/experiments";
import { definitionOf, requireCampaign } from "./campaigns";

/** Occurrences that actually treated the member (not held out, refused or cancelled). */
const TREATED = sql.raw(`('done', 'awarded')`);

const ratio = (num: number | null, den: number) => (num === null || den === 0 ? null : num / den);

/**
 * Campaign ROI:
 * - cost: what the campaign spent (points at the program's cost per point, rewards at their cost);
 * - attributed revenue: net order amounts of treated members within attributionDays after
 *   their first treatment (an upper bound: they might have bought anyway);
 * - incremental revenue: with a holdout, (revenue per treated member − revenue per held-out
 *   member) × treated members over the experiment's window, with a 95 % CI — the causal figure;
 * - ROI = (revenue − cost) / cost for both.
 */
export async function campaignRoi({ ctx, input }: { ctx: ServiceContext; input: { programId: string; campaignId: string } }) {
  const row = await requireCampaign(ctx.db, input.programId, input.campaignId);
  const def = definitionOf(row);
  const days = Math.floor(def.attributionDays);
  const [attributed] = await ctx.db.all<{ members: number; converters: number; revenue: number; orders: number }>(sql`
    WITH t AS (
      SELECT member_id, MIN(created_at) AS t0 FROM campaign_occurrences
      WHERE campaign_id = ${row.id} AND program_id = ${row.programId} AND outcome IN ${TREATED} GROUP BY member_id
    ), r AS (
      SELECT t.member_id, SUM(o.amount - o.refunded_amount) AS revenue, COUNT(o.id) AS orders
      FROM t LEFT JOIN orders o ON o.member_id = t.member_id AND o.occurred_at >= t.t0 AND o.occurred_at < strftime('%Y-%m-%dT%H:%M:%fZ', t.t0, ${`+${days} days`})
      GROUP BY t.member_id
    )
    SELECT COUNT(*) AS members, SUM(revenue > 0) AS converters, COALESCE(SUM(revenue), 0) AS revenue, COALESCE(SUM(orders), 0) AS orders FROM r`);
  const cost = row.spentMinor;
  const attributedRevenue = Number(attributed?.revenue ?? 0);
  const treatedMembers = Number(attributed?.members ?? 0);

  let incremental: Record<string, unknown> | null = null;
  const [experiment] = await ctx.db.select().from(experiments).where(eq(experiments.campaignId, row.id)).limit(1);
  if (experiment) {
    const xdef = experimentDefinitionOf(experiment);
    if (xdef.holdoutPct > 0) {
      const sums = await groupSums(ctx.db, experiment, xdef);
      const holdout = sums.find((s) => s.key === "holdout")!;
      const treated = sums
        .filter((s) => s.key !== "holdout")
        .reduce((a, s) => ({ n: a.n + s.n, sum: a.sum + s.revenue, sumSquares: a.sumSquares + s.revenueSq }), {
          n: 0,
          sum: 0,
          sumSquares: 0,
        });
      const test = welchTTestFromSums({ sumsA: { n: holdout.n, sum: holdout.revenue, sumSquares: holdout.revenueSq }, sumsB: treated });
      const perMemberLift = test.difference;
      const incrementalRevenue = perMemberLift === null ? null : Math.round(perMemberLift * treated.n);
      incremental = {
        windowDays: xdef.conversion.windowDays,
        treatedMembers: treated.n,
        holdoutMembers: holdout.n,
        revenuePerTreatedMember: ratio(treated.sum, treated.n),
        revenuePerHoldoutMember: ratio(holdout.revenue, holdout.n),
        incrementalRevenue,
        incrementalRevenueCi: test.ci ? [Math.round(test.ci[0] * treated.n), Math.round(test.ci[1] * treated.n)] : null,
        pValue: test.pValue,
        roi: incrementalRevenue === null ? null : ratio(incrementalRevenue - cost, cost),
      };
    }
  }
  return {
    campaignId: row.id,
    costMinor: cost,
    budgetMinor: row.budgetMinor,
    attribution: {
      windowDays: days,
      treatedMembers,
      convertedMembers: Number(attributed?.converters ?? 0),
      orders: Number(attributed?.orders ?? 0),
      revenue: attributedRevenue,
      roi: ratio(attributedRevenue - cost, cost),
    },
    incremental,
    note: incremental ? undefined : "Incremental revenue needs a holdout: make the campaign an experiment with holdoutPct > 0.",
  };
}
