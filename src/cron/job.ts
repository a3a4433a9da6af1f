import type { Env } from "../env";

export type CronJobArgs = { env: Env; now: Date; batchSize: number };
export type CronJob = { name: string; run: (args: CronJobArgs) => Promise<unknown> };
