// Campaign definitions as marketers write them (JSON), validated by the admin API.
// A campaign = a trigger (when), an audience (who), a window and a frequency cap (how often),
// actions (what: award points, issue a reward, send a message) and optionally an A/B
// experiment whose variants override the actions and whose holdout gets nothing.
import { z } from "zod";
import { CHANNELS } from "./channels";
import { journeySchema } from "./journey";

export { CHANNELS, type Channel } from "./channels";

const channelSchema = z.enum(CHANNELS);

/** Stages a stage_change trigger can react to (see src/domain/lifecycle/stages.ts). */
const STAGES = ["new", "active", "dormant", "at_risk", "churned"] as const;

const id = z.string().min(1).max(64);
const utcTime = z.iso.datetime({ offset: true });

/**
 * When a campaign fires, and what "one occurrence" is (the key that makes it fire once):
 * - welcome: the member's signup (outbox `member.created`); once per member.
 * - birthday: at the program's local midnight, in the member's birthday month or on the day; once per member per year.
 * - tier_up: a `tier.changed` upgrade (optionally only into some tiers); once per upgrade event.
 * - stage_change: a `stage.changed` into one of `to` (dormant wake-up, at_risk, win-back for
 *   churned), optionally only from some stages; once per stage-change event.
 * - points_expiring: daily at the program's local midnight, members with at least `minPoints` expiring within `daysAhead`
 *   days; once per member per first-expiry date.
 * - broadcast: once per member of the audience segment, at `sendAt` (or as soon as active).
 * - first_purchase: the member's first order (outbox `order.accrued` with firstOrder); once per member.
 * - anniversary: at the program's local midnight on the day the member joined, from the first
 *   anniversary on; once per member per year.
 * - segment_entry: a member added to the segment (segment_members.added_at) after the campaign
 *   was created; once per entry (leaving and re-entering is a new entry).
 * - close_to_next_tier: daily, members whose spend in the tier window is at most `withinMinor`
 *   short of the next tier's spend threshold; once per member per next tier and current tier.
 * - tier_at_risk: daily, members whose tier is secured for at most `daysAhead` more days and
 *   whose window figures would not keep it; once per member per securedUntil.
 */
const campaignTriggerSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("welcome") }),
  z.strictObject({ type: z.literal("birthday"), on: z.enum(["day", "month"]).default("day") }),
  z.strictObject({ type: z.literal("tier_up"), toTierIds: z.array(id).max(50).optional() }),
  z.strictObject({
    type: z.literal("stage_change"),
    to: z.array(z.enum(STAGES)).min(1).max(5),
    from: z.array(z.enum(STAGES)).max(5).optional(),
  }),
  z.strictObject({ type: z.literal("points_expiring"), daysAhead: z.int().min(1).max(365), minPoints: z.int().min(1).default(1) }),
  z.strictObject({ type: z.literal("broadcast"), sendAt: utcTime.optional() }),
  z.strictObject({ type: z.literal("first_purchase") }),
  z.strictObject({ type: z.literal("anniversary") }),
  z.strictObject({ type: z.literal("segment_entry"), segmentId: id }),
  z.strictObject({ type: z.literal("close_to_next_tier"), withinMinor: z.int().min(1).max(Number.MAX_SAFE_INTEGER) }),
  z.strictObject({ type: z.literal("tier_at_risk"), daysAhead: z.int().min(1).max(365) }),
]);
export type CampaignTrigger = z.infer<typeof campaignTriggerSchema>;
export type TriggerType = CampaignTrigger["type"];
export const EVENT_TRIGGERS = ["welcome", "tier_up", "stage_change", "first_purchase"] as const satisfies readonly TriggerType[];
/** Triggers checked once per program per local day. */
export const CALENDAR_TRIGGERS = [
  "birthday",
  "points_expiring",
  "anniversary",
  "close_to_next_tier",
  "tier_at_risk",
] as const satisfies readonly TriggerType[];

