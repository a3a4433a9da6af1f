import type { Env, OutboundLoopback } from "../env";
import { AppError } from "./errors";
import { outboundUrlProblem } from "./outbound-url";

/**
 * The one way the Worker sends a request on a customer's behalf — partner webhooks, campaign
 * channel endpoints, anything aimed at a URL a customer configured. Every send gets the same
 * guarantees, so no caller can forget one:
 * - the URL policy (src/lib/outbound-url.ts: public https hosts only), checked here before every
 *   send and by `assertTargetUrl` when a URL is stored;
 * - redirects are never followed: a 3xx is a failed attempt, recorded with its Location, because a
 *   redirect could aim the request at an address the policy forbids (or anywhere else);
 * - a timeout covering the whole exchange, and only a bounded prefix of the response is read.
 *
 * The one exception is a host the Worker entry serves itself (`env.outboundLoopback`, set only
 * by the test entry): it passes the policy and its requests go to the loopback's fetch, under
 * the same rules otherwise.
 */

const DEFAULT_TIMEOUT_MS = 10_000;
/** How much of a response body is kept for the delivery log. */
const RESPONSE_PREFIX_BYTES = 1024;

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

export type OutboundPost = { headers: Record<string, string>; body: string; timeoutMs?: number };

/**
 * What became of one send:
 * - `refused`: the URL policy forbids the target; nothing was sent (`error` says why).
 * - `delivered`: a 2xx answer.
 * - `failed`: any other answer (`status`; a 3xx is one, its Location not followed), or no answer
 *   at all (network error, timeout: `status` null). `error` is a short description for the log.
 * `body` is the start of the response body, for the log.
 */
export type OutboundOutcome =
  | { outcome: "refused"; error: string }
  | { outcome: "delivered"; status: number; body: string }
  | { outcome: "failed"; status: number | null; error: string; body: string };

/** POST `body` to `url` under the outbound rules above. Never throws for a failed send. */
export async function postOutbound(env: Env, url: string, request: OutboundPost): Promise<OutboundOutcome> {
  const problem = targetUrlProblem(env, url);
  if (problem) return { outcome: "refused", error: problem };
  const init: RequestInit = {
    method: "POST",
    headers: request.headers,
    body: request.body,
    redirect: "manual",
    signal: AbortSignal.timeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS),
  };
  try {
    const loopback = loopbackFor(env, url);
    const res = loopback ? await loopback.fetch(url, init) : await fetch(url, init);
    const body = await responsePrefix(res);
    if (res.status >= 200 && res.status < 300) return { outcome: "delivered", status: res.status, body };
    const error =
      res.status >= 300 && res.status < 400
        ? `HTTP ${res.status}: redirect to ${(res.headers.get("location") ?? "(no location)").slice(0, 300)} not followed`
        : `HTTP ${res.status}`;
    return { outcome: "failed", status: res.status, error, body };
  } catch (err) {
    const error = (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 500);
    return { outcome: "failed", status: null, error, body: "" };
  }
}

/**
 * GET a small JSON document the deployment itself configured (Cloudflare Access's signing keys)
 * under the same rules: URL policy, no redirect, timeout, at most `maxBytes` read. Throws when
 * it cannot (the caller fails closed).
 */
export async function getOutboundJson(env: Env, url: string, maxBytes = 64 * 1024): Promise<unknown> {
  const problem = targetUrlProblem(env, url);
  if (problem) throw new Error(`Not fetched: ${url}: ${problem}`);
  const init: RequestInit = { method: "GET", redirect: "manual", signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS) };
  const loopback = loopbackFor(env, url);
  const res = loopback ? await loopback.fetch(url, init) : await fetch(url, init);
  const body = await responsePrefix(res, maxBytes + 1);
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
  if (body.length > maxBytes) throw new Error(`GET ${url}: answer larger than ${maxBytes} bytes`);
  return JSON.parse(body);
}

/** The first bytes of the body as text; the rest is cancelled, so a huge answer costs nothing. */
async function responsePrefix(res: Response, limit = RESPONSE_PREFIX_BYTES): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut short (timeout, reset) still leaves the status to record.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(bytes.subarray(0, limit));
}
