import { type SQL, sql } from "drizzle-orm";
import { type RowidRange, rangeEnd } from "../../analytics/sql";
import type { Database } from "../../db/client";
import { sqlId } from "../../db/sql-id";
import { systemKeyPrefix } from "../../ledger/system-keys";

const MAX_ROUNDS = 50;

/** Sweeps cover every program; one program only where an admin (or a test) asks for it. */
export type SweepScope = { programId?: string };
const programFilter = (scope: SweepScope) => (scope.programId ? sql`AND program_id = ${scope.programId}` : sql``);

/**
 * Move lots whose hold has passed from pending to available, in one batch per bounded set of
 * members. A member's pending is set to the sum of the lots still held after this batch, derived
 * in the same statement rather than decremented: a member's Durable Object may have planned a
 * debit of a pending lot before this batch and commit it after, and since its own update derives
 * pending from the lots too, neither side can subtract the same pending points twice.
 */
export async function releasePendingLots(db: Database, now: Date, batchSize: number, scope: SweepScope = {}): Promise<number> {
  const at = now.toISOString();
  const program = programFilter(scope);
  let total = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const due = sql`SELECT DISTINCT member_id FROM point_lots WHERE released = 0 AND available_at <= ${at} ${program} ORDER BY member_id LIMIT ${batchSize}`;
    const [, , released] = await db.batch([
      db.run(sql`UPDATE members SET points_pending = (
          SELECT COALESCE(SUM(remaining), 0) FROM point_lots l WHERE l.member_id = members.id AND l.released = 0 AND l.available_at > ${at}
        ), updated_at = ${at} WHERE id IN (${due})`),
      db.run(sql`INSERT INTO outbox_events (id, program_id, member_id, type, payload, created_at)
        SELECT ${sqlId("evt")}, program_id, member_id, 'points.released', json_object('memberId', member_id, 'points', SUM(remaining)), ${at}
        FROM point_lots WHERE released = 0 AND available_at <= ${at} AND member_id IN (${due}) GROUP BY program_id, member_id`),
      db.run(sql`UPDATE point_lots SET released = 1 WHERE released = 0 AND available_at <= ${at} AND member_id IN (${due})`),
    ]);
    const n = Number(released.rowsAffected ?? 0);
    total += n;
    if (n === 0) break;
  }
  return total;
}

/**
 * The batch that expires the lots `due` selects (a subquery, evaluated again by each statement
 * inside the one transaction, so all of them see the same lots): one `expire` ledger entry per
 * lot (idempotent by its request key) and its lot_allocations row, the members' balances down by
 * the same, one `points.expired` event per member. `due` must keep to lots still holding points.
 * Returns the number of lots expired.
 */
async function expireLotsIn(db: Database, due: SQL, at: string, after: SQL[] = []): Promise<number> {
  // When the points expired: the lot's date, or for an inactivity lot its member's deadline.
  const expiredAt = sql`COALESCE(expires_at, (SELECT m.inactivity_expires_at FROM members m WHERE m.id = point_lots.member_id))`;
  const [, , , , expired] = await db.batch([
    db.run(sql`INSERT INTO ledger_entries (id, program_id, member_id, type, points, reason, source_type, source_id, request_key, metadata, created_at)
      SELECT ${sqlId("led")}, program_id, member_id, 'expire', -remaining, 'Points expired', 'lot', id, ${systemKeyPrefix("expire")} || id, json_object('expiresAt', ${expiredAt}), ${at}
      FROM point_lots WHERE id IN (${due})`),
    db.run(sql`INSERT INTO lot_allocations (program_id, member_id, entry_id, lot_id, points, created_at)
      SELECT l.program_id, l.member_id, e.id, l.id, l.remaining, ${at} FROM point_lots l
      JOIN ledger_entries e ON e.program_id = l.program_id AND e.source_type = 'lot' AND e.source_id = l.id AND e.type = 'expire'
      WHERE l.id IN (${due}) AND NOT EXISTS (SELECT 1 FROM lot_allocations a WHERE a.entry_id = e.id)`),
    db.run(sql`INSERT INTO outbox_events (id, program_id, member_id, type, payload, created_at)
      SELECT ${sqlId("evt")}, program_id, member_id, 'points.expired', json_object('memberId', member_id, 'points', SUM(remaining)), ${at}
      FROM point_lots WHERE id IN (${due}) GROUP BY program_id, member_id`),
    db.run(sql`UPDATE members SET points_balance = points_balance - (
        SELECT COALESCE(SUM(remaining), 0) FROM point_lots l WHERE l.member_id = members.id AND l.id IN (${due})
      ), updated_at = ${at} WHERE id IN (SELECT member_id FROM point_lots WHERE id IN (${due}))`),
    db.run(sql`UPDATE point_lots SET remaining = 0 WHERE id IN (${due})`),
    ...after.map((statement) => db.run(statement)),
  ]);
  return Number(expired.rowsAffected ?? 0);
}

/**
 * The 5-minute expiry sweep: `date` lots past their date (the fixed-days policy, spread over
 * time), then the `inactivity` lots of members whose deadline has passed. Calendar (`period`)
 * lots, due by the million at one instant, are the fanned-out `lots.expire-period` job's.
 *
 * Race-free with the members' Durable Objects: each batch is one transaction that re-checks what
 * makes a lot due inside its statements; a debit the object planned on a lot this batch emptied
 * fails its CHECK (remaining >= 0) and is planned again; a purchase that moves a deadline either
 * commits first (the member is no longer due here) or after (its batch finds the lapsed lots
 * already expired). The object itself never spends a lot past its date or deadline, and a
 * purchase after a deadline settles the lapsed lots before it moves it (inactivityStatements).
 */
