import { asc, eq, type SQL, sql } from "drizzle-orm";
import { tiers } from "../../../schema";
import { type BatchRead, batchRead, readTogether } from "../../db/batch-read";
import type { Database } from "../../db/client";
import type { Tier, TierFigures } from "../../domain/tiers/schema";
import { tierDefinitionSchema } from "../../domain/tiers/schema";
import { addDays } from "../../lib/time";

/** The program's tier ladder as domain objects, lowest rank first (batch-able: see loadTiers). */
export function tiersRead(db: Database, programId: string): BatchRead<Tier[]> {
  return batchRead([db.select().from(tiers).where(eq(tiers.programId, programId)).orderBy(asc(tiers.rank))], ([rows]) =>
    rows.map((r) => ({ ...tierDefinitionSchema.parse(r.definition), id: r.id, version: r.version })),
  );
}

export async function loadTiers(db: Database, programId: string): Promise<Tier[]> {
  const [ladder] = await readTogether(db, [tiersRead(db, programId)]);
  return ladder;
}

/**
 * The qualification window is the longest of the ladder's windows, so one set of figures
 * serves every rung (programs normally use one window, e.g. 365 days).
 */
function windowDaysOf(ladder: Tier[]): number {
  return Math.max(1, ...ladder.map((t) => t.qualification.windowDays));
}

export type WindowFigures = TierFigures & { activeDays: number; since: string | null };

/**
 * Net spend, orders, active days and points earned over [since, now], as one statement that
 * can join a batch. `since` is an ISO instant or an SQL expression (windowStartSql), and is
 * returned with the figures so a caller can check which window they cover.
 */
export function windowFiguresRead(db: Database, memberId: string, since: string | SQL): BatchRead<WindowFigures> {
  const query = db.all<{ since: string | null; spend: number; orders: number; activeDays: number; points: number }>(sql`
    WITH w(since) AS (SELECT ${since}),
    o AS (SELECT COALESCE(SUM(amount - refunded_amount), 0) AS spend,
                 COUNT(*) FILTER (WHERE refunded_amount < amount) AS orders,
                 COUNT(DISTINCT substr(occurred_at, 1, 10)) AS activeDays
          FROM orders WHERE member_id = ${memberId} AND occurred_at >= (SELECT since FROM w)),
    p AS (SELECT COALESCE(SUM(points), 0) AS points FROM ledger_entries
          WHERE member_id = ${memberId} AND type IN ('earn', 'reverse') AND created_at >= (SELECT since FROM w))
    SELECT w.since AS since, o.spend AS spend, o.orders AS orders, o.activeDays AS activeDays, p.points AS points FROM w, o, p`);
  return batchRead([query], ([rows]) => {
    const row = rows[0];
    return {
      since: row?.since ?? null,
      spend: Number(row?.spend ?? 0),
      orders: Number(row?.orders ?? 0),
      activeDays: Number(row?.activeDays ?? 0),
      pointsEarned: Math.max(0, Number(row?.points ?? 0)),
    };
  });
}

export async function windowFigures(db: Database, memberId: string, from: string): Promise<TierFigures & { activeDays: number }> {
  const [{ since: _since, ...figures }] = await readTogether(db, [windowFiguresRead(db, memberId, from)]);
  return figures;
}

/**
 * windowStart computed by SQL from the program's stored tier definitions, so the figures can be
 * read in the same batch as the ladder (NULL without tiers). Same arithmetic as addDays on a
 * `toISOString()` instant; callers compare it with windowStart(now, ladder) of the parsed
 * ladder and read again in the (unexpected) case they differ.
 */
export const windowStartSql = (programId: string, now: string) => sql`(
  SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ${now}, '-' || MAX(1, MAX(CAST(json_extract(definition, '$.qualification.windowDays') AS INTEGER))) || ' days')
  FROM tiers WHERE program_id = ${programId})`;

export const windowStart = (now: string, ladder: Tier[]) => addDays(now, -windowDaysOf(ladder));
