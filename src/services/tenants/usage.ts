import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../../db/client";

/** What one program used on one UTC day (billing). */
export type UsageCounters = { requests: number; writes: number; rowsWritten: number };

/**
 * Usage is counted in memory per isolate (Worker or Durable Object) and added to
 * program_usage_daily by a background flush at most every FLUSH_EVERY_MS (or sooner when many
 * programs are pending), so counting a request costs no round trip; an isolate that is evicted
 * before its flush loses at most those seconds of counts.
 */
const FLUSH_EVERY_MS = 10_000;
const FLUSH_AT_ENTRIES = 500;
let pending = new Map<string, UsageCounters & { programId: string; day: string }>();
let lastFlushAt = Date.now();

export function recordUsage(programId: string, delta: Partial<UsageCounters>, now = new Date()) {
  const day = now.toISOString().slice(0, 10);
  const key = `${programId}\u0000${day}`;
  let entry = pending.get(key);
  if (!entry) {
    entry = { programId, day, requests: 0, writes: 0, rowsWritten: 0 };
    pending.set(key, entry);
  }
  entry.requests += delta.requests ?? 0;
  entry.writes += delta.writes ?? 0;
  entry.rowsWritten += delta.rowsWritten ?? 0;
}

/** Whether this isolate's counts should be flushed now. */
export const usageFlushDue = () => pending.size > 0 && (Date.now() - lastFlushAt >= FLUSH_EVERY_MS || pending.size >= FLUSH_AT_ENTRIES);

/**
 * Add this isolate's counts to program_usage_daily in one batch. Counts of a program that no
 * longer exists (deleted meanwhile) are dropped, so a flush never brings a deleted program's
 * rows back. On failure the counts are put back for the next flush.
 */
export async function flushUsage(db: Database) {
  if (pending.size === 0) return;
  const taken = pending;
  pending = new Map();
  lastFlushAt = Date.now();
  const at = new Date().toISOString();
  const statements = [...taken.values()].map((e) =>
    db.run(sql`
      INSERT INTO program_usage_daily (program_id, day, requests, writes, rows_written, updated_at)
      SELECT ${e.programId}, ${e.day}, ${e.requests}, ${e.writes}, ${e.rowsWritten}, ${at}
      WHERE EXISTS (SELECT 1 FROM programs WHERE id = ${e.programId})
      ON CONFLICT (program_id, day) DO UPDATE SET
        requests = requests + excluded.requests,
        writes = writes + excluded.writes,
        rows_written = rows_written + excluded.rows_written,
        updated_at = excluded.updated_at`),
  );
  try {
    await db.batch(statements as unknown as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  } catch (err) {
    for (const e of taken.values()) recordUsage(e.programId, e, new Date(`${e.day}T12:00:00Z`));
    console.error(JSON.stringify({ level: "error", kind: "usage.flush", message: String(err) }));
  }
}
