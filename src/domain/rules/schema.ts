// Earning-rule definitions as marketers write them (JSON), validated by the admin API.
// Objects are strict so a typo such as "minAmout" is rejected instead of silently ignored.
// Money is integer minor units, points are integers, times are ISO-8601 UTC strings.
import { z } from "zod";

const triggerTypes = ["purchase", "signup", "birthday", "referral", "review", "survey", "activity", "milestone"] as const;
export type TriggerType = (typeof triggerTypes)[number];

/**
 * Triggers only the system fires: the signup bonus (once per member), the birthday bonus (once
 * a year) and the referral reward (once per qualified referral). A client can never report one
 * as an activity; `activity` rules (with a `kind`) say which kinds clients report, and review
 * and survey may come from a client too (directly, or through feedback).
 */
const systemTriggerTypes = ["signup", "birthday", "referral", "anniversary"] as const;
export type SystemTriggerType = (typeof systemTriggerTypes)[number];
export const isSystemTrigger = (kind: string): kind is SystemTriggerType => (systemTriggerTypes as readonly string[]).includes(kind.trim());

/** Why a client may not report an activity of this kind (null: it may), worded for the API's 400. */
export function reportedKindProblem(kind: string): string | null {
  if (!isSystemTrigger(kind)) return null;
  return `"${kind.trim()}" is a bonus the system awards itself (${systemTriggerTypes.join(", ")}); report review, survey or a custom kind`;
}

const minorUnits = z.int().nonnegative();
const utcTime = z.iso.datetime();
const code = z.string().min(1).max(128);

/**
 * A milestone a member reaches once: their nth order, lifetime spend reaching a threshold, purchases
 * in `months` consecutive local months (ending with this purchase's month), or the `years`th
 * anniversary of joining (local date; 29 February joiners celebrate on 28 February in other years).
 * The first three are checked on every purchase, the anniversary by the hourly calendar job.
 */
const milestoneSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("nth_order"), n: z.int().min(1).max(100_000) }),
  z.strictObject({ kind: z.literal("lifetime_spend"), atLeast: minorUnits.min(1) }),
  z.strictObject({ kind: z.literal("streak"), months: z.int().min(2).max(24) }),
  z.strictObject({ kind: z.literal("anniversary"), years: z.int().min(1).max(100) }),
]);

const triggerSchema = z
  .strictObject({
    type: z.enum(triggerTypes),
    /** Activity kind ("app_login", "store_checkin", ...); when set the event's kind must equal it. */
    kind: code.optional(),
    /** With type `milestone`: which one. */
    milestone: milestoneSchema.optional(),
  })
  .refine((t) => (t.type === "milestone") === (t.milestone !== undefined), {
    message: "a milestone trigger names its milestone (and only a milestone trigger does)",
    path: ["milestone"],
  });

/** Empty or missing lists mean "no restriction". */
const includeExcludeSchema = z.strictObject({
  include: z.array(code).optional(),
  exclude: z.array(code).optional(),
});

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM, 00:00–23:59");

const ruleConditionsSchema = z
  .strictObject({
    /** Whole-order amount bounds, inclusive. */
    minAmount: minorUnits.optional(),
    maxAmount: minorUnits.optional(),
    /** Item filters: restrict the eligible amount to matching items. */
    skus: includeExcludeSchema.optional(),
    categories: includeExcludeSchema.optional(),
    channels: z.array(code).optional(),
    stores: z.array(code).optional(),
    tierIds: z.array(code).optional(),
    /** The member must be in at least one of these segments. */
    segmentIds: z.array(code).optional(),
    /** Window [startsAt, endsAt): start inclusive, end exclusive. */
    startsAt: utcTime.optional(),
    endsAt: utcTime.optional(),
    /** 0 = Sunday … 6 = Saturday, on the program's local calendar (its time zone). */
    daysOfWeek: z.array(z.int().min(0).max(6)).optional(),
    /** Local clock window [from, to) as HH:MM; to < from runs past midnight (e.g. 22:00–02:00). */
    timeOfDay: z
      .strictObject({ from: hhmm, to: hhmm })
      .refine((w) => w.from !== w.to, { message: "from and to must differ" })
      .optional(),
    /** true: only the member's first purchase; false: only repeat purchases. */
    firstPurchase: z.boolean().optional(),
  })
  .refine((c) => c.minAmount === undefined || c.maxAmount === undefined || c.minAmount <= c.maxAmount, {
    message: "minAmount must not exceed maxAmount",
    path: ["maxAmount"],
  })
  .refine((c) => !c.startsAt || !c.endsAt || Date.parse(c.startsAt) < Date.parse(c.endsAt), {
    message: "startsAt must be before endsAt",
    path: ["endsAt"],
  });
export type RuleConditions = z.infer<typeof ruleConditionsSchema>;

const ruleEffectSchema = z.discriminatedUnion("type", [
  /** floor(eligibleAmount / perMinorUnits) × points, e.g. 1 point per 1.00 = { points: 1, perMinorUnits: 100 }. */
  z.strictObject({ type: z.literal("per_currency_unit"), points: z.int().positive(), perMinorUnits: z.int().positive() }),
  /** A flat number of points per matching event. */
  z.strictObject({ type: z.literal("fixed"), points: z.int().positive() }),
  /** Multiplies the base earn on the eligible amount: extra points = base × (factor − 1). */
  z.strictObject({ type: z.literal("multiplier"), factor: z.number().min(1).max(100) }),
]);
export type RuleEffect = z.infer<typeof ruleEffectSchema>;

export const ruleDefinitionSchema = z
  .strictObject({
    name: z.string().min(1).max(200),
    trigger: triggerSchema,
    conditions: ruleConditionsSchema.default({}),
    effect: ruleEffectSchema,
    /** Higher runs first. */
    priority: z.int().min(-1_000_000).max(1_000_000).default(0),
    /** false = exclusive: once it applies, no lower-priority rule applies. */
    stackable: z.boolean().default(true),
    /** Lifetime points one member may earn from this rule. */
    capPerMember: z.int().positive().optional(),
    /** Lifetime points this rule may issue across all members. */
    budgetPoints: z.int().positive().optional(),
    active: z.boolean().default(true),
  })
  .refine((r) => r.trigger.type !== "milestone" || r.effect.type === "fixed", {
    message: "a milestone rule awards fixed points",
    path: ["effect"],
  });
/** A validated rule definition (defaults applied). */
export type RuleDefinition = z.infer<typeof ruleDefinitionSchema>;
/** What an admin may send (defaults optional). */
export type RuleDefinitionInput = z.input<typeof ruleDefinitionSchema>;

// ---- Events the engine evaluates (accrual and the quote endpoint share these) ----

const orderItemSchema = z.strictObject({
  sku: code,
  category: code.optional(),
  quantity: z.int().positive(),
  /** Per unit, minor units. */
  unitPrice: minorUnits,
});
export type OrderItem = z.infer<typeof orderItemSchema>;

const orderSchema = z.strictObject({
  /** What the shopper paid, minor units. */
  amount: minorUnits,
  items: z.array(orderItemSchema).optional(),
  channel: code.optional(),
  storeId: code.optional(),
});
export type Order = z.infer<typeof orderSchema>;

const earningEventSchema = z.strictObject({
  trigger: triggerSchema,
  occurredAt: utcTime,
  order: orderSchema.optional(),
});
export type EarningEvent = z.infer<typeof earningEventSchema>;
