import { eq, type SQL, sql } from "drizzle-orm";
import { programs } from "../../schema";
import type { Database } from "../db/client";
import { sqlId } from "../db/sql-id";
import {
  DEFAULT_LIFECYCLE_THRESHOLDS,
  LIFECYCLE_STAGES,
  type LifecycleThresholds,
  lifecycleThresholdsSchema,
} from "../domain/lifecycle/stages";
import { lastEngagedColumn, type PageLimits, rowsAffected, type SweepProgress, sweepMemberPages, wholeDaysSince } from "./sql";

/** The program's lifecycle thresholds (`programs.settings.lifecycle`); defaults when unset or invalid. */
export async function lifecycleThresholdsOf(db: Database, programId: string): Promise<LifecycleThresholds> {
  const [row] = await db.select({ settings: programs.settings }).from(programs).where(eq(programs.id, programId)).limit(1);
  const stored = (row?.settings as Record<string, unknown> | undefined)?.lifecycle;
  if (stored === undefined) return DEFAULT_LIFECYCLE_THRESHOLDS;
  const parsed = lifecycleThresholdsSchema.safeParse(stored);
  if (!parsed.success) console.error(JSON.stringify({ level: "warn", programId, message: "invalid settings.lifecycle; using defaults" }));
  return parsed.success ? parsed.data : DEFAULT_LIFECYCLE_THRESHOLDS;
}

/** Stage name from its severity (index in LIFECYCLE_STAGES). */
const stageNamed = (severity: SQL) =>
  sql`(CASE ${severity} ${sql.raw(LIFECYCLE_STAGES.map((s, i) => `WHEN ${i} THEN '${s}'`).join(" "))} END)`;

/**
 * `lifecycleStage` (domain/lifecycle/stages.ts) as a SQL expression over a `members` row, so
 * the cron moves stages set-based. Severities: new 0, active 1, dormant 2, at_risk 3, churned 4;
 * "worse of" is MAX. Day counts are whole days like `wholeDaysBetween`.
 */
function lifecycleStageSql(t: LifecycleThresholds, now: string): SQL {
  const joined = wholeDaysSince("created_at", now);
  // Silence since the last purchase, or since the last purchase or activity when the program counts activities.
  const lastEngaged = lastEngagedColumn(t.recency);
  const silent = wholeDaysSince(lastEngaged, now);
  const bySilence = (days: SQL) =>
    sql`(CASE WHEN ${days} > ${t.churnedAfterDays} THEN 4 WHEN ${days} > ${t.atRiskAfterDays} THEN 3 WHEN ${days} > ${t.dormantAfterDays} THEN 2 ELSE 1 END)`;
  // The churn model may only make a purchaser's stage worse, never better.
  const byChurn = sql`(CASE WHEN churn_probability IS NULL THEN 1 WHEN churn_probability >= ${t.churnProbabilityChurned} THEN 4
    WHEN churn_probability >= ${t.churnProbabilityAtRisk} THEN 3 ELSE 1 END)`;
  return sql`(CASE
    WHEN ${sql.raw(lastEngaged)} IS NULL THEN (CASE WHEN ${joined} <= ${t.newDays} THEN 'new' ELSE ${stageNamed(sql`MAX(2, ${bySilence(joined)})`)} END)
    WHEN ${joined} <= ${t.newDays} AND orders_count <= 1 THEN 'new'
    ELSE ${stageNamed(sql`MAX(${bySilence(silent)}, ${byChurn})`)} END)`;
}

export type LifecycleOutcome = SweepProgress & { changed: number };

/**
 * Move every (non-erased) member to their current stage, page by page. Per page, one batch:
 * a `stage.changed` outbox event {memberId, from, to} for each member whose stage differs,
 * then the UPDATE of stage and stage_since for exactly those rows. A rerun finds nothing to
 * change, so it writes no events. Event ids carry the time each page is written (see sqlId).
 */
export async function moveLifecycleStages(
  db: Database,
  programId: string,
  thresholds: LifecycleThresholds,
  now: Date,
  limits: PageLimits,
): Promise<LifecycleOutcome> {
  const at = now.toISOString();
  const next = lifecycleStageSql(thresholds, at);
  let changed = 0;
  const progress = await sweepMemberPages(
    db,
    programId,
    limits,
    (page) => [
      db.run(sql`INSERT INTO outbox_events (id, program_id, member_id, type, payload, created_at)
        SELECT ${sqlId("evt")}, program_id, id, 'stage.changed', json_object('memberId', id, 'from', stage, 'to', next_stage), ${at}
        FROM (SELECT id, program_id, stage, ${next} AS next_stage FROM members WHERE rowid IN (${page}) AND status NOT IN ('erased', 'merged'))
        WHERE next_stage <> stage`),
      db.run(sql`UPDATE members SET stage = ${next}, stage_since = ${at}, updated_at = ${at}
        WHERE rowid IN (${page}) AND status NOT IN ('erased', 'merged') AND stage <> ${next}`),
    ],
    ([events]) => (changed += rowsAffected(events)),
  );
  return { ...progress, changed };
}
