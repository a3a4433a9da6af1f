import type { Env, OutboundLoopback } from "../env";
import { AppError } from "../lib/errors";
import { outboundUrlProblem } from "../lib/outbound-url";

/**
 * Where the Worker POSTs on a customer's behalf — partner webhooks and campaign channel
 * endpoints — and how: one URL policy (src/lib/outbound-url.ts: public https hosts only),
 * checked when a URL is stored and again before every send, and one fetch. The one exception
 * is a host the Worker entry serves itself (`env.outboundLoopback`, set only by the test entry).
 */

/** The loopback serving `url`'s host, if the Worker entry declared one for it. */
function loopbackFor(env: Env, url: string): OutboundLoopback | null {
  const loopback = env.outboundLoopback;
  if (typeof loopback?.fetch !== "function") return null;
  try {
    return loopback.hosts.includes(new URL(url).hostname) ? loopback : null;
  } catch {
    return null;
  }
}

/**
 * Why the Worker may not send to `url`, or null. A public name that resolves to a private
 * address (DNS rebinding) cannot be caught in a Worker, which has no DNS lookup — Cloudflare's
 * own fetch does not reach private networks, so this guards self-hosted runs and states the policy.
 */
export function targetUrlProblem(env: Env, url: string): string | null {
  return loopbackFor(env, url) ? null : outboundUrlProblem(url);
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
  const loopback = loopbackFor(env, url);
  return loopback ? loopback.fetch(url, init) : fetch(url, init);
}
