// Runs and shards of the fanned-out jobs (schema/operations.ts: program_job_runs,
// program_job_shards). Every transition is a guarded statement, so a re-delivered message, a
// re-fired cron or a resumed run never does a step twice:
//   planned  → running   when a `plan` message splits the run into shards (params fixed);
//   shard pending → queued → done, at most WINDOW queued per run: each finished shard queues
//            the run's next one, so a big program never has more than WINDOW messages ahead of
//            a small one (tenants interleave);
//   running  → ok        when the last shard is done, in the same batch that plans the next job.
import { and, eq, sql } from "drizzle-orm";
import { programJobRuns, programJobShards } from "../../schema";
import type { Database } from "../db/client";
import { newId } from "../lib/ids";
import { type FannedOutJob, jobDefinition } from "./definitions";

export type JobMessage = { kind: "plan"; runId: string } | { kind: "shard"; runId: string; shard: number };

/** Shards of one run on the queue at once. */
const WINDOW = 4;
/** A shard tried this often without finishing fails its run. */
const MAX_SHARD_ATTEMPTS = 10;

type Run = typeof programJobRuns.$inferSelect;

/** A run of `job` for the night `runKey`, or the one already planned (planning is idempotent). */
export function planRunStatement(
  db: Database,
  input: { programId: string; job: FannedOutJob; runKey: string; asOf: string; shardSize: number; now: string },
) {
  return db
    .insert(programJobRuns)
    .values({
      id: newId("jrun"),
      programId: input.programId,
      job: input.job,
      runKey: input.runKey,
      asOf: input.asOf,
      status: "planned",
      params: { shardSize: input.shardSize },
      createdAt: input.now,
      progressAt: input.now,
    })
    .onConflictDoNothing();
}

export async function runById(db: Database, runId: string): Promise<Run | undefined> {
  const [run] = await db.select().from(programJobRuns).where(eq(programJobRuns.id, runId)).limit(1);
  return run;
}

export async function shardOf(db: Database, runId: string, shard: number) {
  const [row] = await db
    .select()
    .from(programJobShards)
    .where(and(eq(programJobShards.runId, runId), eq(programJobShards.shard, shard)))
    .limit(1);
  return row;
}

/** Lower rowid bounds of shards of `shardSize` members, in storage order (served by members_program_idx). */
export async function shardBounds(db: Database, programId: string, shardSize: number): Promise<number[]> {
  const rows = await db.all<{ rid: number }>(sql`SELECT rid FROM (
      SELECT rowid AS rid, ROW_NUMBER() OVER (ORDER BY rowid) - 1 AS n FROM members WHERE program_id = ${programId})
    WHERE n % ${shardSize} = 0 ORDER BY rid`);
  // The first shard starts at rowid 1 and the last is open-ended, so members added since are covered.
  const bounds = rows.map((r) => Number(r.rid));
  if (bounds.length === 0) return [1];
  bounds[0] = 1;
  return bounds;
}

/**
 * Split a planned run: fix its params, write its shards and queue the first WINDOW of them.
 * A run whose job has nothing to do (no tiers, no fit yet) ends here with no shards. Returns the
 * messages to send.
 */
export async function splitRun(db: Database, run: Run, now: string): Promise<JobMessage[]> {
  if (run.status !== "planned") return [];
  const definition = jobDefinition(run.job);
  if (!definition) throw new Error(`Unknown job ${run.job}`);
  const shardSize = Number(run.params?.shardSize ?? 5000);
  const prepared = await definition.prepare(db, run.programId, new Date(run.asOf));
  const params = { shardSize, ...(prepared ?? {}) };
  const bounds = prepared === null ? [] : definition.sharded ? await shardBounds(db, run.programId, shardSize) : [1];
  const shards = bounds.map((from, i) => [i, from, bounds[i + 1] ?? null]);
  const guard = and(eq(programJobRuns.id, run.id), eq(programJobRuns.status, "planned"));
  await db.batch([
    db.run(sql`INSERT INTO program_job_shards (run_id, shard, from_rowid, to_rowid, status)
      SELECT ${run.id}, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), 'pending'
      FROM json_each(${JSON.stringify(shards)}) WHERE EXISTS (SELECT 1 FROM program_job_runs WHERE id = ${run.id} AND status = 'planned')
      ON CONFLICT DO NOTHING`),
    db.update(programJobRuns).set({ status: "running", params, shardsTotal: shards.length, startedAt: now, progressAt: now }).where(guard),
  ]);
  if (shards.length === 0) return finishIfComplete(db, run.id, now);
  return (await queueNextShards(db, run.id, WINDOW, now)).map((shard) => ({ kind: "shard", runId: run.id, shard }));
}

/** Move up to `n` pending shards of a run to queued; returns their numbers. */
async function queueNextShards(db: Database, runId: string, n: number, now: string): Promise<number[]> {
  if (n <= 0) return [];
  const rows = await db.all<{ shard: number }>(sql`UPDATE program_job_shards SET status = 'queued', queued_at = ${now}
    WHERE run_id = ${runId} AND shard IN (SELECT shard FROM program_job_shards WHERE run_id = ${runId} AND status = 'pending' ORDER BY shard LIMIT ${n})
    RETURNING shard`);
  return rows.map((r) => Number(r.shard)).sort((a, b) => a - b);
}

/**
 * Record a finished shard (once: a re-delivered one changes nothing), queue the run's next
 * pending shard, and when it was the last, finish the run and plan the job that follows.
 */
