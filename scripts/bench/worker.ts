/**
 * The Worker the bench serves (`wrangler dev scripts/bench/worker.ts`, see stack.ts): the
 * production app plus the bench's baseline routes (routes.ts). The production entry
 * (src/index.ts) has none of them.
 */
import { createApp } from "../../src/app";
import { apiRoutes } from "../../src/routes";
import { workerHandlers } from "../../src/worker";
import { benchRoutes } from "./routes";

export { MemberLedger, RateLimiter } from "../../src/index";

export default workerHandlers(createApp([...apiRoutes, benchRoutes]));
