import type { MemberView } from "../services/members/view";

/**
 * The member's lookup view, held in memory by the member's Durable Object so the storefront's
 * hot path (`GET /v1/members/{id}`) answers without a database round trip.
 *
 * Freshness: every ledger write for the member runs in the same object and invalidates the view,
 * so points a member earns or spends show at once; admin edits invalidate it too. Changes made
 * elsewhere — the cron sweeps (lot release and expiry, tier requalification, lifecycle, scores,
 * segments) — show within `maxAgeMs`. A read that started before an invalidation is never cached.
 */
export class MemberViewCache {
  #entry: { view: MemberView; loadedAt: number } | null = null;
  /** The last view read, kept across invalidations: what a lookup answers while the database is out of reach. */
  #last: { view: MemberView; loadedAt: number } | null = null;
  #generation = 0;
  #loading: { generation: number; promise: Promise<MemberView | null> } | null = null;

  lastKnown() {
    return this.#last;
  }

  invalidate() {
    this.#generation++;
    this.#entry = null;
  }

  /** The cached view if younger than `maxAgeMs`, else a fresh read (concurrent misses share one). */
  async get(load: () => Promise<MemberView | null>, maxAgeMs: number): Promise<{ view: MemberView | null; ageMs: number }> {
    const now = Date.now();
    const entry = this.#entry;
    if (entry && now - entry.loadedAt <= maxAgeMs) return { view: entry.view, ageMs: now - entry.loadedAt };
    if (!this.#loading || this.#loading.generation !== this.#generation) {
      const generation = this.#generation;
      // Aged from when the read started: the row may have changed during the round trip.
      const startedAt = Date.now();
      const promise = load()
        .then((view) => {
          if (view && this.#generation === generation) this.#entry = { view, loadedAt: startedAt };
          if (view && (!this.#last || this.#last.loadedAt <= startedAt)) this.#last = { view, loadedAt: startedAt };
          return view;
        })
        .finally(() => {
          if (this.#loading?.promise === promise) this.#loading = null;
        });
      this.#loading = { generation, promise };
    }
    return { view: await this.#loading.promise, ageMs: 0 };
  }
}
