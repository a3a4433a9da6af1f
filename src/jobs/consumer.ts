import { recordJobRuns } from "../cron/job-runs";
import { database } from "../db/client";
import { type Env, settingsOf } from "../env";
import { type JobRun, timedJob } from "../lib/telemetry";
import { jobDefinition } from "./definitions";
import { sendJobMessages } from "./plan";
import { completeShard, type JobMessage, recordShardFailure, runById, shardOf, splitRun } from "./runs";

/**
 * The `loyalty-jobs` consumer: each message is one step of a run, logged and measured as its
 * job (with program and shard). A failed message is retried by the queue (its error kept on the
 * shard); the others in the batch are acknowledged.
 */
export async function consumeJobBatch(batch: MessageBatch<JobMessage>, env: Env): Promise<number> {
  const db = database(env);
  const { CRON_BATCH_SIZE } = settingsOf(env);
  const finished: JobRun[] = [];
  let handled = 0;
  for (const message of batch.messages) {
    const body = message.body;
    const run = await runById(db, body.runId);
    if (!run) {
      message.ack(); // a run that no longer exists: nothing to do
      continue;
    }
    const outcome = await timedJob(
      env,
      { job: run.job, trigger: batch.queue, programId: run.programId, shard: body.kind === "shard" ? String(body.shard) : "plan" },
      async () => {
        env.jobFaults?.({ ...body, job: run.job }, message.attempts);
        if (body.kind === "plan") return { rows: 0, next: await splitRun(db, run, new Date().toISOString()) };
        const shard = await shardOf(db, run.id, body.shard);
        // Done already (a re-delivery): only make sure what follows it was sent.
        if (!shard || shard.status === "done") return { rows: 0, next: [] as JobMessage[] };
        const definition = jobDefinition(run.job);
        if (!definition) throw new Error(`Unknown job ${run.job}`);
        const shardSize = Number(run.params?.shardSize ?? CRON_BATCH_SIZE);
        const rows = await definition.run({
          db,
          programId: run.programId,
          asOf: new Date(run.asOf),
          params: run.params ?? {},
          range: { from: shard.fromRowid, to: shard.toRowid },
          batchSize: Math.min(CRON_BATCH_SIZE, shardSize),
        });
        return { rows, next: await completeShard(db, run.id, body.shard, rows, new Date().toISOString()) };
      },
      (r) => r.rows,
    );
    if (!outcome.ok) {
      if (body.kind === "shard")
        await recordShardFailure(db, run.id, body.shard, String(outcome.error), new Date().toISOString()).catch(() => {});
      message.retry();
      continue;
    }
    await sendJobMessages(env, outcome.result.next);
    message.ack();
    handled++;
    const after = await runById(db, run.id);
    if (
      after &&
      (after.status === "ok" || after.status === "error") &&
      after.finishedAt &&
      after.startedAt &&
      run.status !== after.status
    ) {
      finished.push({
        job: after.job,
        trigger: batch.queue,
        outcome: after.status === "ok" ? "ok" : "error",
        rows: after.rows,
        durationMs: Date.parse(after.finishedAt) - Date.parse(after.startedAt),
        startedAt: after.startedAt,
        error: after.error,
      });
    }
  }
  // The last finished run of each job, for GET /v1/health/deep.
  await recordJobRuns(env, finished);
  return handled;
}
