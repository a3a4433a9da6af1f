/*
 * Earning-rules engine: plain function over plain data. The quote endpoint and the accrual
 * call the same `evaluateRules`, so a quote always equals what the purchase earns.
 *
 * Semantics (what a marketer can rely on):
 *  1. Base earn. A purchase always earns the program base rate on the order amount:
 *     floor(amount / unitMinor) × basePointsPerUnit, as the built-in line "base". It is
 *     never suppressed by exclusive rules and is not subject to rule caps. Other triggers
 *     (signup, review, activity, ...) have no base line.
 *  2. Matching. A rule matches when it is active, its trigger type equals the event's
 *     (and its `kind`, when set, equals the event's kind), the event time is inside
 *     [startsAt, endsAt), on one of `daysOfWeek` and inside `timeOfDay`, both read on the
 *     program's local clock (its time zone; UTC when unset), and every condition holds:
 *     min/maxAmount (inclusive, whole order), channel, store, tier, segment (any overlap),
 *     firstPurchase (true = first purchase only, false = repeat purchases only).
 *     Missing or empty lists mean "no restriction". Conditions that need an order
 *     (amount, channel, store, items) fail when the event has none.
 *  3. Eligible amount. Without item conditions a rule's eligible amount is the order amount.
 *     With sku/category include/exclude it is the sum of matching items (quantity × unitPrice;
 *     an item matches when it passes every include list and no exclude list). When items add
 *     up to more than the amount paid (order-level discounts) item values are scaled down
 *     pro rata, so discounts reduce earn. A rule with item conditions and no eligible amount
 *     does not fire.
 *  4. Effects. per_currency_unit = floor(eligible / perMinorUnits) × points; fixed = points;
 *     multiplier = floor(base earn on the eligible amount × (factor − 1)), the *extra* points.
 *  5. Order. Rules run by priority (highest first; ties by id, so results are deterministic).
 *     Stackable rules add up. An exclusive rule (stackable = false) that applies stops the
 *     chain: no lower-priority rule applies ("exclusive_rule_applied"); higher-priority rules
 *     already applied stay, because priority is how a marketer says what beats what.
 *     An exclusive rule that ends up granting 0 points (cap or budget exhausted) does not
 *     block anything.
 *  6. Caps. Each rule's line is clamped to min(remaining per-member cap, remaining budget),
 *     from `usage`; exhausted caps skip the rule with a reason. Caps count the rule's own line
 *     (before the tier multiplier: the tier bonus is the tier's cost, not the campaign's).
 *  7. Tier multiplier. points = floor(sum of lines × tierMultiplier), floored once at the end.
 *  8. Never negative: negative inputs are treated as 0 and every line is ≥ 0.
 */
import { localMinuteOfDay, localWeekday } from "../local-time";
import type { EarningEvent, Order, OrderItem, RuleDefinition, RuleEffect } from "./schema";

export type EngineRule = RuleDefinition & { id: string };

interface ProgramEarnRate {
  /** Points per `unitMinor` of spend, e.g. 1 point per 100 minor units (1.00). */
  basePointsPerUnit: number;
  unitMinor: number;
  /** IANA zone `daysOfWeek` and `timeOfDay` are read in; UTC when unset. */
  timeZone?: string;
}

/**
 * What milestone rules are judged on, as they stand once this event counts: orders and lifetime
 * spend including this purchase, consecutive local months with a purchase ending with this event's
 * month, whole years since joining (on the anniversary event). Absent: no milestone can match.
 */
export interface MilestoneFacts {
  orders: number;
  spend: number;
  streakMonths: number;
  membershipYears: number | null;
}

export interface EarningMember {
  /** For milestone rules; without them milestone rules are skipped (`milestone_not_reached`). */
  milestones?: MilestoneFacts;
  tierId?: string | null;
  /** From the member's tier benefits; 1 when none. */
  tierMultiplier?: number;
  segmentIds: string[];
  isFirstPurchase: boolean;
}

/** Points already issued per rule: to this member, and in total. */
export type RuleUsage = Record<string, { memberPoints: number; totalPoints: number }>;

export interface EvaluateRulesInput {
  rules: EngineRule[];
  program: ProgramEarnRate;
  event: EarningEvent;
  member: EarningMember;
  usage?: RuleUsage;
}