export async function completeShard(db: Database, runId: string, shard: number, rows: number, now: string): Promise<JobMessage[]> {
  const [marked] = await db.batch([
    db.all<{ shard: number }>(sql`UPDATE program_job_shards SET status = 'done', rows = ${rows}, done_at = ${now}, error = NULL
      WHERE run_id = ${runId} AND shard = ${shard} AND status <> 'done' RETURNING shard`),
    db.run(sql`UPDATE program_job_runs SET
        shards_done = (SELECT COUNT(*) FROM program_job_shards WHERE run_id = ${runId} AND status = 'done'),
        rows = (SELECT COALESCE(SUM(rows), 0) FROM program_job_shards WHERE run_id = ${runId} AND status = 'done'),
        progress_at = ${now}
      WHERE id = ${runId}`),
  ]);
  const next = marked.length > 0 ? await queueNextShards(db, runId, 1, now) : [];
  const messages: JobMessage[] = next.map((s) => ({ kind: "shard", runId, shard: s }));
  return [...messages, ...(await finishIfComplete(db, runId, now))];
}

/** Finish a run whose shards are all done (once) and plan its successor; returns the successor's plan message. */
async function finishIfComplete(db: Database, runId: string, now: string): Promise<JobMessage[]> {
  const run = await runById(db, runId);
  if (!run) return [];
  const definition = jobDefinition(run.job);
  const nextJob = definition?.next as FannedOutJob | undefined;
  const statements = [
    db.all<{ id: string }>(sql`UPDATE program_job_runs SET status = 'ok', finished_at = ${now}, progress_at = ${now}, error = NULL
      WHERE id = ${runId} AND status = 'running' AND shards_done >= shards_total RETURNING id`),
  ] as const;
  const [finished] = await db.batch([
    ...statements,
    ...(nextJob
      ? [
          db.run(sql`INSERT INTO program_job_runs (id, program_id, job, run_key, as_of, status, params, created_at, progress_at,
              shards_total, shards_done, rows)
            SELECT ${newId("jrun")}, program_id, ${nextJob}, run_key, as_of, 'planned', json_object('shardSize', json_extract(params, '$.shardSize')),
              ${now}, ${now}, 0, 0, 0
            FROM program_job_runs WHERE id = ${runId} AND status = 'ok'
            ON CONFLICT DO NOTHING`),
        ]
      : []),
  ]);
  if (!nextJob || (finished as unknown[]).length === 0) return [];
  const [successor] = await db
    .select({ id: programJobRuns.id, status: programJobRuns.status })
    .from(programJobRuns)
    .where(and(eq(programJobRuns.programId, run.programId), eq(programJobRuns.job, nextJob), eq(programJobRuns.runKey, run.runKey)));
  return successor?.status === "planned" ? [{ kind: "plan", runId: successor.id }] : [];
}

/** A failed attempt at a shard: counted and kept on the shard and the run; after MAX_SHARD_ATTEMPTS the run fails. */
export async function recordShardFailure(db: Database, runId: string, shard: number, error: string, now: string) {
  const message = error.slice(0, 500);
  await db.batch([
    db.run(
      sql`UPDATE program_job_shards SET attempts = attempts + 1, error = ${message} WHERE run_id = ${runId} AND shard = ${shard} AND status <> 'done'`,
    ),
    db.run(sql`UPDATE program_job_runs SET error = ${message},
        status = CASE WHEN (SELECT attempts FROM program_job_shards WHERE run_id = ${runId} AND shard = ${shard}) >= ${MAX_SHARD_ATTEMPTS}
          THEN 'error' ELSE status END,
        finished_at = CASE WHEN (SELECT attempts FROM program_job_shards WHERE run_id = ${runId} AND shard = ${shard}) >= ${MAX_SHARD_ATTEMPTS}
          THEN ${now} ELSE finished_at END
      WHERE id = ${runId} AND status = 'running'`),
  ]);
}

/**
 * Messages that continue runs with no progress since `staleBefore` (a consumer was killed, a
 * message was dropped after its retries, a successor was never announced): planned runs are
 * planned again; running runs get their queued shards sent again and pending ones queued up to
 * WINDOW. Done shards are never redone.
 */
export async function stalledRunMessages(db: Database, staleBefore: string, now: string, limit: number): Promise<JobMessage[]> {
  const stalled = await db.all<{ id: string; status: string }>(sql`UPDATE program_job_runs SET progress_at = ${now}
    WHERE id IN (SELECT id FROM program_job_runs WHERE status IN ('planned', 'running') AND progress_at < ${staleBefore} ORDER BY progress_at LIMIT ${limit})
    RETURNING id, status`);
  const messages: JobMessage[] = [];
  for (const run of stalled) {
    if (run.status === "planned") {
      messages.push({ kind: "plan", runId: run.id });
      continue;
    }
    const queued = await db
      .select({ shard: programJobShards.shard })
      .from(programJobShards)
      .where(and(eq(programJobShards.runId, run.id), eq(programJobShards.status, "queued")));
    const more = await queueNextShards(db, run.id, WINDOW - queued.length, now);
    for (const shard of [...queued.map((q) => q.shard), ...more]) messages.push({ kind: "shard", runId: run.id, shard });
    // A run whose shards all finished but that was never closed (killed between the two writes).
    if (queued.length === 0 && more.length === 0) messages.push(...(await finishIfComplete(db, run.id, now)));
  }
  return messages;
}

/** Order messages so programs alternate: one per program in turn. */
export function interleaveByProgram<T>(items: readonly T[], programOf: (item: T) => string): T[] {
  const queues = new Map<string, T[]>();
  for (const item of items) {
    const key = programOf(item);
    const list = queues.get(key) ?? [];
    list.push(item);
    queues.set(key, list);
  }
  const out: T[] = [];
  for (let round = 0; out.length < items.length; round++)
    for (const list of queues.values()) if (round < list.length) out.push(list[round]);
  return out;
}
