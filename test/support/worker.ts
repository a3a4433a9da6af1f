/**
 * The Worker the API tests run (test/vitest.config.ts sets it as `main`): the production app
 * plus the test-only webhook receiver, with receiver.test served by this Worker itself, and its
 * Analytics Engine data points recorded (test/support/telemetry.ts), and faults injectable into the
 * loyalty-jobs consumer (test/support/job-faults.ts) and member merges (test/support/merge-faults.ts). The production entry
 * (src/index.ts) has none of these.
 */
import { exports } from "cloudflare:workers";
import { createApp } from "../../src/app";
import type { Env } from "../../src/env";
import { MemberLedger as ProductionMemberLedger } from "../../src/index";
import { apiRoutes } from "../../src/routes";
import { workerHandlers } from "../../src/worker";
import { testAccessKeysRoute } from "./access-keys";
import { jobFaults } from "./job-faults";
import { mergeFaults } from "./merge-faults";
import { recordingDataset } from "./telemetry";
import { RECEIVER_HOST, testReceiverRoute } from "./test-receiver";

export { RateLimiter } from "../../src/index";

/** The production ledger object, with the test seams in its env (its data points are recorded). */
export class MemberLedger extends ProductionMemberLedger {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, withTestSeams(env));
  }
}

/** Every route the test Worker serves: the API's, the receiver and a test Access team's signing keys. */
export const testRoutes = [...apiRoutes, testReceiverRoute, testAccessKeysRoute];

const loopback = {
  hosts: [RECEIVER_HOST],
  // Through the runtime, as a real delivery would arrive: a new request to this Worker.
  fetch: (url: string, init: RequestInit) => (exports as unknown as { default: Fetcher }).default.fetch(url, init),
};

const seamed = new WeakMap<Env, Env>();

/** `env` with the test seams: receiver.test allowed past the outbound URL policy and served here, data points recorded. */
export function withTestSeams(env: Env): Env {
  if (env.outboundLoopback === loopback) return env;
  let withSeams = seamed.get(env);
  if (!withSeams) {
    withSeams = { ...env, outboundLoopback: loopback, METRICS: recordingDataset(env.METRICS), jobFaults, mergeFaults };
    seamed.set(env, withSeams);
  }
  return withSeams;
}

export default workerHandlers(createApp(testRoutes), withTestSeams);
