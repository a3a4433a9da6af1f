import { createApp } from "./app";
import { runScheduled } from "./cron/schedule";
import type { Env } from "./env";
import { consumeQueue } from "./queues";

export { MemberLedger } from "./durable/member-ledger";
export { RateLimiter } from "./durable/rate-limiter";

const app = createApp();

export default {
  fetch: app.fetch,
  // Awaited (not waitUntil) so a cron invocation, and `/__scheduled` in dev, ends when its jobs do.
  async scheduled(controller: ScheduledController, env: Env) {
    await runScheduled(controller.cron, env, new Date(controller.scheduledTime));
  },
  queue: consumeQueue,
} satisfies ExportedHandler<Env>;