export const messageActionSchema = z.strictObject({
  type: z.literal("send_message"),
  channel: channelSchema,
  /** `{{field}}` placeholders: name, externalId, email, balance, pending, tier, stage, points, expiringPoints, expiresOn, campaign. */
  template: z.string().min(1).max(5000),
});

const campaignActionSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("award_points"), points: z.int().min(1).max(10_000_000) }),
  z.strictObject({ type: z.literal("issue_reward"), rewardId: id }),
  messageActionSchema,
]);
export type CampaignAction = z.infer<typeof campaignActionSchema>;
export type MessageAction = z.infer<typeof messageActionSchema>;

const actionsSchema = z
  .array(campaignActionSchema)
  .max(10)
  .refine((a) => a.filter((x) => x.type === "award_points").length <= 1, "at most one award_points action")
  .refine((a) => a.filter((x) => x.type === "issue_reward").length <= 1, "at most one issue_reward action");

const conversionSchema = z.discriminatedUnion("type", [
  /** A purchase (orders.occurred_at) within windowDays of exposure; revenue = net order amounts in the window. */
  z.strictObject({ type: z.literal("purchase"), windowDays: z.int().min(1).max(365).default(30) }),
  /** A redemption (ledger entry of type redeem) within windowDays of exposure. */
  z.strictObject({ type: z.literal("redemption"), windowDays: z.int().min(1).max(365).default(30) }),
  /** A recorded activity of this kind (outbox `activity.recorded`) within windowDays of exposure. */
  z.strictObject({ type: z.literal("custom"), activityKind: z.string().min(1).max(64), windowDays: z.int().min(1).max(365).default(30) }),
  /**
   * The member opened (or clicked) one of the campaign's messages within windowDays of exposure
   * (provider events). A holdout receives no messages, so compare variants: controlKey a variant.
   */
  z.strictObject({ type: z.literal("opened"), windowDays: z.int().min(1).max(365).default(7) }),
  z.strictObject({ type: z.literal("clicked"), windowDays: z.int().min(1).max(365).default(7) }),
]);

const variantSchema = z.strictObject({
  key: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/, "variant keys are 1–32 of a-z, 0-9, _ and -")
    .refine((k) => k !== "holdout", "holdout is reserved"),
  weight: z.number().positive().max(1_000_000),
  /** The variant's treatment; omitted = the campaign's actions. */
  actions: actionsSchema.optional(),
  /** For a journey: the step this variant's members start at (omitted = the journey's entry). */
  entryStepId: z.string().max(40).optional(),
});

export const experimentSchema = z
  .strictObject({
    variants: z.array(variantSchema).min(1).max(10),
    /** Percent (0–100) of members held out: recorded as exposed, given nothing. */
    holdoutPct: z.number().min(0).max(90).default(10),
    /** The group others are compared against: "holdout" (default when holdoutPct > 0) or a variant key. */
    controlKey: z.string().max(32).optional(),
    conversion: conversionSchema.default({ type: "purchase", windowDays: 30 }),
    /** Absolute change in conversion rate worth detecting, e.g. 0.02 = 10 % → 12 %. */
    minimumDetectableEffect: z.number().min(0.001).max(0.5).default(0.02),
    maxDurationDays: z.int().min(1).max(365).default(30),
  })
  .refine((e) => new Set(e.variants.map((v) => v.key)).size === e.variants.length, {
    message: "variant keys must be unique",
    path: ["variants"],
  })
  .refine((e) => e.holdoutPct > 0 || e.controlKey !== "holdout", {
    message: "controlKey holdout needs holdoutPct > 0",
    path: ["controlKey"],
  })
  .refine((e) => e.controlKey === undefined || e.controlKey === "holdout" || e.variants.some((v) => v.key === e.controlKey), {
    message: "controlKey must be holdout or one of the variant keys",
    path: ["controlKey"],
  })
  .refine((e) => e.holdoutPct > 0 || e.variants.length >= 2, {
    message: "without a holdout an experiment needs at least two variants",
    path: ["variants"],
  });
export type ExperimentDefinition = z.infer<typeof experimentSchema>;

