// Lifecycle stages: where a member is in the new → active → dormant → at_risk → churned
// journey. The cron recomputes the stage from activity; campaigns (welcome, dormant
// wake-up, win-back) key off stage changes, so the rule must be predictable to marketers.
//
// The rule (d = whole days since last purchase, j = whole days since joining):
//
//   never purchased (no lastPurchaseAt):
//     j ≤ newDays                     → new        (still onboarding)
//     j > churnedAfterDays            → churned
//     j > atRiskAfterDays             → at_risk
//     otherwise                       → dormant    (joined, never converted)
//   purchased:
//     j ≤ newDays and orders ≤ 1      → new        (first purchase is part of onboarding)
//     d > churnedAfterDays            → churned
//     d > atRiskAfterDays             → at_risk
//     d > dormantAfterDays            → dormant
//     otherwise                       → active
//     then the churn model may only make it worse (never better):
//       churnProbability ≥ churnProbabilityChurned → churned
//       churnProbability ≥ churnProbabilityAtRisk  → at_risk
//
// "Within N days" is inclusive (d = N is still inside), "after N days" is strict (d = N + 1).
// The churn probability is ignored for `new` members and for members who never purchased:
// BG/NBD has no signal without purchase history.
import { z } from "zod";

/** Ordered from best to worst; the index is the severity. */
export const LIFECYCLE_STAGES = ["new", "active", "dormant", "at_risk", "churned"] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

const days = z.int().nonnegative().max(36_500);
const probability = z.number().min(0).max(1);

// activeWithinDays and dormantAfterDays name the same boundary from both sides (a member
// stops being active exactly when they become dormant). Both keys are accepted because
// marketers think in either; if only one is given the other follows it, and giving two
// different numbers is rejected rather than leaving a gap no stage covers.
const syncActiveAndDormant = (input: unknown) => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return input;
  const t = input as Record<string, unknown>;
  if (t.activeWithinDays !== undefined && t.dormantAfterDays === undefined) return { ...t, dormantAfterDays: t.activeWithinDays };
  if (t.dormantAfterDays !== undefined && t.activeWithinDays === undefined) return { ...t, activeWithinDays: t.dormantAfterDays };
  return input;
};

/** Per-program thresholds; `lifecycleThresholdsSchema.parse({})` gives the defaults. */
export const lifecycleThresholdsSchema = z.preprocess(
  syncActiveAndDormant,
  z
    .strictObject({
      /** A member is `new` while within this many days of joining. */
      newDays: days.default(30),
      /**
       * What counts as a member's last engagement for recency (lifecycle stages, RFM's R, the KPI
       * active rate): `purchases` only, or `activities` too — a review, visit, app login or any
       * activity reported through POST /v1/members/{id}/activities (or a partner event).
       */
      recency: z.enum(["purchases", "activities"]).default("purchases"),
      /** Active: purchased within this many days. Always equal to dormantAfterDays. */
      activeWithinDays: days.default(90),
      /** Dormant: no purchase for more than this many days. */
      dormantAfterDays: days.default(90),
      /** At risk: no purchase (or, if never purchased, joined) more than this many days ago. */
      atRiskAfterDays: days.default(180),
      /** Churned: no purchase (or, if never purchased, joined) more than this many days ago. */
      churnedAfterDays: days.default(365),
      /** Churn probability from which an active/dormant member is at least at_risk. */
      churnProbabilityAtRisk: probability.default(0.5),
      /** Churn probability from which a member is churned. */
      churnProbabilityChurned: probability.default(0.8),
    })
    .superRefine((t, ctx) => {
      const fail = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
      if (t.activeWithinDays !== t.dormantAfterDays)
        fail("dormantAfterDays", "activeWithinDays and dormantAfterDays are the same boundary; give one, or both equal");
      if (t.newDays > t.dormantAfterDays) fail("newDays", "newDays must not exceed dormantAfterDays");
      if (t.atRiskAfterDays <= t.dormantAfterDays) fail("atRiskAfterDays", "atRiskAfterDays must be greater than dormantAfterDays");
      if (t.churnedAfterDays <= t.atRiskAfterDays) fail("churnedAfterDays", "churnedAfterDays must be greater than atRiskAfterDays");
      if (t.churnProbabilityChurned < t.churnProbabilityAtRisk)
        fail("churnProbabilityChurned", "churnProbabilityChurned must not be below churnProbabilityAtRisk");
    }),
);
export type LifecycleThresholds = z.output<typeof lifecycleThresholdsSchema>;

