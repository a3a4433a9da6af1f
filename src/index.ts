import "./features";
import { createApp } from "./app";
import { runScheduled } from "./cron";
import type { Env } from "./env";

export { MemberLedger } from "./ledger/member-ledger";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    ctx.waitUntil(runScheduled(controller.cron, env, new Date(controller.scheduledTime)));
  },
} satisfies ExportedHandler<Env>;
