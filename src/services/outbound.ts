import { exports } from "cloudflare:workers";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { outboundUrlProblem } from "../lib/outbound-url";

/**
 * Where the Worker POSTs on a customer's behalf — partner webhooks and campaign channel
 * endpoints — and how: one URL policy (src/lib/outbound-url.ts: public https hosts only),
 * checked when a URL is stored and again before every send, and one fetch.
 *
 * The one exception is for tests: with the TEST_RECEIVER=1 binding, which only
 * test/vitest.config.ts sets (never wrangler.toml), the host receiver.test is allowed, over
 * http too. Its requests are served by this Worker itself (`outboundFetch`), so even a binding
 * set by mistake opens no network destination.
 */

/** Host that, only when TEST_RECEIVER=1, is served by this Worker's own /__test/receiver routes. */
const TEST_RECEIVER_HOST = "receiver.test";

/** True only under TEST_RECEIVER=1 and only for the test receiver's host. */
function isTestReceiverUrl(env: Env, url: string): boolean {
  if ((env as Env & { TEST_RECEIVER?: string }).TEST_RECEIVER !== "1") return false;
  try {
    return new URL(url).hostname === TEST_RECEIVER_HOST;
  } catch {
    return false;
  }
}

/**
 * Why the Worker may not send to `url`, or null. A public name that resolves to a private
 * address (DNS rebinding) cannot be caught in a Worker, which has no DNS lookup — Cloudflare's
 * own fetch does not reach private networks, so this guards self-hosted runs and states the policy.
 */
export function targetUrlProblem(env: Env, url: string): string | null {
  return isTestReceiverUrl(env, url) ? null : outboundUrlProblem(url);
}

/** 400 invalid_request on `url` unless the Worker may send to it; call before anything is written. */
export function assertTargetUrl(env: Env, url: string) {
  const problem = targetUrlProblem(env, url);
  if (problem)
    throw new AppError("invalid_request", `Invalid request: url: ${problem}`, {
      fields: [{ path: "url", message: problem, code: "custom" }],
    });
}

export function outboundFetch(env: Env, url: string, init: RequestInit): Promise<Response> {
  if (isTestReceiverUrl(env, url)) {
    // Tests cannot open a port inside workerd: loop back into this Worker's test-only receiver.
    return (exports as unknown as { default: Fetcher }).default.fetch(url, init);
  }
  return fetch(url, init);
}
