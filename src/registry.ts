import type { Env } from "./env";
import type { App } from "./lib/context";

/** A route module: its OpenAPI definition and how it registers itself on the app. */
export type RouteModule = { route: { method: string; path: string }; register: (app: App) => unknown };

export type CronJobArgs = { env: Env; now: Date; batchSize: number };
export type CronJob = { name: string; run: (args: CronJobArgs) => Promise<unknown> };

/**
 * Features (rules, tiers, rewards, campaigns, webhooks, analytics…) register their routes
 * and cron jobs here when `src/features.ts` imports them, so no shared file lists them all.
 */
export const registry = {
  routes: [] as RouteModule[],
  cron: {} as Record<string, CronJob[]>,
};

export function addRoutes(...modules: RouteModule[]) {
  registry.routes.push(...modules);
}

/** Cron expressions must also be listed under [triggers] in wrangler.toml. */
export const schedules = {
  everyMinute: "* * * * *",
  everyFiveMinutes: "*/5 * * * *",
  nightly: "0 3 * * *",
} as const;

export function addCronJob(schedule: (typeof schedules)[keyof typeof schedules], job: CronJob) {
  registry.cron[schedule] ??= [];
  registry.cron[schedule].push(job);
}
