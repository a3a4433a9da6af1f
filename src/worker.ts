import { runScheduled } from "./cron/schedule";
import type { Env } from "./env";
import type { App } from "./lib/context";
import { consumeQueue } from "./queues";

/**
 * A Worker's handlers around an app: HTTP by the app, cron triggers by the schedule table,
 * queue batches by the consumer table. `prepareEnv` lets a test or bench entry hand all three
 * the env with its own seams (see test/support/worker.ts); production passes none.
 */
export function workerHandlers(app: App, prepareEnv: (env: Env) => Env = (env) => env) {
  return {
    fetch: (request: Request, env: Env, ctx: ExecutionContext) => app.fetch(request, prepareEnv(env), ctx),
    // Awaited (not waitUntil) so a cron invocation, and `/__scheduled` in dev, ends when its jobs do.
    async scheduled(controller, env) {
      await runScheduled(controller.cron, prepareEnv(env), new Date(controller.scheduledTime));
    },
    queue: (batch, env) => consumeQueue(batch, prepareEnv(env)),
  } satisfies ExportedHandler<Env>;
}