export async function expireLots(db: Database, now: Date, batchSize: number, scope: SweepScope = {}): Promise<number> {
  const at = now.toISOString();
  const program = programFilter(scope);
  let total = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const due = sql`SELECT id FROM point_lots WHERE expiry_kind = 'date' AND remaining > 0 AND expires_at <= ${at} AND released = 1 ${program} ORDER BY expires_at, id LIMIT ${batchSize}`;
    const n = await expireLotsIn(db, due, at);
    total += n;
    if (n === 0) break;
  }
  return total + (await expireInactiveMembers(db, at, batchSize, scope));
}

/**
 * Members past their inactivity deadline, a page at a time in deadline order (a keyset cursor, so
 * members whose lots are still pending do not hold the page): their released `inactivity` lots
 * expire and, with the spent ones, become `date` lots at the deadline; a member left with no
 * `inactivity` lot gets no deadline (so the next credit starts a new one and the member leaves
 * this index range).
 */
async function expireInactiveMembers(db: Database, at: string, batchSize: number, scope: SweepScope): Promise<number> {
  const program = programFilter(scope);
  let total = 0;
  let cursor = { deadline: "", id: "" };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const page = await db.all<{ id: string; deadline: string }>(sql`SELECT id, inactivity_expires_at AS deadline FROM members
      WHERE inactivity_expires_at <= ${at} ${program}
        AND (inactivity_expires_at > ${cursor.deadline} OR (inactivity_expires_at = ${cursor.deadline} AND id > ${cursor.id}))
      ORDER BY inactivity_expires_at, id LIMIT ${batchSize}`);
    if (page.length === 0) break;
    const ids = JSON.stringify(page.map((m) => m.id));
    // The deadline is checked again inside the batch: a purchase may have moved it since the page was read.
    const lapsed = sql`SELECT m.id FROM members m WHERE m.id IN (SELECT value FROM json_each(${ids})) AND m.inactivity_expires_at <= ${at}`;
    const due = sql`SELECT id FROM point_lots WHERE member_id IN (${lapsed}) AND expiry_kind = 'inactivity' AND remaining > 0 AND released = 1`;
    total += await expireLotsIn(db, due, at, [
      // The emptied lots (expired just now, or spent before) keep the date they lapsed on, so a
      // return to one of them later (a reversed redemption) finds it lapsed.
      sql`UPDATE point_lots SET expiry_kind = 'date', expires_at = (SELECT m.inactivity_expires_at FROM members m WHERE m.id = point_lots.member_id)
        WHERE member_id IN (${lapsed}) AND expiry_kind = 'inactivity' AND remaining = 0`,
      sql`UPDATE members SET inactivity_expires_at = NULL WHERE id IN (${lapsed})
        AND NOT EXISTS (SELECT 1 FROM point_lots l WHERE l.member_id = members.id AND l.expiry_kind = 'inactivity')`,
    ]);
    const last = page[page.length - 1];
    cursor = { deadline: last.deadline, id: last.id };
  }
  return total;
}

/**
 * One shard of a calendar expiry run: the program's `period` lots due at `asOf` of the members
 * in `range`, a page of `batchSize` members at a time (all of a member's lots in one batch, so
 * each member gets one `points.expired` event however the program is sharded). Returns the lots
 * expired. Run again, it finds nothing left to do.
 */
export async function expirePeriodLots(
  db: Database,
  input: { programId: string; asOf: Date; range: RowidRange; batchSize: number; now: Date },
): Promise<number> {
  const asOf = input.asOf.toISOString();
  const at = input.now.toISOString();
  const dueOf = (members: SQL) =>
    sql`SELECT id FROM point_lots WHERE member_id IN (${members}) AND expiry_kind = 'period' AND remaining > 0 AND expires_at <= ${asOf} AND released = 1`;
  let total = 0;
  for (let after = input.range.from - 1; ; ) {
    const page = await db.all<{ id: string; rid: number }>(sql`SELECT m.id, m.rowid AS rid FROM members m
      WHERE m.program_id = ${input.programId} AND m.rowid > ${after}${rangeEnd(input.range, "m.rowid")}
        AND EXISTS (SELECT 1 FROM point_lots l WHERE l.member_id = m.id AND l.expiry_kind = 'period' AND l.remaining > 0 AND l.expires_at <= ${asOf} AND l.released = 1)
      ORDER BY m.rowid LIMIT ${input.batchSize}`);
    if (page.length === 0) break;
    total += await expireLotsIn(db, dueOf(sql`SELECT value FROM json_each(${JSON.stringify(page.map((m) => m.id))})`), at);
    after = Number(page[page.length - 1].rid);
  }
  return total;
}

/** The latest calendar expiry instant due by `now` in each of these programs (those with one). */
export async function dueCalendarExpiries(db: Database, programIds: readonly string[], now: Date) {
  const at = now.toISOString();
  const rows = await db.all<{ programId: string; due: string | null }>(sql`SELECT p.value AS programId,
      (SELECT l.expires_at FROM point_lots l WHERE l.program_id = p.value AND l.remaining > 0 AND l.expiry_kind = 'period' AND l.expires_at <= ${at}
        ORDER BY l.expires_at DESC LIMIT 1) AS due
    FROM json_each(${JSON.stringify(programIds)}) p`);
  return rows.flatMap((r) => (r.due ? [{ programId: r.programId, due: r.due }] : []));
}