export const BASE_LINE_ID = "base";

interface EarnLine {
  ruleId: string;
  name: string;
  effect: RuleEffect;
  points: number;
  eligibleAmount: number;
  /** Set when a cap cut this line short. */
  clampedBy?: "member_cap" | "budget";
}

type SkipReason =
  | "inactive"
  | "trigger_mismatch"
  | "kind_mismatch"
  | "not_started"
  | "ended"
  | "day_of_week"
  | "time_of_day"
  | "no_order"
  | "min_amount"
  | "max_amount"
  | "channel"
  | "store"
  | "tier"
  | "segment"
  | "first_purchase"
  | "no_eligible_items"
  | "zero_points"
  | "member_cap_reached"
  | "milestone_not_reached"
  | "milestone_already_awarded"
  | "budget_exhausted"
  | "exclusive_rule_applied";

export interface EarnResult {
  /** Total to credit: floor(sum of lines × tierMultiplier). */
  points: number;
  basePoints: number;
  tierMultiplier: number;
  lines: EarnLine[];
  skipped: { ruleId: string; reason: SkipReason }[];
}

export function evaluateRules(input: EvaluateRulesInput): EarnResult {
  const { program, event, member } = input;
  const usage = input.usage ?? {};
  const tierMultiplier = sanitizeMultiplier(member.tierMultiplier);
  const lines: EarnLine[] = [];
  const skipped: EarnResult["skipped"] = [];

  let basePoints = 0;
  if (event.trigger.type === "purchase") {
    const amount = nonNegative(event.order?.amount);
    basePoints = baseEarn(amount, program);
    lines.push({
      ruleId: BASE_LINE_ID,
      name: "Base earn",
      effect: { type: "per_currency_unit", points: program.basePointsPerUnit, perMinorUnits: program.unitMinor },
      points: basePoints,
      eligibleAmount: amount,
    });
  }

  let exclusiveApplied = false;
  for (const rule of byPriority(input.rules)) {
    const mismatch = firstMismatch(rule, event, member, input.program.timeZone ?? "UTC");
    if (mismatch || exclusiveApplied) {
      skipped.push({ ruleId: rule.id, reason: mismatch ?? "exclusive_rule_applied" });
      continue;
    }
    const eligibleAmount = eligibleAmountFor(rule, event.order);
    if (hasItemConditions(rule) && eligibleAmount <= 0) {
      skipped.push({ ruleId: rule.id, reason: "no_eligible_items" });
      continue;
    }
    const raw = effectPoints(rule.effect, eligibleAmount, program);
    if (raw <= 0) {
      skipped.push({ ruleId: rule.id, reason: "zero_points" });
      continue;
    }
    // A milestone awards once per member: any points from the rule before mean it was reached.
    if (rule.trigger.type === "milestone" && (usage[rule.id]?.memberPoints ?? 0) > 0) {
      skipped.push({ ruleId: rule.id, reason: "milestone_already_awarded" });
      continue;
    }
    const capped = clampToCaps(rule, raw, usage[rule.id]);
    if (capped.points <= 0) {
      skipped.push({ ruleId: rule.id, reason: capped.reason! });
      continue;
    }
    lines.push({
      ruleId: rule.id,
      name: rule.name,
      effect: rule.effect,
      points: capped.points,
      eligibleAmount,
      ...(capped.points < raw ? { clampedBy: capped.clampedBy } : {}),
    });
    if (!rule.stackable) exclusiveApplied = true;
  }

  const subtotal = lines.reduce((sum, line) => sum + line.points, 0);
  const points = Math.max(0, floorPoints(subtotal * tierMultiplier));
  return { points, basePoints, tierMultiplier, lines, skipped };
}

/**
 * Points to take back for a (partial) refund, proportional to the amount refunded.
 * Computed as the difference of cumulative floors, so any sequence of partial refunds never
 * reverses more than was earned and refunds adding up to the order amount reverse exactly all.
 */
