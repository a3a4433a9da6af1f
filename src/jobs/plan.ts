import { sql } from "drizzle-orm";
import { database } from "../db/client";
import { type Env, settingsOf } from "../env";
import { dueCalendarExpiries } from "../services/ledger/lots";
import { NIGHTLY_ROOT_JOBS } from "./definitions";
import { interleaveByProgram, type JobMessage, planRunStatement, stalledRunMessages } from "./runs";

/** Programs visited per query while planning. */
const PROGRAM_PAGE = 100;
/** Messages per Queue.sendBatch (the platform's limit). */
const SEND_BATCH = 100;
/** A run with no progress for this long is continued by `jobs.resume`. */
const STALE_AFTER_MS = 15 * 60_000;
/** Runs continued per resume tick. */
const RESUME_LIMIT = 200;

/** Send messages to the `loyalty-jobs` queue, in batches. */
export async function sendJobMessages(env: Env, messages: readonly JobMessage[]) {
  if (messages.length === 0) return;
  if (!env.JOBS_QUEUE) throw new Error("JOBS_QUEUE is not bound (wrangler.toml [[queues.producers]] loyalty-jobs)");
  for (let i = 0; i < messages.length; i += SEND_BATCH) {
    await env.JOBS_QUEUE.sendBatch(messages.slice(i, i + SEND_BATCH).map((body) => ({ body, contentType: "json" as const })));
  }
}

/**
 * The nightly cron's only work for the fanned-out jobs: plan a run of each root job for every
 * program that has members (the night's date is the run key, so a re-fired cron plans nothing
 * new) and queue the plan messages, programs alternating. The queue does the rest.
 */
export async function planNightlyRuns(env: Env, now: Date, options: { shardSize?: number; programIds?: readonly string[] } = {}) {
  const db = database(env);
  const at = now.toISOString();
  const runKey = at.slice(0, 10);
  const shardSize = options.shardSize ?? settingsOf(env).JOB_SHARD_SIZE;
  const programIds: string[] = [...(options.programIds ?? [])];
  if (!options.programIds) {
    for (let after = ""; ; ) {
      const rows = await db.all<{ id: string }>(
        sql`SELECT p.id FROM programs p WHERE p.id > ${after} AND p.suspended_at IS NULL AND EXISTS (SELECT 1 FROM members m WHERE m.program_id = p.id) ORDER BY p.id LIMIT ${PROGRAM_PAGE}`,
      );
      programIds.push(...rows.map((r) => r.id));
      if (rows.length < PROGRAM_PAGE) break;
      after = rows[rows.length - 1].id;
    }
  }
  const planned: Array<{ programId: string; runId: string }> = [];
  for (let i = 0; i < programIds.length; i += PROGRAM_PAGE) {
    const page = programIds.slice(i, i + PROGRAM_PAGE);
    const inserts = page.flatMap((programId) =>
      NIGHTLY_ROOT_JOBS.map((job) => planRunStatement(db, { programId, job, runKey, asOf: at, shardSize, now: at })),
    );
    if (inserts.length > 0) await db.batch(inserts as [(typeof inserts)[number], ...typeof inserts]);
    const rows = await db.all<{ id: string; program_id: string }>(sql`SELECT id, program_id FROM program_job_runs
      WHERE run_key = ${runKey} AND status = 'planned' AND program_id IN (SELECT value FROM json_each(${JSON.stringify(page)}))
      ORDER BY program_id, job`);
    planned.push(...rows.map((r) => ({ programId: r.program_id, runId: r.id })));
  }
  const messages = interleaveByProgram(planned, (p) => p.programId).map((p): JobMessage => ({ kind: "plan", runId: p.runId }));
  await sendJobMessages(env, messages);
  return { programs: programIds.length, planned: messages.length };
}

/**
 * Calendar expiry: for each program whose latest due `period` instant (an end of month, quarter
 * or year in its zone) has no run yet, plan a `lots.expire-period` run keyed by that instant and
 * queue its plan message. Cheap when nothing is due (one index seek per program), so the
 * 5-minute cron calls it; the shards do the work, not this invocation's page cap.
 */
export async function planCalendarExpiry(env: Env, now: Date, options: { shardSize?: number; programIds?: readonly string[] } = {}) {
  const db = database(env);
  const at = now.toISOString();
  const shardSize = options.shardSize ?? settingsOf(env).JOB_SHARD_SIZE;
  const job = "lots.expire-period" as const;
  const messages: JobMessage[] = [];
  let programs = 0;
  for (let after = "", i = 0; ; i += PROGRAM_PAGE) {
    const page = options.programIds
      ? options.programIds.slice(i, i + PROGRAM_PAGE)
      : (await db.all<{ id: string }>(sql`SELECT id FROM programs WHERE id > ${after} ORDER BY id LIMIT ${PROGRAM_PAGE}`)).map((r) => r.id);
    if (page.length === 0) break;
    after = page[page.length - 1];
    const due = await dueCalendarExpiries(db, page, now);
    programs += due.length;
    if (due.length > 0) {
      const keyOf = (d: { due: string }) => `expire:${d.due}`;
      const inserts = due.map((d) =>
        planRunStatement(db, { programId: d.programId, job, runKey: keyOf(d), asOf: d.due, shardSize, now: at }),
      );
      await db.batch(inserts as [(typeof inserts)[number], ...typeof inserts]);
      const rows = await db.all<{
        id: string;
      }>(sql`SELECT r.id FROM program_job_runs r JOIN json_each(${JSON.stringify(due.map((d) => [d.programId, keyOf(d)]))}) k
        ON r.program_id = json_extract(k.value, '$[0]') AND r.run_key = json_extract(k.value, '$[1]')
        WHERE r.job = ${job} AND r.status = 'planned'`);
      messages.push(...rows.map((r): JobMessage => ({ kind: "plan", runId: r.id })));
    }
    if (page.length < PROGRAM_PAGE) break;
  }
  await sendJobMessages(env, messages);
  return { programs, planned: messages.length };
}

/** Continue runs that stopped making progress (see stalledRunMessages). */
export async function resumeStalledRuns(env: Env, now: Date, staleAfterMs = STALE_AFTER_MS) {
  const db = database(env);
  const messages = await stalledRunMessages(db, new Date(now.getTime() - staleAfterMs).toISOString(), now.toISOString(), RESUME_LIMIT);
  await sendJobMessages(env, messages);
  return { resumed: messages.length };
}