export const DEFAULT_LIFECYCLE_THRESHOLDS: LifecycleThresholds = Object.freeze(lifecycleThresholdsSchema.parse({}));

/** An instant: Date, epoch milliseconds or an ISO-8601 string (what the database returns). */
export type Instant = Date | number | string;

const toEpochMs = (t: Instant): number => {
  const ms = t instanceof Date ? t.getTime() : typeof t === "number" ? t : Date.parse(t);
  if (!Number.isFinite(ms)) throw new RangeError(`not a valid instant: ${String(t)}`);
  return ms;
};

/**
 * Whole days from `from` to `to`, counted in whole seconds and never negative (a future
 * timestamp from clock skew counts as 0). Counted exactly like SQLite's
 * `MAX(0, (unixepoch(to) - unixepoch(from)) / 86400)` so SQL and JS agree at the boundaries.
 */
export function wholeDaysBetween(from: Instant, to: Instant): number {
  const seconds = Math.floor(toEpochMs(to) / 1000) - Math.floor(toEpochMs(from) / 1000);
  return Math.max(0, Math.floor(seconds / 86_400));
}

export type LifecycleInput = {
  now: Instant;
  joinedAt: Instant;
  /** null/undefined = never purchased. */
  lastPurchaseAt?: Instant | null;
  /** Lifetime orders (net of fully refunded ones). */
  orders: number;
  /** 1 − P(alive) from the BG/NBD model, if scored. */
  churnProbability?: number | null;
  /** Program thresholds, already parsed; defaults when omitted. */
  thresholds?: LifecycleThresholds;
};

const severity = (stage: LifecycleStage) => LIFECYCLE_STAGES.indexOf(stage);
const worse = (a: LifecycleStage, b: LifecycleStage) => (severity(a) >= severity(b) ? a : b);

/** The member's lifecycle stage now; see the rule at the top of this file. */
export function lifecycleStage(input: LifecycleInput): LifecycleStage {
  const t = input.thresholds ?? DEFAULT_LIFECYCLE_THRESHOLDS;
  const daysSinceJoining = wholeDaysBetween(input.joinedAt, input.now);

  if (input.lastPurchaseAt === null || input.lastPurchaseAt === undefined) {
    if (daysSinceJoining <= t.newDays) return "new";
    // Past onboarding without converting: dormant at best, then the same silence thresholds.
    return worse("dormant", stageBySilence(daysSinceJoining, t));
  }

  if (daysSinceJoining <= t.newDays && input.orders <= 1) return "new";
  const byRecency = stageBySilence(wholeDaysBetween(input.lastPurchaseAt, input.now), t);
  return worse(byRecency, stageByChurnProbability(input.churnProbability, t));
}

function stageBySilence(daysSilent: number, t: LifecycleThresholds): LifecycleStage {
  if (daysSilent > t.churnedAfterDays) return "churned";
  if (daysSilent > t.atRiskAfterDays) return "at_risk";
  if (daysSilent > t.dormantAfterDays) return "dormant";
  return "active";
}

function stageByChurnProbability(p: number | null | undefined, t: LifecycleThresholds): LifecycleStage {
  if (p === null || p === undefined || !Number.isFinite(p)) return "active";
  if (p >= t.churnProbabilityChurned) return "churned";
  if (p >= t.churnProbabilityAtRisk) return "at_risk";
  return "active";
}