export function refundReversal(input: { earnedPoints: number; orderAmount: number; refundedSoFar: number; refundAmount: number }): number {
  const earned = Math.floor(nonNegative(input.earnedPoints));
  const order = nonNegative(input.orderAmount);
  const before = nonNegative(input.refundedSoFar);
  const refund = nonNegative(input.refundAmount);
  // A free order that earned points (fixed-points rule): the first refund takes them all back.
  if (order === 0) return before > 0 || refund === 0 ? 0 : earned;
  const reversedBy = (refunded: number) => {
    const share = BigInt(Math.min(order, Math.floor(refunded)));
    return Number((BigInt(earned) * share) / BigInt(Math.floor(order)));
  };
  return Math.max(0, reversedBy(before + refund) - reversedBy(before));
}

// ---------------------------------------------------------------- matching

const minuteOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** [from, to) on the local clock; a window whose end is before its start runs past midnight (22:00–02:00). */
function withinTimeOfDay(minute: number, window: { from: string; to: string }): boolean {
  const from = minuteOf(window.from);
  const to = minuteOf(window.to);
  return from <= to ? minute >= from && minute < to : minute >= from || minute < to;
}

function byPriority(rules: EngineRule[]): EngineRule[] {
  return [...rules].sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The first reason a rule does not apply to this event, or null when it matches. */
function firstMismatch(rule: EngineRule, event: EarningEvent, member: EarningMember, timeZone: string): SkipReason | null {
  if (!rule.active) return "inactive";
  if (rule.trigger.milestone) {
    const m = rule.trigger.milestone;
    // Order milestones ride on purchases; the anniversary on its own (system) event.
    const onEvent =
      m.kind === "anniversary"
        ? event.trigger.type === "milestone" && event.trigger.kind === "anniversary"
        : event.trigger.type === "purchase";
    if (!onEvent) return "trigger_mismatch";
    if (!milestoneReached(m, member.milestones)) return "milestone_not_reached";
  } else if (rule.trigger.type !== event.trigger.type) return "trigger_mismatch";
  if (rule.trigger.kind && rule.trigger.kind !== event.trigger.kind) return "kind_mismatch";

  const c = rule.conditions ?? {};
  const at = Date.parse(event.occurredAt);
  if (c.startsAt && at < Date.parse(c.startsAt)) return "not_started";
  if (c.endsAt && at >= Date.parse(c.endsAt)) return "ended";
  if (isSet(c.daysOfWeek) && !c.daysOfWeek.includes(localWeekday(at, timeZone))) return "day_of_week";
  if (c.timeOfDay && !withinTimeOfDay(localMinuteOfDay(at, timeZone), c.timeOfDay)) return "time_of_day";

  const order = event.order;
  const needsOrder =
    c.minAmount !== undefined || c.maxAmount !== undefined || isSet(c.channels) || isSet(c.stores) || hasItemConditions(rule);
  if (needsOrder && !order) return "no_order";
  if (order) {
    const amount = nonNegative(order.amount);
    if (c.minAmount !== undefined && amount < c.minAmount) return "min_amount";
    if (c.maxAmount !== undefined && amount > c.maxAmount) return "max_amount";
    if (isSet(c.channels) && !(order.channel && c.channels.includes(order.channel))) return "channel";
    if (isSet(c.stores) && !(order.storeId && c.stores.includes(order.storeId))) return "store";
  }
  if (isSet(c.tierIds) && !(member.tierId && c.tierIds.includes(member.tierId))) return "tier";
  if (isSet(c.segmentIds) && !c.segmentIds.some((id) => member.segmentIds.includes(id))) return "segment";
  if (c.firstPurchase !== undefined && c.firstPurchase !== member.isFirstPurchase) return "first_purchase";
  return null;
}

function milestoneReached(m: NonNullable<EngineRule["trigger"]["milestone"]>, facts: MilestoneFacts | undefined): boolean {
  if (!facts) return false;
  switch (m.kind) {
    case "nth_order":
      return facts.orders >= m.n;
    case "lifetime_spend":
      return facts.spend >= m.atLeast;
    case "streak":
      return facts.streakMonths >= m.months;
    case "anniversary":
      return facts.membershipYears !== null && facts.membershipYears >= m.years;
  }
}

/**
 * The run of consecutive months with a purchase that contains `current` ("YYYY-MM" local months):
 * 3 for purchases in March, April and May with `current` any of them; 0 when `current` has none.
 * Both directions count, so a back-dated purchase that fills a gap completes the run it joins.
 */
export function streakMonths(months: Iterable<string>, current: string): number {
  const set = new Set(months);
  if (!set.has(current)) return 0;
  const shift = (month: string, by: number) => {
    const [y, m] = month.split("-").map(Number);
    const index = y * 12 + (m - 1) + by;
    return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
  };
  let n = 1;
  for (let m = shift(current, -1); set.has(m); m = shift(m, -1)) n++;
  for (let m = shift(current, 1); set.has(m); m = shift(m, 1)) n++;
  return n;
}

function hasItemConditions(rule: EngineRule): boolean {
  const c = rule.conditions ?? {};
  return [c.skus?.include, c.skus?.exclude, c.categories?.include, c.categories?.exclude].some(isSet);
}

function itemMatches(rule: EngineRule, item: OrderItem): boolean {
  const { skus, categories } = rule.conditions ?? {};
  return passes(skus, item.sku) && passes(categories, item.category);
}

function passes(filter: { include?: string[]; exclude?: string[] } | undefined, value: string | undefined): boolean {
  if (isSet(filter?.include) && !(value !== undefined && filter.include.includes(value))) return false;
  if (isSet(filter?.exclude) && value !== undefined && filter.exclude.includes(value)) return false;
  return true;
}

function eligibleAmountFor(rule: EngineRule, order: Order | undefined): number {
  if (!order) return 0;
  const paid = nonNegative(order.amount);
  if (!hasItemConditions(rule)) return paid;
  const items = order.items ?? [];
  const lineValue = (i: OrderItem) => nonNegative(i.quantity) * nonNegative(i.unitPrice);
  const itemsTotal = items.reduce((sum, i) => sum + lineValue(i), 0);
  const matching = items.filter((i) => itemMatches(rule, i)).reduce((sum, i) => sum + lineValue(i), 0);
  // Order-level discounts: scale item values so the eligible amount never exceeds what was paid for them.
  if (itemsTotal > paid) return Math.floor((matching * paid) / itemsTotal);
  return matching;
}

// ---------------------------------------------------------------- effects and caps

function baseEarn(amount: number, program: ProgramEarnRate): number {
  if (!(program.unitMinor > 0) || !(program.basePointsPerUnit > 0)) return 0;
  return Math.floor(amount / program.unitMinor) * Math.floor(program.basePointsPerUnit);
}

function effectPoints(effect: RuleEffect, eligibleAmount: number, program: ProgramEarnRate): number {
  switch (effect.type) {
    case "per_currency_unit":
      if (!(effect.perMinorUnits > 0)) return 0;
      return Math.floor(eligibleAmount / effect.perMinorUnits) * nonNegative(effect.points);
    case "fixed":
      return Math.floor(nonNegative(effect.points));
    case "multiplier":
      return Math.max(0, floorPoints(baseEarn(eligibleAmount, program) * (effect.factor - 1)));
  }
}

function clampToCaps(
  rule: EngineRule,
  raw: number,
  used: { memberPoints: number; totalPoints: number } | undefined,
): { points: number; clampedBy?: EarnLine["clampedBy"]; reason?: SkipReason } {
  const memberLeft = rule.capPerMember === undefined ? Infinity : rule.capPerMember - nonNegative(used?.memberPoints);
  const budgetLeft = rule.budgetPoints === undefined ? Infinity : rule.budgetPoints - nonNegative(used?.totalPoints);
  if (budgetLeft <= 0) return { points: 0, reason: "budget_exhausted" };
  if (memberLeft <= 0) return { points: 0, reason: "member_cap_reached" };
  const points = Math.min(raw, memberLeft, budgetLeft);
  return { points, clampedBy: budgetLeft < memberLeft ? "budget" : "member_cap" };
}

// ---------------------------------------------------------------- numbers

function isSet<T>(list: T[] | undefined): list is T[] {
  return Array.isArray(list) && list.length > 0;
}

function nonNegative(n: number | undefined): number {
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : 0;
}

function sanitizeMultiplier(m: number | undefined): number {
  return typeof m === "number" && Number.isFinite(m) && m >= 0 ? m : 1;
}

/** Floor that ignores binary noise: 100 × (1.15 − 1) is 14.999…, which a marketer reads as 15. */
function floorPoints(x: number): number {
  return Math.floor(Math.round(x * 1e6) / 1e6);
}
