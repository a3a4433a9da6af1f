import { sql } from "drizzle-orm";
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
 * Expire available lots past their date: one `expire` ledger entry per lot (idempotent
 * by its request key) and its lot_allocations row, members' balances down by the same, one
 * event per member.
 */
export async function expireLots(db: Database, now: Date, batchSize: number, scope: SweepScope = {}): Promise<number> {
  const at = now.toISOString();
  const program = programFilter(scope);
  let total = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const due = sql`SELECT id FROM point_lots WHERE released = 1 AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ${at} ${program} ORDER BY expires_at, id LIMIT ${batchSize}`;
    const [, , , , expired] = await db.batch([
      db.run(sql`INSERT INTO ledger_entries (id, program_id, member_id, type, points, reason, source_type, source_id, request_key, metadata, created_at)
        SELECT ${sqlId("led")}, program_id, member_id, 'expire', -remaining, 'Points expired', 'lot', id, ${systemKeyPrefix("expire")} || id, json_object('expiresAt', expires_at), ${at}
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
    ]);
    const n = Number(expired.rowsAffected ?? 0);
    total += n;
    if (n === 0) break;
  }
  return total;
}
