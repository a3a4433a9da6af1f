import journal from "../../../schema/migrations/meta/_journal.json";
import { schedule } from "../../cron/schedule";
import type { Database } from "../../db/client";
import type { Env } from "../../env";
import { FANNED_OUT_JOB_NAMES } from "../../jobs/definitions";
import { AppError } from "../../lib/errors";
import { nowIso } from "../../lib/time";
import { queueConsumers } from "../../queues";

/** Seconds between runs of a cron expression of the forms in the schedule (`* …`, `*\/n …`, a daily time). */
function cronIntervalSeconds(cron: string): number {
  const minute = cron.split(/\s+/)[0];
  if (minute === "*") return 60;
  const every = /^\*\/(\d+)$/.exec(minute);
  return every ? Number(every[1]) * 60 : 86_400;
}

/** A job is stale when it has not started for this many of its intervals (or never has). */
const STALE_AFTER_INTERVALS = 3;

type JobRunRow = {
  job: string;
  trigger: string;
  started_at: string;
  duration_ms: number;
  outcome: "ok" | "error";
  rows: number;
  error: string | null;
  last_success_at: string | null;
};

const number = (v: unknown) => Number(v ?? 0);

/**
 * The deployment's health, across every program: libSQL reachable and its round-trip latency, the
 * schema migration level against the migrations this Worker was built with, the outbox and
 * webhook-delivery backlogs, the last run of every scheduled and queue job, and the deliveries the
 * queue holds (Queues report no backlog to a Worker; a claimed delivery is one handed to it).
 * Two round trips: a ping, then one read batch. An unreachable database is a 503 service_unavailable.
 */
export async function deepHealth(env: Env, db: Database, now = new Date()) {
  const stamp = nowIso(now);
  const started = Date.now();
  try {
    await db.$client.execute("SELECT 1");
  } catch (err) {
    throw new AppError("service_unavailable", "The database cannot be reached", {
      database: { reachable: false, error: String(err).slice(0, 300) },
    });
  }
  const latencyMs = Date.now() - started;
  const [migrations, outbox, webhookCursor, deliveries, runs] = await db.$client.batch(
    [
      "SELECT COUNT(*) AS applied, MAX(created_at) AS latest FROM __drizzle_migrations",
      "SELECT COUNT(*) AS undispatched, MIN(created_at) AS oldest FROM outbox_events WHERE dispatched_at IS NULL",
      `SELECT COUNT(*) AS behind FROM outbox_events WHERE rowid > COALESCE((SELECT CAST(position AS INTEGER) FROM outbox_cursors WHERE consumer = 'webhooks'), 0)`,
      {
        sql: `SELECT COUNT(*) AS pending,
                     SUM(CASE WHEN next_attempt_at <= ? THEN 1 ELSE 0 END) AS due,
                     MIN(CASE WHEN next_attempt_at <= ? THEN next_attempt_at END) AS oldest_due,
                     SUM(CASE WHEN next_attempt_at > ? AND attempts = 0 THEN 1 ELSE 0 END) AS claimed_first_attempt
              FROM webhook_deliveries WHERE status = 'pending'`,
        args: [stamp, stamp, stamp],
      },
      "SELECT job, trigger, started_at, duration_ms, outcome, rows, error, last_success_at FROM job_runs",
    ],
    "read",
  );

  const expected = journal.entries[journal.entries.length - 1];
  const applied = number(migrations.rows[0]?.applied);
  const latest = migrations.rows[0]?.latest == null ? null : number(migrations.rows[0].latest);
  const migrationLevel = {
    applied,
    expected: journal.entries.length,
    expectedTag: expected?.tag ?? null,
    upToDate: applied >= journal.entries.length && latest !== null && latest >= (expected?.when ?? 0),
  };

  const lastRuns = new Map((runs.rows as unknown as JobRunRow[]).map((r) => [r.job, r]));
  const describe = (job: string, trigger: string, intervalSeconds: number | null) => {
    const run = lastRuns.get(job);
    const stale =
      intervalSeconds !== null && (!run || now.getTime() - Date.parse(run.started_at) > STALE_AFTER_INTERVALS * intervalSeconds * 1000);
    return {
      job,
      trigger,
      lastRun: run
        ? {
            startedAt: run.started_at,
            durationMs: number(run.duration_ms),
            outcome: run.outcome,
            rows: number(run.rows),
            error: run.error,
            lastSuccessAt: run.last_success_at,
          }
        : null,
      stale,
    };
  };
  const jobs = [
    ...Object.entries(schedule).flatMap(([cron, list]) => list.map((j) => describe(j.name, cron, cronIntervalSeconds(cron)))),
    // Queue jobs run when there are messages: never stale by the clock.
    ...Object.keys(queueConsumers).map((queue) => describe(`queue:${queue}`, queue, null)),
    // Fanned-out nightly jobs: their last finished run (per program and shard: GET /v1/jobs).
    ...FANNED_OUT_JOB_NAMES.map((job) => describe(job, "loyalty-jobs", null)),
  ];

  const d = deliveries.rows[0] ?? {};
  const backlog = {
    outbox: {
      undispatched: number(outbox.rows[0]?.undispatched),
      oldestUndispatchedAt: (outbox.rows[0]?.oldest as string | null) ?? null,
      notYetFannedOutToWebhooks: number(webhookCursor.rows[0]?.behind),
    },
    webhookDeliveries: { pending: number(d.pending), due: number(d.due), oldestDueAt: (d.oldest_due as string | null) ?? null },
    queue: { webhookDeliveriesClaimed: number(d.claimed_first_attempt), queueBound: Boolean(env.WEBHOOK_QUEUE) },
  };
  const failingJobs = jobs.filter((j) => j.lastRun?.outcome === "error").map((j) => j.job);
  const staleJobs = jobs.filter((j) => j.stale).map((j) => j.job);
  return {
    ok: migrationLevel.upToDate && failingJobs.length === 0,
    checkedAt: stamp,
    database: { reachable: true, latencyMs },
    migrations: migrationLevel,
    backlog,
    jobs,
    problems: [
      ...(migrationLevel.upToDate ? [] : [`schema migrations behind: ${applied} applied, ${journal.entries.length} expected`]),
      ...failingJobs.map((j) => `job ${j} failed on its last run`),
      ...staleJobs.map((j) => `job ${j} has not run recently`),
    ],
  };
}
