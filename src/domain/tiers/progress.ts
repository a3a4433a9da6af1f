// "How far am I from Gold": a shopper-facing view of progress to the next tier rung.

import { findTier, meetsConditions, type TierMetric, thresholdsOf, tiersByRank } from "./qualification";
import type { Tier, TierBenefits, TierFigures } from "./schema";

interface TierSummary {
  id: string;
  name: string;
  benefits: TierBenefits;
}

interface TierRequirement {
  metric: TierMetric;
  required: number;
  current: number;
  missing: number;
  /** 0–100, whole percent. */
  percent: number;
}

export interface TierProgress {
  current: TierSummary;
  next: TierSummary | null;
  mode: "any" | "all";
  requirements: TierRequirement[];
  /** Overall: "any" takes the best requirement, "all" the worst. */
  percent: number;
  qualifiesForNext: boolean;
  securedUntil: string | null;
  window: { from: string; to: string; days: number };
  message: string;
}

export interface ProgressInput {
  tiers: Tier[];
  currentTierId: string | null;
  figures: TierFigures;
  windowStart: string;
  windowEnd: string;
  securedUntil: string | null;
  /** ISO 4217; when absent, money shows as a plain number with two decimals ("120.00"). */
  currency?: string;
  locale?: string;
}

export function progressToNextTier(input: ProgressInput): TierProgress {
  const ladder = tiersByRank(input.tiers);
  if (ladder.length === 0) throw new Error("progressToNextTier: the program has no tiers");
  const currentTier = findTier(ladder, input.currentTierId) ?? ladder[0];
  // The next rung up, even if the member's figures already reach further.
  const nextTier = ladder.find((t) => t.rank > currentTier.rank) ?? null;
  const window = {
    from: input.windowStart,
    to: input.windowEnd,
    days: Math.round((Date.parse(input.windowEnd) - Date.parse(input.windowStart)) / 86_400_000),
  };
  const base = { current: summary(currentTier), securedUntil: input.securedUntil, window };

  if (!nextTier) {
    return {
      ...base,
      next: null,
      mode: currentTier.qualification.mode ?? "any",
      requirements: [],
      percent: 100,
      qualifiesForNext: false,
      message: `You're at our top tier, ${currentTier.name}`,
    };
  }

  const mode = nextTier.qualification.mode ?? "any";
  const requirements = thresholdsOf(nextTier, input.figures).map(({ metric, required, current }) => {
    const have = Math.max(0, current);
    return {
      metric,
      required,
      current: have,
      missing: Math.max(0, required - have),
      percent: required <= 0 ? 100 : Math.min(100, Math.floor((have / required) * 100)),
    };
  });
  const percents = requirements.map((r) => r.percent);
  const percent = percents.length === 0 ? 0 : mode === "all" ? Math.min(...percents) : Math.max(...percents);
  const qualifiesForNext = meetsConditions(nextTier, input.figures);

  let message: string;
  if (requirements.length === 0) message = `${nextTier.name} is by invitation only`;
  else if (qualifiesForNext) message = `You qualify for ${nextTier.name}: your upgrade is on its way`;
  else {
    const money = moneyFormatter(input.currency, input.locale);
    const steps = requirements.filter((r) => r.missing > 0).map((r) => describeStep(r, money));
    message = `${capitalise(joinSteps(steps, mode === "all" ? "and" : "or"))} to reach ${nextTier.name}`;
  }

  return { ...base, next: summary(nextTier), mode, requirements, percent, qualifiesForNext, message };
}

function summary(tier: Tier): TierSummary {
  return { id: tier.id, name: tier.name, benefits: tier.benefits ?? {} };
}

function describeStep(r: TierRequirement, money: (minor: number) => string): string {
  switch (r.metric) {
    case "spend":
      return `spend ${money(r.missing)} more`;
    case "orders":
      return `place ${r.missing} more ${r.missing === 1 ? "order" : "orders"}`;
    case "points":
      return `earn ${r.missing} more ${r.missing === 1 ? "point" : "points"}`;
    case "activeDays":
      return `be active on ${r.missing} more ${r.missing === 1 ? "day" : "days"}`;
  }
}

/** "a", "a or b", "a, b or c". */
function joinSteps(steps: string[], word: "and" | "or"): string {
  if (steps.length <= 1) return steps.join("");
  return `${steps.slice(0, -1).join(", ")} ${word} ${steps[steps.length - 1]}`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Formats minor units, using the currency's own number of decimals (JPY 0, EUR 2, KWD 3). */
function moneyFormatter(currency?: string, locale = "en-US"): (minor: number) => string {
  if (!currency) {
    const plain = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return (minor) => plain.format(minor / 100);
  }
  const format = new Intl.NumberFormat(locale, { style: "currency", currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return (minor) => format.format(minor / 10 ** digits);
}
