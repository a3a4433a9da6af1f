import { and, asc, eq, sql } from "drizzle-orm";
import { acquisitionSpend, budgets, programs } from "../../../schema";
import { localMonthRange } from "../../domain/local-time";
import type { ServiceContext } from "../../lib/context";
import { notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { configVersionBump } from "../program/config-version";
import { timeZoneOf } from "../program/local-day";

/** "YYYY-MM", a month of the program's calendar → [its first instant, the next month's first instant) as UTC ISO strings. */
async function periodRange(ctx: ServiceContext, programId: string, period: string): Promise<[string, string]> {
  const { start, end } = localMonthRange(period, await timeZoneOf(ctx.db, programId));
  return [start, end];
}

/**
 * What the whole program cost in a period, from the books: every point credited (earn and
 * positive adjustments, all sources) at the program's cost per point, and every reward
 * issued at its cost. Set-based over the ledger's (program, created_at) index.
 */
async function programCost(ctx: ServiceContext, programId: string, period: string) {
  const [from, to] = await periodRange(ctx, programId, period);
  const [row] = await ctx.db.all<{ points: number; costPer1000: number; rewards: number; rewardsCost: number; campaignPoints: number }>(sql`
    SELECT
      (SELECT COALESCE(SUM(points), 0) FROM ledger_entries WHERE program_id = ${programId} AND created_at >= ${from} AND created_at < ${to} AND points > 0 AND type IN ('earn', 'adjust') AND source_type <> 'coupon') AS points,
      (SELECT COALESCE(SUM(points), 0) FROM ledger_entries WHERE program_id = ${programId} AND created_at >= ${from} AND created_at < ${to} AND source_type = 'campaign' AND points > 0) AS campaignPoints,
      (SELECT point_cost_per_1000 FROM programs WHERE id = ${programId}) AS costPer1000,
      (SELECT COUNT(*) FROM coupons WHERE program_id = ${programId} AND issued_at >= ${from} AND issued_at < ${to}) AS rewards,
      (SELECT COALESCE(SUM(r.cost_minor), 0) FROM coupons c JOIN rewards r ON r.id = c.reward_id WHERE c.program_id = ${programId} AND c.issued_at >= ${from} AND c.issued_at < ${to}) AS rewardsCost`);
  const points = Number(row?.points ?? 0);
  const pointsCostMinor = Math.ceil((points * Number(row?.costPer1000 ?? 0)) / 1000);
  const rewardsCostMinor = Number(row?.rewardsCost ?? 0);
  return {
    pointsIssued: points,
    campaignPointsIssued: Number(row?.campaignPoints ?? 0),
    pointsCostMinor,
    rewardsIssued: Number(row?.rewards ?? 0),
    rewardsCostMinor,
    totalMinor: pointsCostMinor + rewardsCostMinor,
  };
}

/**
 * Campaign spend already booked in a period (each campaign ledger entry carries its cost), for a new budget row. A coupon is a
 * campaign's when a campaign award issued it (its key is a system campaign key): a client's key that merely looks like one is not.
 */
async function campaignSpendIn(ctx: ServiceContext, programId: string, period: string) {
  const [from, to] = await periodRange(ctx, programId, period);
  const [row] = await ctx.db.all<{ spent: number }>(sql`
    SELECT COALESCE((SELECT SUM(json_extract(metadata, '$.costMinor')) FROM ledger_entries WHERE program_id = ${programId} AND source_type = 'campaign' AND created_at >= ${from} AND created_at < ${to}), 0)
      + COALESCE((SELECT SUM(r.cost_minor) FROM coupons c JOIN rewards r ON r.id = c.reward_id WHERE c.program_id = ${programId} AND c.issued_at >= ${from} AND c.issued_at < ${to}
          AND EXISTS (SELECT 1 FROM ledger_requests q WHERE q.program_id = c.program_id AND q.origin = 'system' AND q.idempotency_key = c.request_key AND q.operation = 'campaign.award')), 0) AS spent`);
  return Number(row?.spent ?? 0);
}

type BudgetRow = typeof budgets.$inferSelect;

async function budgetView(ctx: ServiceContext, row: BudgetRow) {
  return {
    period: row.period,
    amountMinor: row.amountMinor,
    campaignSpentMinor: row.spentMinor,
    remainingMinor: Math.max(0, row.amountMinor - row.spentMinor),
    utilisation: row.amountMinor > 0 ? row.spentMinor / row.amountMinor : null,
    programCost: await programCost(ctx, row.programId, row.period),
    createdAt: row.createdAt,
  };
}

/**
 * Set a period's budget. It caps what campaigns may award in that month (live, guarded by
 * budgets_spend_guard in the award batch); the program's whole cost is reported beside it.
 * A new period starts from the campaign spend already booked in it.
 */
export async function putBudget({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; period: string; amountMinor: number };
}) {
  const [before] = await ctx.db
    .select()
    .from(budgets)
    .where(and(eq(budgets.programId, input.programId), eq(budgets.period, input.period)))
    .limit(1);
  const now = nowIso();
  const spent = before ? before.spentMinor : await campaignSpendIn(ctx, input.programId, input.period);
  await ctx.db.batch([
    ctx.db
      .insert(budgets)
      .values({
        id: newId("bud"),
        programId: input.programId,
        period: input.period,
        amountMinor: input.amountMinor,
        spentMinor: spent,
        createdAt: now,
      })
      .onConflictDoUpdate({ target: [budgets.programId, budgets.period], set: { amountMinor: input.amountMinor } }),
    configVersionBump(ctx.db, input.programId),
    auditStatement(ctx, {
      action: before ? "budget.updated" : "budget.created",
      entityType: "budget",
      entityId: input.period,
      before: before ? { amountMinor: before.amountMinor } : null,
      after: { amountMinor: input.amountMinor },
    }),
  ]);
  return { created: !before, budget: await getBudget({ ctx, input }) };
}

