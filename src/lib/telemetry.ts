/**
 * Structured logs and metrics. A log line is one JSON object on console.log (Workers Logs indexes
 * its fields, see `[observability]` in wrangler.toml); a metric is one data point in Workers
 * Analytics Engine (the METRICS binding), queried with the SQL API (README → Operations).
 *
 * What is written: ids (request, program, key, job), route patterns, statuses, counts and
 * durations. Never a secret, a request body, a member's personal data or a raw URL (its query
 * string may carry anything).
 *
 * Data points, one dataset, `index1` = the kind:
 *   request       blob1 route pattern, blob2 method, blob3 program, blob4 key id, blob5 error code, blob6 request id;
 *                 double1 duration ms, double2 status
 *   ledger_write  blob1 operation, blob2 outcome, blob3 program;
 *                 double1 duration ms, double2 attempts, double3 conflict retries, double4 group-commit size
 *   job           blob1 job, blob2 outcome, blob3 trigger (cron expression or queue), blob4 program, blob5 shard;
 *                 double1 duration ms, double2 rows
 */

type MetricsEnv = { METRICS?: AnalyticsEngineDataset };

export type MetricKind = "request" | "ledger_write" | "job";

/** Write one data point; telemetry never fails the work it measures. */
export function writeMetric(env: MetricsEnv, kind: MetricKind, blobs: ReadonlyArray<string | null>, doubles: readonly number[]) {
  try {
    env.METRICS?.writeDataPoint({ indexes: [kind], blobs: blobs.map((b) => b ?? ""), doubles: [...doubles] });
  } catch (err) {
    console.error(JSON.stringify({ level: "error", kind: "telemetry", message: String(err) }));
  }
}

/** One structured log line (level info unless given). */
export function logLine(line: { kind: string; level?: "info" | "warn" | "error" } & Record<string, unknown>) {
  console.log(JSON.stringify({ level: "info", ...line }));
}

/** The rows a job reports: the sum of the counts in its result (top level and one level down). */
function rowsOf(result: unknown): number {
  if (typeof result === "number" && Number.isFinite(result)) return result;
  if (Array.isArray(result)) return result.length;
  if (!result || typeof result !== "object") return 0;
  let rows = 0;
  for (const [key, value] of Object.entries(result)) {
    if (/duration|ms$|^now$|at$/i.test(key)) continue;
    if (typeof value === "number" && Number.isFinite(value)) rows += value;
    else if (Array.isArray(value)) rows += value.length;
  }
  return rows;
}

export type JobRun = {
  job: string;
  trigger: string;
  outcome: "ok" | "error";
  rows: number;
  durationMs: number;
  startedAt: string;
  programId?: string | null;
  shard?: string | null;
  error?: string | null;
};

/** A cron or queue job's one log line and data point. */
function recordJobTelemetry(env: MetricsEnv, run: JobRun) {
  logLine({
    kind: "job",
    level: run.outcome === "ok" ? "info" : "error",
    job: run.job,
    trigger: run.trigger,
    programId: run.programId ?? null,
    shard: run.shard ?? null,
    rows: run.rows,
    durationMs: run.durationMs,
    outcome: run.outcome,
    ...(run.error ? { error: run.error.slice(0, 500) } : {}),
  });
  writeMetric(env, "job", [run.job, run.outcome, run.trigger, run.programId ?? null, run.shard ?? null], [run.durationMs, run.rows]);
}

/** Time `work` as a job: one log line and one data point, whatever its outcome (a failure is returned, not thrown). */
export async function timedJob<T>(
  env: MetricsEnv,
  job: { job: string; trigger: string; programId?: string | null; shard?: string | null },
  work: () => Promise<T>,
  rows: (result: T) => number = rowsOf,
): Promise<{ run: JobRun; ok: true; result: T } | { run: JobRun; ok: false; error: unknown }> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  try {
    const result = await work();
    const run: JobRun = { ...job, outcome: "ok", rows: rows(result), durationMs: Date.now() - started, startedAt };
    recordJobTelemetry(env, run);
    return { run, ok: true, result };
  } catch (error) {
    const run: JobRun = { ...job, outcome: "error", rows: 0, durationMs: Date.now() - started, startedAt, error: String(error) };
    recordJobTelemetry(env, run);
    return { run, ok: false, error };
  }
}
