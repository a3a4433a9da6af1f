import { database } from "../db/client";
import type { Env } from "../env";
import { settingsOf } from "../env";
import { expireLots, releasePendingLots } from "./lots";

export type CronJob = (args: { env: Env; now: Date; batchSize: number }) => Promise<Record<string, unknown>>;

/** Cron expressions in wrangler.toml map to jobs here; each job is bounded and resumable. */
export const schedules: Record<string, CronJob[]> = {
  "*/5 * * * *": [
    async ({ env, now, batchSize }) => ({ released: await releasePendingLots(database(env), now, batchSize) }),
    async ({ env, now, batchSize }) => ({ expired: await expireLots(database(env), now, batchSize) }),
  ],
};

export async function runScheduled(cron: string, env: Env, now = new Date()) {
  const jobs = schedules[cron] ?? [];
  const { CRON_BATCH_SIZE } = settingsOf(env);
  const results: Record<string, unknown>[] = [];
  for (const job of jobs) {
    try {
      results.push(await job({ env, now, batchSize: CRON_BATCH_SIZE }));
    } catch (err) {
      // One failing job must not stop the others; the next tick retries.
      console.error(JSON.stringify({ level: "error", cron, message: String(err) }));
      results.push({ error: String(err) });
    }
  }
  return results;
}
