import { sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import type { ServiceContext } from "../../lib/context";
import { definitionOf, requireCampaign } from "./campaigns";

type MessageCounts = {
  messages: number;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  bounced: number;
  complained: number;
  unsubscribed: number;
  converted: number;
};
const KEYS: Array<keyof MessageCounts> = [
  "messages",
  "sent",
  "delivered",
  "opened",
  "clicked",
  "bounced",
  "complained",
  "unsubscribed",
  "converted",
];

const ratio = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : null);

/** Counts with their rates; every rate is over the messages sent (handed to the channel's provider). */
function withRates(c: MessageCounts) {
  return {
    ...c,
    deliveryRate: ratio(c.delivered, c.sent),
    openRate: ratio(c.opened, c.sent),
    clickRate: ratio(c.clicked, c.sent),
    conversionRate: ratio(c.converted, c.sent),
    unsubscribeRate: ratio(c.unsubscribed, c.sent),
  };
}

/**
 * Per journey step (null for a one-shot campaign's messages): messages written, sent, and of
 * those how many the provider reported delivered, opened (a click counts as an open),
 * clicked, bounced, complained about or unsubscribed from, and how many were followed by a
 * purchase within `conversionDays` of being sent. One set-based query.
 */
async function messageCounts(db: Database, programId: string, campaignId: string, conversionDays: number) {
  const has = (types: string) => sql.raw(`EXISTS (SELECT 1 FROM message_events e WHERE e.message_id = g.id AND e.type IN (${types}))`);
  const end = sql.raw(`strftime('%Y-%m-%dT%H:%M:%fZ', g.delivered_at, '+${Math.floor(conversionDays)} days')`);
  const rows = await db.all<Record<string, number | string | null>>(sql`
    SELECT g.step_id AS stepId, COUNT(*) AS messages, SUM(g.status = 'delivered') AS sent,
      SUM(${has("'delivered'")}) AS delivered, SUM(${has("'opened', 'clicked'")}) AS opened, SUM(${has("'clicked'")}) AS clicked,
      SUM(${has("'bounced'")}) AS bounced, SUM(${has("'complained'")}) AS complained, SUM(${has("'unsubscribed'")}) AS unsubscribed,
      SUM(g.status = 'delivered' AND EXISTS (SELECT 1 FROM orders o WHERE o.member_id = g.member_id AND o.occurred_at >= g.delivered_at
        AND o.occurred_at < ${end} AND o.amount > o.refunded_amount)) AS converted
    FROM messages g WHERE g.program_id = ${programId} AND g.campaign_id = ${campaignId} GROUP BY g.step_id`);
  return new Map(
    rows.map((r) => [(r.stepId as string | null) ?? null, Object.fromEntries(KEYS.map((k) => [k, Number(r[k] ?? 0)])) as MessageCounts]),
  );
}

/**
 * A campaign's engagement: message KPIs in total (and per step for a journey) and, for a
 * journey, its funnel: runs entered, active, completed and exited (by reason), members held
 * out, and per step (in definition order) how many runs reached it and what it did.
 */
export async function campaignEngagement({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; campaignId: string; conversionDays: number };
}) {
  const row = await requireCampaign(ctx.db, input.programId, input.campaignId);
  const def = definitionOf(row);
  const counts = await messageCounts(ctx.db, input.programId, row.id, input.conversionDays);
  const total = Object.fromEntries(KEYS.map((k) => [k, [...counts.values()].reduce((s, c) => s + c[k], 0)])) as MessageCounts;
  const base = { campaignId: row.id, conversionDays: input.conversionDays, messages: withRates(total) };
  if (!def.journey) return { ...base, journey: null };
  const [runRows, stepRows, holdoutRows] = await ctx.db.batch([
    ctx.db.all<{ status: string; exitReason: string | null; n: number }>(
      sql`SELECT status, exit_reason AS exitReason, COUNT(*) AS n FROM journey_runs WHERE campaign_id = ${row.id} GROUP BY status, exit_reason`,
    ),
    ctx.db.all<{ stepId: string; outcome: string; n: number }>(
      sql`SELECT step_id AS stepId, outcome, COUNT(*) AS n FROM journey_step_runs WHERE campaign_id = ${row.id} GROUP BY step_id, outcome`,
    ),
    ctx.db.all<{ n: number }>(sql`SELECT COUNT(*) AS n FROM campaign_occurrences WHERE campaign_id = ${row.id} AND outcome = 'holdout'`),
  ]);
  const runs = { entered: 0, active: 0, completed: 0, exited: 0, holdout: Number(holdoutRows[0]?.n ?? 0) };
  const exitReasons: Record<string, number> = {};
  for (const r of runRows) {
    const n = Number(r.n);
    runs.entered += n;
    runs[r.status as "active" | "completed" | "exited"] += n;
    if (r.status === "exited" && r.exitReason) exitReasons[r.exitReason] = (exitReasons[r.exitReason] ?? 0) + n;
  }
  const steps = def.journey.steps.map((s) => {
    const outcomes: Record<string, number> = {};
    for (const r of stepRows) if (r.stepId === s.id) outcomes[r.outcome] = Number(r.n);
    const reached = Object.values(outcomes).reduce((a, b) => a + b, 0);
    const c = counts.get(s.id);
    return { stepId: s.id, type: s.type, reached, outcomes, messages: s.type === "send" ? withRates(c ?? emptyCounts()) : null };
  });
  return { ...base, journey: { runs: { ...runs, exitReasons }, steps } };
}

const emptyCounts = (): MessageCounts => Object.fromEntries(KEYS.map((k) => [k, 0])) as MessageCounts;
