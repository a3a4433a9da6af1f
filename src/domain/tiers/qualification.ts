/*
 * Tier qualification and movement, as plain functions.
 *
 *  - A tier's conditions are met when (mode "any") at least one of its set thresholds is
 *    reached, or (mode "all") every set threshold is reached. The entry tier (lowest rank,
 *    normally 0) always qualifies. A higher tier marked `inviteOnly`, or with no thresholds,
 *    is invite-only: it is never reached automatically, only by assignment.
 *  - An assigned tier is a floor until its end date: requalification never moves the member
 *    below it before then (writes may still move them above it).
 *  - On every write (purchase, points) a member moves up at once when the window qualifies
 *    for a higher tier; that tier is then secured for its windowDays. Writes never move down.
 *  - The requalification cron upgrades what a write missed (late partner events), leaves a
 *    secured member alone, renews a member whose window still supports the tier, keeps a
 *    member who no longer qualifies during graceDays after securedUntil, and afterwards
 *    moves them down to the highest tier the window still supports.
 */
import type { Tier, TierFigures } from "./schema";

type TierChange = "upgrade" | "downgrade" | "renew" | "none" | "grace";

interface TierStanding {
  tierId: string | null;
  /** ISO time until which the tier is kept regardless of figures; null = not secured. */
  securedUntil: string | null;
}

export interface TierDecision {
  tierId: string;
  change: TierChange;
  securedUntil: string | null;
}

export interface TierDecisionInput {
  tiers: Tier[];
  current: TierStanding;
  /** A tier an admin assigned, kept as a floor until `until` (ISO). */
  assigned?: { tierId: string | null; until: string | null };
  figures: TierFigures;
  /** ISO-8601 UTC. */
  now: string;
}

const DAY_MS = 86_400_000;

/** Tiers from entry (lowest rank) to top; ties broken by id so the order is stable. */
export function tiersByRank(tiers: Tier[]): Tier[] {
  return [...tiers].sort((a, b) => a.rank - b.rank || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The thresholds a tier sets, as [required, achieved] pairs. */
export function thresholdsOf(tier: Tier, figures: TierFigures): { metric: TierMetric; required: number; current: number }[] {
  const q = tier.qualification;
  const out: { metric: TierMetric; required: number; current: number }[] = [];
  // Figures never reach an invite-only tier.
  if (tier.inviteOnly) return out;
  if (q.minSpend !== undefined) out.push({ metric: "spend", required: q.minSpend, current: figures.spend });
  if (q.minOrders !== undefined) out.push({ metric: "orders", required: q.minOrders, current: figures.orders });
  if (q.minPoints !== undefined) out.push({ metric: "points", required: q.minPoints, current: figures.pointsEarned });
  if (q.minActiveDays !== undefined) out.push({ metric: "activeDays", required: q.minActiveDays, current: figures.activeDays ?? 0 });
  return out;
}
export type TierMetric = "spend" | "orders" | "points" | "activeDays";

/** Whether the figures meet this tier's own conditions (ignores the entry-tier rule). */
export function meetsConditions(tier: Tier, figures: TierFigures): boolean {
  const thresholds = thresholdsOf(tier, figures);
  if (thresholds.length === 0) return false;
  const met = (t: { required: number; current: number }) => t.current >= t.required;
  return (tier.qualification.mode ?? "any") === "all" ? thresholds.every(met) : thresholds.some(met);
}

/** The highest-rank tier the figures qualify for; the entry tier always qualifies. */
export function qualifyingTier(tiers: Tier[], figures: TierFigures): Tier {
  const ladder = tiersByRank(tiers);
  if (ladder.length === 0) throw new Error("qualifyingTier: the program has no tiers");
  for (let i = ladder.length - 1; i > 0; i--) {
    if (meetsConditions(ladder[i], figures)) return ladder[i];
  }
  return ladder[0];
}

/** On a write: upgrade at once when the window reaches a higher tier; never downgrade. */
export function decideOnWrite(input: TierDecisionInput): TierDecision {
  const { tiers, current, figures, now } = input;
  const currentTier = findTier(tiers, current.tierId);
  const reached = qualifyingTier(tiers, figures);
  if (!currentTier || reached.rank > currentTier.rank) {
    return { tierId: reached.id, change: "upgrade", securedUntil: addDays(now, reached.qualification.windowDays) };
  }
  return { tierId: currentTier.id, change: "none", securedUntil: current.securedUntil };
}

/** The requalification cron's decision for one member, never below an assigned tier before its end date. */
export function decideOnRequalification(input: TierDecisionInput): TierDecision {
  const decision = decideOnFigures(input);
  const { assigned, tiers, current, now } = input;
  const floor = assigned?.until && Date.parse(now) < Date.parse(assigned.until) ? findTier(tiers, assigned.tierId) : undefined;
  const target = findTier(tiers, decision.tierId);
  if (!floor || !target || target.rank >= floor.rank) return decision;
  // Would go below the assigned tier: stay at (or return to) it until the assignment ends.
  if (current.tierId === floor.id) return { tierId: floor.id, change: "none", securedUntil: current.securedUntil };
  return { tierId: floor.id, change: "downgrade", securedUntil: assigned?.until ?? null };
}

function decideOnFigures(input: TierDecisionInput): TierDecision {
  const { tiers, current, figures, now } = input;
  const currentTier = findTier(tiers, current.tierId);
  const reached = qualifyingTier(tiers, figures);
  // Unknown or higher: same as a write (catches upgrades a write missed, and deleted tiers).
  if (!currentTier || reached.rank > currentTier.rank) return decideOnWrite(input);

  const nowMs = Date.parse(now);
  const securedMs = current.securedUntil ? Date.parse(current.securedUntil) : -Infinity;
  if (nowMs < securedMs) return { tierId: currentTier.id, change: "none", securedUntil: current.securedUntil };

  if (reached.rank === currentTier.rank) {
    return { tierId: currentTier.id, change: "renew", securedUntil: addDays(now, currentTier.qualification.windowDays) };
  }
  if (nowMs < securedMs + currentTier.graceDays * DAY_MS) {
    return { tierId: currentTier.id, change: "grace", securedUntil: current.securedUntil };
  }
  return { tierId: reached.id, change: "downgrade", securedUntil: addDays(now, reached.qualification.windowDays) };
}

export function findTier(tiers: Tier[], id: string | null | undefined): Tier | undefined {
  return id == null ? undefined : tiers.find((t) => t.id === id);
}

function addDays(iso: string, days: number): string {
  return new Date(Date.parse(iso) + days * DAY_MS).toISOString();
}
