import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

/** What one `take` answers: how many tokens were granted and the bucket's state after it. */
export type RateLease = {
  granted: number;
  /** Whole tokens left in the bucket after this grant. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until at least one token is available (0 when some are). */
  retryAfterSeconds: number;
};

/**
 * A token bucket per API key (one object per key id): capacity = the key's limit per
 * minute, refilled continuously at limit/60 tokens a second. State lives in memory only:
 * a hot key keeps its object alive; an evicted (idle) object restarts full, which is the
 * state an idle key's bucket would be in anyway.
 */
export class RateLimiter extends DurableObject<Env> {
  #tokens = 0;
  #capacity = 0;
  #updatedAt = 0;

  take(limitPerMinute: number, want: number, nowMs = Date.now()): RateLease {
    const capacity = Math.max(1, Math.floor(limitPerMinute));
    if (this.#capacity === 0) this.#tokens = capacity;
    else if (capacity !== this.#capacity) this.#tokens = Math.min(capacity, this.#tokens);
    else this.#tokens = Math.min(capacity, this.#tokens + ((nowMs - this.#updatedAt) * capacity) / 60_000);
    this.#capacity = capacity;
    this.#updatedAt = nowMs;

    const granted = Math.max(0, Math.min(Math.floor(want), Math.floor(this.#tokens)));
    this.#tokens -= granted;
    const perSecond = capacity / 60;
    return {
      granted,
      remaining: Math.floor(this.#tokens),
      resetSeconds: Math.ceil((capacity - this.#tokens) / perSecond),
      retryAfterSeconds: this.#tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - this.#tokens) / perSecond)),
    };
  }
}
