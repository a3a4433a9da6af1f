import { sql } from "drizzle-orm";
import { type RowidRange, rangeEnd, rangeStart } from "../../analytics/sql";
import type { Database } from "../../db/client";
import { decideOnRequalification } from "../../domain/tiers/qualification";
import type { Tier } from "../../domain/tiers/schema";
import { newId } from "../../lib/ids";
import { windowStart } from "./ladder";

type DueRow = {
  rid: number;
  id: string;
  tierId: string | null;
  securedUntil: string | null;
  assignedTierId: string | null;
  assignedUntil: string | null;
  spend: number;
  orders: number;
  activeDays: number;
  points: number;
};

/**
 * One page of members due for requalification, with their window figures, set-based. Pages walk
 * members in storage (rowid) order, not id order: bulk-imported ids are dated by join date, so
 * an id-ordered page would touch a table page per member (see memberPage in ../../analytics/sql).
 */
async function duePage(
  db: Database,
  programId: string,
  from: string,
  now: string,
  afterRowid: number,
  limit: number,
  range: RowidRange | undefined,
): Promise<DueRow[]> {
  return db.all<DueRow>(sql`
    WITH page AS (
      SELECT rowid AS rid, id, tier_id, tier_secured_until, assigned_tier_id, assigned_tier_until FROM members
      WHERE program_id = ${programId} AND rowid > ${afterRowid}${rangeEnd(range)} AND status NOT IN ('erased', 'merged')
        AND (tier_id IS NULL OR tier_secured_until IS NULL OR tier_secured_until <= ${now})
      ORDER BY rowid LIMIT ${limit}
    ),
    -- The window's figures from the member's daily buckets (kept on write, schema/tiers.ts), whole
    -- UTC days from the window's first day: one contiguous range per member, not every order and entry.
    f AS (
      SELECT member_id, SUM(spend) AS spend, SUM(orders) AS orders, COUNT(*) FILTER (WHERE placed > 0) AS days, SUM(points) AS points
      FROM member_daily_figures WHERE member_id IN (SELECT id FROM page) AND day >= substr(${from}, 1, 10) GROUP BY member_id
    )
    SELECT page.rid AS rid, page.id AS id, page.tier_id AS tierId, page.tier_secured_until AS securedUntil,
           page.assigned_tier_id AS assignedTierId, page.assigned_tier_until AS assignedUntil,
           COALESCE(f.spend, 0) AS spend, COALESCE(f.orders, 0) AS orders, COALESCE(f.days, 0) AS activeDays, MAX(0, COALESCE(f.points, 0)) AS points
    FROM page LEFT JOIN f ON f.member_id = page.id ORDER BY page.rid`);
}

/**
 * Requalify members whose tier period has ended: renew, keep in grace, or downgrade to what
 * the window still supports (and catch upgrades a write missed). Bounded pages; each page's
 * changes commit in one batch, guarded on the tier they were decided from.
 */
export async function requalifyProgram(db: Database, programId: string, ladder: Tier[], now: Date, batchSize: number, range?: RowidRange) {
  const at = now.toISOString();
  const from = windowStart(at, ladder);
  const counts = { examined: 0, upgrade: 0, downgrade: 0, renew: 0, grace: 0 };
  // The rowid cursor lives only within this run (each run starts over), so a VACUUM renumbering
  // rowids between runs is harmless; one during a run could at worst examine a member twice or
  // skip one until the next night, and requalification is idempotent (guarded on the old tier).
  for (let afterRowid = rangeStart(range); ; ) {
    const rows = await duePage(db, programId, from, at, afterRowid, batchSize, range);
    if (rows.length === 0) break;
    afterRowid = Number(rows[rows.length - 1].rid);
    counts.examined += rows.length;
    // The page's decisions, applied set-based: three statements per page (not three per member),
    // each row guarded on the tier it was decided from, so a concurrent change wins.
    const renewals: Array<{ rid: number; id: string; from: string | null; securedUntil: string | null }> = [];
    const moves: Array<{
      rid: number;
      id: string;
      from: string | null;
      to: string;
      securedUntil: string | null;
      change: string;
      historyId: string;
      eventId: string;
      payload: Record<string, unknown>;
    }> = [];
    for (const row of rows) {
      const d = decideOnRequalification({
        tiers: ladder,
        current: { tierId: row.tierId, securedUntil: row.securedUntil },
        assigned: { tierId: row.assignedTierId, until: row.assignedUntil },
        figures: {
          spend: Number(row.spend),
          orders: Number(row.orders),
          pointsEarned: Number(row.points),
          activeDays: Number(row.activeDays),
        },
        now: at,
      });
      if (d.change === "none" || d.change === "grace") {
        if (d.change === "grace") counts.grace++;
        continue;
      }
      counts[d.change]++;
      if (d.change === "renew") {
        renewals.push({ rid: Number(row.rid), id: row.id, from: row.tierId, securedUntil: d.securedUntil });
        continue;
      }
      const to = ladder.find((t) => t.id === d.tierId)!;
      const payload = { memberId: row.id, from: row.tierId, to: to.id, toName: to.name, change: d.change, securedUntil: d.securedUntil };
      moves.push({
        rid: Number(row.rid),
        id: row.id,
        from: row.tierId,
        to: to.id,
        securedUntil: d.securedUntil,
        change: d.change,
        historyId: newId("th"),
        eventId: newId("evt"),
        payload,
      });
    }
    const statements = [];
    // Rows are found by rowid (the page's adjacent table pages); the id is only checked (unary +
    // keeps the planner off the id index, whose entries for one page are scattered).
    const guard = sql`m.rowid = json_extract(v.value, '$.rid') AND +m.id = json_extract(v.value, '$.id') AND m.tier_id IS json_extract(v.value, '$.from')`;
    if (moves.length > 0) {
      const list = JSON.stringify(moves);
      // History and events first, while the guard still sees the old tier; then the move itself.
      statements.push(
        db.run(sql`INSERT INTO tier_history (id, program_id, member_id, from_tier_id, to_tier_id, change, reason, created_at)
          SELECT json_extract(v.value, '$.historyId'), ${programId}, m.id, m.tier_id, json_extract(v.value, '$.to'), json_extract(v.value, '$.change'), 'requalification', ${at}
          FROM json_each(${list}) AS v JOIN members m ON ${guard}`),
        db.run(sql`INSERT INTO outbox_events (id, program_id, member_id, type, payload, created_at)
          SELECT json_extract(v.value, '$.eventId'), ${programId}, m.id, 'tier.changed', json_extract(v.value, '$.payload'), ${at}
          FROM json_each(${list}) AS v JOIN members m ON ${guard}`),
        db.run(sql`UPDATE members AS m SET tier_id = json_extract(v.value, '$.to'), tier_since = ${at}, tier_secured_until = json_extract(v.value, '$.securedUntil'), updated_at = ${at}
          FROM json_each(${list}) AS v WHERE ${guard}`),
      );
    }
    if (renewals.length > 0) {
      statements.push(
        db.run(sql`UPDATE members AS m SET tier_secured_until = json_extract(v.value, '$.securedUntil')
          FROM json_each(${JSON.stringify(renewals)}) AS v WHERE ${guard}`),
      );
    }
    if (statements.length > 0) await db.batch(statements as never);
    if (rows.length < batchSize) break;
  }
  return counts;
}
