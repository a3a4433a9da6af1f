import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { localDayRuns, programs } from "../../../schema";
import type { Database } from "../../db/client";
import { localDate } from "../../domain/local-time";

export type ProgramDay = { programId: string; timeZone: string; day: string };

/** Each program's zone, for turning instants into its local dates. */
async function timeZonesOf(db: Database, programIds: readonly string[]): Promise<Map<string, string>> {
  if (programIds.length === 0) return new Map();
  const rows = await db
    .select({ id: programs.id, timeZone: programs.timeZone })
    .from(programs)
    .where(inArray(programs.id, [...new Set(programIds)]));
  return new Map(rows.map((r) => [r.id, r.timeZone]));
}

/** The program's zone (UTC when the program is unknown). */
export async function timeZoneOf(db: Database, programId: string): Promise<string> {
  return (await timeZonesOf(db, [programId])).get(programId) ?? "UTC";
}

/**
 * Among `programIds`, the programs for which once-a-day `job` has not run for their local
 * date at `now` yet, with that date. A zone change that moves a program's date back can run
 * a job again for a date it already did: the jobs are idempotent per date (occurrence and
 * system keys), so that only costs the reads.
 */
export async function programsDueToday(db: Database, job: string, programIds: readonly string[], now: Date): Promise<ProgramDay[]> {
  if (programIds.length === 0) return [];
  const rows = await db
    .select({ id: programs.id, timeZone: programs.timeZone, lastDay: localDayRuns.day })
    .from(programs)
    .leftJoin(localDayRuns, and(eq(localDayRuns.programId, programs.id), eq(localDayRuns.job, job)))
    // A suspended program's once-a-day jobs wait: they run for its date once it is resumed.
    .where(and(inArray(programs.id, [...new Set(programIds)]), isNull(programs.suspendedAt)));
  return rows
    .map((r) => ({ programId: r.id, timeZone: r.timeZone, day: localDate(now, r.timeZone), lastDay: r.lastDay }))
    .filter((r) => r.lastDay !== r.day)
    .map(({ programId, timeZone, day }) => ({ programId, timeZone, day }));
}

/** Record that `job` ran for the program's local `day`; after its work succeeded, so a failure is retried next hour. */
export async function markRan(db: Database, job: string, p: ProgramDay, now: Date) {
  await db
    .insert(localDayRuns)
    .values({ programId: p.programId, job, day: p.day, ranAt: now.toISOString() })
    .onConflictDoUpdate({ target: [localDayRuns.programId, localDayRuns.job], set: { day: p.day, ranAt: sql`excluded.ran_at` } });
}
