import { sql } from "drizzle-orm";
import { jobRuns } from "../../schema";
import { database } from "../db/client";
import type { Env } from "../env";
import type { JobRun } from "../lib/telemetry";

/**
 * Keep the last run of each job (one upsert per job, one batch per invocation), for the deep
 * health check. Best effort: a database that cannot take it is already failing the jobs, and
 * their log lines and data points have been written.
 */
export async function recordJobRuns(env: Env, runs: readonly JobRun[]) {
  if (runs.length === 0) return;
  const db = database(env);
  const statements = runs.map((run) =>
    db
      .insert(jobRuns)
      .values({
        job: run.job,
        trigger: run.trigger,
        startedAt: run.startedAt,
        durationMs: Math.round(run.durationMs),
        outcome: run.outcome,
        rows: Math.round(run.rows),
        error: run.error?.slice(0, 500) ?? null,
        lastSuccessAt: run.outcome === "ok" ? run.startedAt : null,
      })
      .onConflictDoUpdate({
        target: jobRuns.job,
        set: {
          trigger: sql`excluded.trigger`,
          startedAt: sql`excluded.started_at`,
          durationMs: sql`excluded.duration_ms`,
          outcome: sql`excluded.outcome`,
          rows: sql`excluded.rows`,
          error: sql`excluded.error`,
          lastSuccessAt: sql`coalesce(excluded.last_success_at, ${jobRuns.lastSuccessAt})`,
        },
      }),
  );
  try {
    await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
  } catch (err) {
    console.error(JSON.stringify({ level: "error", kind: "job_runs", message: String(err) }));
  }
}