export async function getBudget({ ctx, input }: { ctx: ServiceContext; input: { programId: string; period: string } }) {
  const [row] = await ctx.db
    .select()
    .from(budgets)
    .where(and(eq(budgets.programId, input.programId), eq(budgets.period, input.period)))
    .limit(1);
  if (!row) throw notFound(`Budget for ${input.period}`);
  return budgetView(ctx, row);
}

export async function listBudgets({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  const rows = await ctx.db.select().from(budgets).where(eq(budgets.programId, input.programId)).orderBy(asc(budgets.period));
  return Promise.all(rows.map((r) => budgetView(ctx, r)));
}

export async function putAcquisitionSpend({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; channel: string; period: string; amountMinor: number };
}) {
  const [before] = await ctx.db
    .select()
    .from(acquisitionSpend)
    .where(
      and(
        eq(acquisitionSpend.programId, input.programId),
        eq(acquisitionSpend.channel, input.channel),
        eq(acquisitionSpend.period, input.period),
      ),
    )
    .limit(1);
  const now = nowIso();
  await ctx.db.batch([
    ctx.db
      .insert(acquisitionSpend)
      .values({
        id: newId("acq"),
        programId: input.programId,
        channel: input.channel,
        period: input.period,
        amountMinor: input.amountMinor,
        createdAt: now,
      })
      .onConflictDoUpdate({
        target: [acquisitionSpend.programId, acquisitionSpend.channel, acquisitionSpend.period],
        set: { amountMinor: input.amountMinor },
      }),
    auditStatement(ctx, {
      action: "acquisition_spend.set",
      entityType: "acquisition_spend",
      entityId: `${input.channel}/${input.period}`,
      before: before ? { amountMinor: before.amountMinor } : null,
      after: { amountMinor: input.amountMinor },
    }),
  ]);
  return { created: !before, channel: input.channel, period: input.period, amountMinor: input.amountMinor };
}

