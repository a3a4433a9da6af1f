import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, id, json, programId, timestamp } from "./columns";

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

/**
 * One run of a fanned-out nightly job for one program (src/jobs/): planned by the nightly
 * cron or by the run it depends on, split into shards over the member table, worked shard by
 * shard by the `loyalty-jobs` queue. `runKey` (the night it belongs to) makes planning
 * idempotent: a re-fired cron finds the run it already planned and continues it.
 */
export const programJobRuns = sqliteTable(
  "program_job_runs",
  {
    id: id(),
    programId: programId(),
    job: text("job").notNull(),
    runKey: text("run_key").notNull(),
    /** The instant every shard computes "now" from, so a re-delivered shard gives the same result. */
    asOf: timestamp("as_of").notNull(),
    /** planned (shards not split yet) → running → ok | error. */
    status: text("status", { enum: ["planned", "running", "ok", "error"] }).notNull(),
    /** What every shard needs and must not recompute (fit id, RFM edges…), fixed when the run is split. */
    params: json<Record<string, unknown>>("params"),
    shardsTotal: integer("shards_total").notNull().default(0),
    shardsDone: integer("shards_done").notNull().default(0),
    rows: integer("rows").notNull().default(0),
    error: text("error"),
    createdAt: createdAt(),
    startedAt: timestamp("started_at"),
    finishedAt: timestamp("finished_at"),
    /** Last time a shard finished or was handed to the queue: a run with no progress for a while is resumed. */
    progressAt: timestamp("progress_at").notNull(),
  },
  (t) => [
    uniqueIndex("program_job_runs_key_idx").on(t.programId, t.job, t.runKey),
    index("program_job_runs_program_idx").on(t.programId, t.createdAt),
    index("program_job_runs_status_idx").on(t.status, t.progressAt),
  ],
);

/**
 * A shard of a run: members whose rowid is in [fromRowid, toRowid) (toRowid null: to the end),
 * in storage order. pending → queued (a message is on the queue) → done; `rows` is what it changed.
 */
export const programJobShards = sqliteTable(
  "program_job_shards",
  {
    runId: text("run_id").notNull(),
    shard: integer("shard").notNull(),
    fromRowid: integer("from_rowid").notNull(),
    toRowid: integer("to_rowid"),
    status: text("status", { enum: ["pending", "queued", "done"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    rows: integer("rows").notNull().default(0),
    error: text("error"),
    queuedAt: timestamp("queued_at"),
    doneAt: timestamp("done_at"),
  },
  (t) => [primaryKey({ columns: [t.runId, t.shard] }), index("program_job_shards_status_idx").on(t.runId, t.status, t.shard)],
);