/** The control group's key: the holdout when there is one, unless a variant is named. */
export const controlKeyOf = (e: ExperimentDefinition) => e.controlKey ?? (e.holdoutPct > 0 ? "holdout" : e.variants[0].key);

export const campaignDefinitionSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    /** draft and paused campaigns do not fire; ended is final. */
    status: z.enum(["draft", "active", "paused", "ended"]).default("active"),
    trigger: campaignTriggerSchema,
    audience: z.strictObject({ segmentId: id.optional() }).default({}),
    /** Active window [startsAt, endsAt): start inclusive, end exclusive. */
    window: z.strictObject({ startsAt: utcTime.optional(), endsAt: utcTime.optional() }).default({}),
    /** At most `max` occurrences per member within `perDays` days (holdout included: it is a contact decision). */
    frequencyCap: z.strictObject({ max: z.int().min(1).max(1000), perDays: z.int().min(1).max(3650) }).optional(),
    actions: actionsSchema.default([]),
    /** Money cap on what the campaign spends (points at the program's cost per point), minor units. */
    budgetMinor: z.int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
    /** Orders within this many days after an occurrence are attributed to the campaign (ROI). */
    attributionDays: z.int().min(1).max(365).default(30),
    /** Label for CAC reporting when the campaign recruits members. */
    acquisitionChannel: z.string().trim().min(1).max(64).optional(),
    experiment: experimentSchema.optional(),
    /** Multi-step: members who trigger the campaign enter this journey instead of receiving `actions`. */
    journey: journeySchema.optional(),
    /** When the contact policy must choose between messages to one member, higher priorities go first. */
    priority: z.int().min(0).max(100).default(0),
  })
  .refine((c) => !c.window.startsAt || !c.window.endsAt || Date.parse(c.window.startsAt) < Date.parse(c.window.endsAt), {
    message: "startsAt must be before endsAt",
    path: ["window", "endsAt"],
  })
  .refine((c) => c.trigger.type !== "broadcast" || c.audience.segmentId !== undefined, {
    message: "a broadcast needs audience.segmentId",
    path: ["audience", "segmentId"],
  })
  .refine(
    (c) => c.journey !== undefined || c.actions.length > 0 || (c.experiment?.variants.every((v) => (v.actions?.length ?? 0) > 0) ?? false),
    {
      message: "give the campaign actions (or every experiment variant its own), or a journey",
      path: ["actions"],
    },
  )
  .refine((c) => !c.journey || (c.actions.length === 0 && (c.experiment?.variants.every((v) => !v.actions) ?? true)), {
    message: "a journey's members get its steps: leave actions (and variants' actions) out",
    path: ["actions"],
  })
  .superRefine((c, ctx) => {
    for (const [i, v] of (c.experiment?.variants ?? []).entries()) {
      if (v.entryStepId === undefined) continue;
      if (!c.journey) ctx.addIssue({ code: "custom", message: "entryStepId is for journeys", path: ["experiment", "variants", i] });
      else if (!c.journey.steps.some((s) => s.id === v.entryStepId))
        ctx.addIssue({
          code: "custom",
          message: `variant ${v.key} starts at unknown step ${v.entryStepId}`,
          path: ["experiment", "variants", i, "entryStepId"],
        });
    }
  });
export type CampaignDefinition = z.infer<typeof campaignDefinitionSchema>;

export function withinWindow(def: Pick<CampaignDefinition, "window">, at: string): boolean {
  const t = Date.parse(at);
  if (def.window.startsAt && t < Date.parse(def.window.startsAt)) return false;
  if (def.window.endsAt && t >= Date.parse(def.window.endsAt)) return false;
  return true;
}

/** The actions one group receives: the rolled-out winner, the variant's own, or the campaign's. */
export function actionsFor(def: CampaignDefinition, variantKey: string | null): CampaignAction[] {
  if (variantKey === "holdout") return [];
  const variant = variantKey ? def.experiment?.variants.find((v) => v.key === variantKey) : undefined;
  return variant?.actions ?? def.actions;
}
