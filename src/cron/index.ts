import { database } from "../db/client";
import type { Env } from "../env";
import { settingsOf } from "../env";
import { addCronJob, registry, schedules } from "../registry";
import { expireLots, releasePendingLots } from "./lots";

addCronJob(schedules.everyFiveMinutes, {
  name: "lots.release",
  run: async ({ env, now, batchSize }) => releasePendingLots(database(env), now, batchSize),
});
addCronJob(schedules.everyFiveMinutes, {
  name: "lots.expire",
  run: async ({ env, now, batchSize }) => expireLots(database(env), now, batchSize),
});

/** Run every job registered for a cron expression, in registration order; one failure does not stop the rest. */
export async function runScheduled(cron: string, env: Env, now = new Date()) {
  const { CRON_BATCH_SIZE } = settingsOf(env);
  const results: Record<string, unknown> = {};
  for (const job of registry.cron[cron] ?? []) {
    try {
      results[job.name] = await job.run({ env, now, batchSize: CRON_BATCH_SIZE });
    } catch (err) {
      // The next tick retries; the jobs are idempotent and resumable.
      console.error(JSON.stringify({ level: "error", cron, job: job.name, message: String(err) }));
      results[job.name] = { error: String(err) };
    }
  }
  return results;
}
