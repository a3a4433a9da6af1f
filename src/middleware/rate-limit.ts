import type { Context } from "hono";
import type { RateLimiter } from "../durable/rate-limiter";
import { settingsOf } from "../env";
import type { AppBindings, Principal } from "../lib/context";
import { AppError } from "../lib/errors";

/**
 * Per-key rate limits (token bucket in the `RateLimiter` Durable Object, one per key).
 *
 * Hot path: each isolate leases a small slice of the bucket (limit/50 tokens, at least 1)
 * in one DO call and spends it locally, so a busy key costs one DO round trip per ~2% of
 * its limit rather than one per request. Concurrent requests share one in-flight lease
 * call, and a denial is cached locally until Retry-After.
 * Trade-offs: tokens leased to an isolate that then goes idle are lost (the lease expires
 * after 10 s), so the effective limit can be slightly stricter than configured; and
 * RateLimit-Remaining is the bucket's count at the last lease plus this isolate's unspent
 * slice — approximate across isolates, exact with one. Without a RATE_LIMITER binding
 * nothing is limited.
 */
type Lease = {
  limit: number;
  tokens: number;
  remaining: number;
  resetSeconds: number;
  retryAfterSeconds: number;
  deniedUntil: number;
  at: number;
};

const leases = new Map<string, Lease>();
const inFlight = new Map<string, Promise<Lease>>();
/** Requests of a key waiting for a lease right now: a lease covers them all when it can. */
const waiting = new Map<string, number>();
const LEASE_FRACTION = 50;
const LEASE_TTL_MS = 10_000;
const MAX_LEASE_ROUNDS = 50;

const leaseSize = (limit: number) => Math.max(1, Math.floor(limit / LEASE_FRACTION));

function setHeaders(c: Context<AppBindings>, lease: Lease) {
  c.header("RateLimit-Limit", String(lease.limit));
  c.header("RateLimit-Remaining", String(Math.max(0, lease.remaining + lease.tokens)));
  c.header("RateLimit-Reset", String(lease.resetSeconds));
}

/** One DO call per key at a time; everyone waiting shares its result. */
function fetchLease(namespace: DurableObjectNamespace<RateLimiter>, keyId: string, limit: number, carried: number): Promise<Lease> {
  let pending = inFlight.get(keyId);
  if (!pending) {
    pending = (async () => {
      const want = Math.min(limit, Math.max(leaseSize(limit), waiting.get(keyId) ?? 1));
      const r = await namespace.get(namespace.idFromName(keyId)).take(limit, want);
      const now = Date.now();
      const lease: Lease = {
        limit,
        // Unspent tokens of the lease this one replaces stay with the isolate.
        tokens: r.granted + carried,
        remaining: r.remaining,
        resetSeconds: r.resetSeconds,
        retryAfterSeconds: r.retryAfterSeconds,
        deniedUntil: r.granted > 0 ? 0 : now + r.retryAfterSeconds * 1000,
        at: now,
      };
      if (leases.size > 10_000) leases.delete(leases.keys().next().value as string);
      leases.set(keyId, lease);
      return lease;
    })().finally(() => inFlight.delete(keyId));
    inFlight.set(keyId, pending);
  }
  return pending;
}

const fresh = (lease: Lease | undefined, limit: number, now: number): lease is Lease =>
  !!lease && lease.limit === limit && now - lease.at < LEASE_TTL_MS;

/** The key's requests per minute: its own limit or the deployment default. */
export const rateLimitOf = (c: Context<AppBindings>, principal: Principal) =>
  principal.rateLimitPerMinute ?? settingsOf(c.env).RATE_LIMIT_PER_MINUTE;

/**
 * Spend `cost` tokens of the caller's key (one per request; a partner batch pays one per
 * event) or throw 429 rate_limited with Retry-After.
 */
export async function enforceRateLimit(c: Context<AppBindings>, principal: Principal, cost = 1) {
  const namespace = c.env.RATE_LIMITER as DurableObjectNamespace<RateLimiter> | undefined;
  if (!namespace || cost <= 0) return;
  const limit = rateLimitOf(c, principal);
  for (let round = 0; round < MAX_LEASE_ROUNDS; round++) {
    const now = Date.now();
    let lease = leases.get(principal.keyId);
    if (fresh(lease, limit, now) && lease.tokens < cost && now < lease.deniedUntil) {
      lease.retryAfterSeconds = Math.max(1, Math.ceil((lease.deniedUntil - now) / 1000));
      return deny(c, lease);
    }
    if (!fresh(lease, limit, now) || lease.tokens < cost) {
      // A costly request keeps the unspent slice it replaces (moved, so it is counted once).
      let carried = 0;
      if (fresh(lease, limit, now)) {
        carried = lease.tokens;
        lease.tokens = 0;
      }
      waiting.set(principal.keyId, (waiting.get(principal.keyId) ?? 0) + cost);
      try {
        lease = await fetchLease(namespace, principal.keyId, limit, carried);
      } finally {
        const left = (waiting.get(principal.keyId) ?? cost) - cost;
        if (left > 0) waiting.set(principal.keyId, left);
        else waiting.delete(principal.keyId);
      }
    }
    if (lease.tokens >= cost) {
      lease.tokens -= cost;
      return setHeaders(c, lease);
    }
    // The bucket is empty: deny. (A lease others drained while we waited: try a new one.)
    if (lease.deniedUntil > 0) return deny(c, lease);
  }
  throw new AppError("rate_limited", "Too many concurrent requests for this API key; retry shortly", { limit });
}

function deny(c: Context<AppBindings>, lease: Lease): never {
  setHeaders(c, lease);
  c.header("Retry-After", String(lease.retryAfterSeconds));
  throw new AppError(
    "rate_limited",
    `Rate limit of ${lease.limit} requests per minute exceeded for this API key; retry after ${lease.retryAfterSeconds}s`,
    {
      limit: lease.limit,
      retryAfterSeconds: lease.retryAfterSeconds,
    },
  );
}

/** Forget local leases (after a key is revoked, or in tests). */
export function forgetRateLeases() {
  leases.clear();
}
