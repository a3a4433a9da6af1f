import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { timestamp } from "./columns";

/**
 * The last run of every scheduled and queue job (one row per job, overwritten each run), for
 * GET /v1/health/deep. Deployment-wide: not a tenant's data.
 */
export const jobRuns = sqliteTable("job_runs", {
  job: text("job").primaryKey(),
  /** The cron expression or queue that ran it. */
  trigger: text("trigger").notNull(),
  startedAt: timestamp("started_at").notNull(),
  durationMs: integer("duration_ms").notNull(),
  outcome: text("outcome", { enum: ["ok", "error"] }).notNull(),
  rows: integer("rows").notNull(),
  error: text("error"),
  /** When it last succeeded (kept across failed runs, so a stuck job shows how long it has been failing). */
  lastSuccessAt: timestamp("last_success_at"),
});
