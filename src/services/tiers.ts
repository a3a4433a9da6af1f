import { and, asc, eq, sql } from "drizzle-orm";
import { tiers } from "../../schema";
import type { Database } from "../db/client";
import type { Tier, TierFigures } from "../domain/tiers/schema";
import { tierDefinitionSchema } from "../domain/tiers/schema";
import { addDays } from "../lib/time";

/** The program's tier ladder as domain objects, lowest rank first. */
export async function loadTiers(db: Database, programId: string): Promise<Tier[]> {
  const rows = await db.select().from(tiers).where(eq(tiers.programId, programId)).orderBy(asc(tiers.rank));
  return rows.map((r) => ({ ...tierDefinitionSchema.parse(r.definition), id: r.id }));
}

/**
 * The qualification window is the longest of the ladder's windows, so one set of figures
 * serves every rung (programs normally use one window, e.g. 365 days).
 */
export function windowDaysOf(ladder: Tier[]): number {
  return Math.max(1, ...ladder.map((t) => t.qualification.windowDays));
}

/** Net spend, orders, active days and points earned over [from, now]. */
export async function windowFigures(db: Database, memberId: string, from: string): Promise<TierFigures> {
  const [orderFigures, pointFigures] = await db.batch([
    db.all<{ spend: number; orders: number; activeDays: number }>(sql`
      SELECT COALESCE(SUM(amount - refunded_amount), 0) AS spend,
             COUNT(*) FILTER (WHERE refunded_amount < amount) AS orders,
             COUNT(DISTINCT substr(occurred_at, 1, 10)) AS activeDays
      FROM orders WHERE member_id = ${memberId} AND occurred_at >= ${from}`),
    db.all<{ points: number }>(sql`
      SELECT COALESCE(SUM(points), 0) AS points FROM ledger_entries
      WHERE member_id = ${memberId} AND type IN ('earn', 'reverse') AND created_at >= ${from}`),
  ]);
  return {
    spend: Number(orderFigures[0]?.spend ?? 0),
    orders: Number(orderFigures[0]?.orders ?? 0),
    activeDays: Number(orderFigures[0]?.activeDays ?? 0),
    pointsEarned: Math.max(0, Number(pointFigures[0]?.points ?? 0)),
  };
}

export const windowStart = (now: string, ladder: Tier[]) => addDays(now, -windowDaysOf(ladder));

export async function findTierRow(db: Database, programId: string, tierId: string) {
  const [row] = await db.select().from(tiers).where(and(eq(tiers.programId, programId), eq(tiers.id, tierId))).limit(1);
  return row;
}