/**
 * CAC and LTV:CAC per acquisition channel over whole months [from, to]: acquisition spend in those
 * months ÷ members who joined through the channel in them (members.acquisition_channel); LTV is
 * the mean 12-month CLV (members.clv_12m, from the nightly scores) of those members who have been
 * scored, and LTV:CAC that over the CAC. Members without a channel are reported as "unattributed"
 * (no spend, so no CAC).
 */
export async function customerAcquisitionCost({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; from: string; to: string };
}) {
  const [start] = await periodRange(ctx, input.programId, input.from);
  const [, end] = await periodRange(ctx, input.programId, input.to);
  const rows = await ctx.db.all<{
    channel: string | null;
    spend: number;
    newMembers: number;
    scored: number;
    clvSum: number;
    spendSum: number;
  }>(sql`
    WITH s AS (
      SELECT channel, SUM(amount_minor) AS spend FROM acquisition_spend
      WHERE program_id = ${input.programId} AND period >= ${input.from} AND period <= ${input.to} GROUP BY channel
    ), m AS (
      SELECT acquisition_channel AS channel, COUNT(*) AS n, COUNT(clv_12m) AS scored, COALESCE(SUM(clv_12m), 0) AS clvSum,
             COALESCE(SUM(lifetime_spend), 0) AS spendSum
      FROM members
      WHERE program_id = ${input.programId} AND created_at >= ${start} AND created_at < ${end} GROUP BY acquisition_channel
    ), k AS (SELECT channel FROM s UNION SELECT channel FROM m)
    SELECT k.channel AS channel, COALESCE(s.spend, 0) AS spend, COALESCE(m.n, 0) AS newMembers,
           COALESCE(m.scored, 0) AS scored, COALESCE(m.clvSum, 0) AS clvSum, COALESCE(m.spendSum, 0) AS spendSum
    FROM k LEFT JOIN s ON s.channel IS k.channel LEFT JOIN m ON m.channel IS k.channel ORDER BY k.channel`);
  const ltvOf = (scored: number, clvSum: number) => (scored === 0 ? null : clvSum / scored);
  const ltvToCac = (ltv: number | null, cac: number | null) => (ltv === null || cac === null || cac === 0 ? null : ltv / cac);
  const channels = rows.map((r) => {
    const spend = Number(r.spend);
    const n = Number(r.newMembers);
    const cacMinor = r.channel === null || n === 0 ? null : spend / n;
    const ltvMinor = ltvOf(Number(r.scored), Number(r.clvSum));
    return {
      channel: r.channel ?? "unattributed",
      spendMinor: spend,
      newMembers: n,
      cacMinor,
      scoredMembers: Number(r.scored),
      ltvMinor,
      spendToDateMinor: Number(r.spendSum),
      ltvToCac: ltvToCac(ltvMinor, cacMinor),
    };
  });
  const totalSpend = channels.reduce((a, c) => a + c.spendMinor, 0);
  const totalNew = channels.reduce((a, c) => a + c.newMembers, 0);
  const totalScored = rows.reduce((a, r) => a + Number(r.scored), 0);
  const totalLtv = ltvOf(
    totalScored,
    rows.reduce((a, r) => a + Number(r.clvSum), 0),
  );
  const blended = totalNew === 0 ? null : totalSpend / totalNew;
  const [currency] = await ctx.db.select({ currency: programs.currency }).from(programs).where(eq(programs.id, input.programId)).limit(1);
  return {
    from: input.from,
    to: input.to,
    currency: currency?.currency ?? null,
    channels,
    total: {
      spendMinor: totalSpend,
      newMembers: totalNew,
      blendedCacMinor: blended,
      scoredMembers: totalScored,
      ltvMinor: totalLtv,
      ltvToCac: ltvToCac(totalLtv, blended),
    },
  };
}
