import { z } from "@hono/zod-openapi";
import { count, eq, inArray, type SQL, sql } from "drizzle-orm";
import {
  budgets,
  campaignOccurrences,
  campaigns,
  coupons,
  earningRules,
  experiments,
  members,
  programs,
  rewards,
  segments,
  tiers,
} from "../../../schema";
import { lifecycleThresholdsOf } from "../../analytics/lifecycle";
import { type CampaignDefinition, CHANNELS, campaignDefinitionSchema } from "../../domain/campaigns/definition";
import { lifecycleThresholdsSchema } from "../../domain/lifecycle/stages";
import { storedExpiry } from "../../domain/points/expiry";
import { type RuleDefinition, ruleDefinitionSchema } from "../../domain/rules/schema";
import { segmentRuleSchema } from "../../domain/segments/rule";
import { type TierDefinition, tierDefinitionSchema, tierLadderProblems } from "../../domain/tiers/schema";
import type { ServiceContext } from "../../lib/context";
import { AppError, errorChainText, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { assertTargetUrl } from "../../lib/outbound-fetch";
import { sealSecret, secretContext } from "../../lib/secret-box";
import { newSigningSecret } from "../../lib/signing";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { definitionOf as campaignDefinitionOf } from "../campaigns/campaigns";
import { channelsOf } from "../campaigns/channels";
import { experimentDefinitionOf } from "../experiments/experiments";
import { ReferralSettingsSchema, referralSettings } from "../referrals/referrals";
import { definitionFrom, type RewardInput, definitionOf as rewardDefinitionOf, rewardFields, rewardProblems } from "../rewards/rewards";
import { MAX_SEGMENTS_PER_PROGRAM } from "../segments/segments";
import { tierVersionInsert } from "../tiers/versions";
import { configVersionBump } from "./config-version";
import { getProgramSettings, settingsExample, settingsFields } from "./settings";

/**
 * The program's whole configuration as one document (format `version` 1). Objects are keyed by
 * what an admin names them (tier, rule, reward, segment and campaign names; budget periods;
 * channel names), never by generated ids: references between objects (a reward's tiers, a
 * campaign's segment, rewards and tiers, its experiment variants' rewards, a segment rule's
 * `tierId`, an earning rule's tier and segment conditions) hold the referenced object's name, so
 * a document taken from one program applies to another.
 */
const CONFIG_FORMAT_VERSION = 1;

const uniqueBy =
  <T>(key: (t: T) => string, what: string) =>
  (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const k = key(item);
      if (seen.has(k)) ctx.addIssue({ code: "custom", message: `duplicate ${what} ${JSON.stringify(k)}`, path: [i] });
      seen.add(k);
    });
  };

const RewardConfigSchema = z
  .object(rewardFields)
  .omit({ tierIds: true })
  .extend({
    tiers: z.array(z.string().min(1).max(100)).max(50).openapi({ description: "Names of the tiers allowed to redeem; empty = all" }),
  })
  .strict();

const SegmentConfigSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().trim().max(2000).nullable(),
    rule: z.unknown().openapi({ description: "Segment rule, as in POST /v1/segments; `tierId` conditions hold tier names" }),
  })
  .strict()
  .superRefine((s, ctx) => {
    const parsed = segmentRuleSchema.safeParse(s.rule);
    if (!parsed.success)
      for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: ["rule", ...issue.path] });
  });

const BudgetConfigSchema = z
  .object({
    period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "a month, YYYY-MM"),
    amountMinor: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  })
  .strict();

const ChannelConfigSchema = z.object({ channel: z.enum(CHANNELS), url: z.string().url().max(2000) }).strict();

const opaque = (description: string) => z.record(z.string(), z.unknown()).openapi({ description });

export const ProgramConfigSchema = z
  .object({
    version: z.literal(CONFIG_FORMAT_VERSION).openapi({ description: "Format of this document" }),
    configVersion: z
      .int()
      .optional()
      .openapi({ description: "The program's configuration version when exported; informational, ignored on apply" }),
    settings: z.object(settingsFields).strict(),
    tiers: z
      .array(tierDefinitionSchema)
      .max(100)
      .superRefine(uniqueBy((t: TierDefinition) => t.name, "tier name"))
      .superRefine(uniqueBy((t: TierDefinition) => String(t.rank), "tier rank"))
      .openapi({ description: "Tier definitions as in POST /v1/tiers, keyed by name" }),
    rules: z
      .array(ruleDefinitionSchema)
      .max(500)
      .superRefine(uniqueBy((r: RuleDefinition) => r.name, "rule name"))
      .openapi({ description: "Earning rule definitions as in POST /v1/rules, keyed by name" }),
    rewards: z
      .array(RewardConfigSchema)
      .max(1000)
      .superRefine(uniqueBy((r: { name: string }) => r.name, "reward name")),
    referral: ReferralSettingsSchema,
    segments: z
      .array(SegmentConfigSchema)
      .max(MAX_SEGMENTS_PER_PROGRAM)
      .superRefine(uniqueBy((s: { name: string }) => s.name, "segment name")),
    campaigns: z
      .array(
        opaque(
          "Campaign definition as in POST /v1/campaigns, its `experiment` included; `audience.segmentId`, `issue_reward.rewardId` (the campaign's and its variants'), `trigger.toTierIds`, a segment_entry `trigger.segmentId` and journey award steps' `rewardId` hold names",
        ),
      )
      .max(1000)
      .superRefine((items, ctx) => {
        items.forEach((item, i) => {
          const parsed = campaignDefinitionSchema.safeParse(item);
          if (!parsed.success)
            for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: [i, ...issue.path] });
        });
        uniqueBy((c: Record<string, unknown>) => String(c.name), "campaign name")(items, ctx);
      }),
    lifecycle: opaque("Lifecycle thresholds as in PUT /v1/analytics/lifecycle/settings").superRefine((l, ctx) => {
      const parsed = lifecycleThresholdsSchema.safeParse(l);
      if (!parsed.success)
        for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
    }),
    budgets: z
      .array(BudgetConfigSchema)
      .max(1000)
      .superRefine(uniqueBy((b: { period: string }) => b.period, "budget period")),
    channels: z
      .array(ChannelConfigSchema)
      .max(CHANNELS.length)
      .superRefine(uniqueBy((c: { channel: string }) => c.channel, "channel"))
      .openapi({
        description: "Channel endpoints without their signing secrets (a new endpoint gets a fresh secret; see GET /v1/channels)",
      }),
  })
  .strict()
  .openapi("ProgramConfig", {
    description: "The program's whole configuration, keyed by names rather than ids",
    example: {
      version: 1,
      configVersion: 7,
      settings: settingsExample,
      tiers: [
        { name: "Member", rank: 0, qualification: { windowDays: 365, mode: "any" }, benefits: {}, graceDays: 0 },
        {
          name: "Gold",
          rank: 1,
          qualification: { windowDays: 365, mode: "any", minSpend: 100_000 },
          benefits: { pointsMultiplier: 1.5 },
          graceDays: 30,
        },
      ],
      rules: [],
      rewards: [
        {
          name: "Free coffee",
          kind: "free_product",
          pointsCost: 500,
          costMinor: 80,
          active: true,
          inventory: null,
          perMemberLimit: null,
          tiers: ["Gold"],
          startsAt: null,
          endsAt: null,
          couponValidDays: 30,
          description: null,
          value: null,
          productSku: "COF-1",
        },
      ],
      referral: { referrerPoints: 500, refereePoints: 200, maxPerMonth: 10, minOrderAmount: 3000 },
      segments: [{ name: "Big spenders", description: null, rule: { field: "lifetimeSpend", op: "gte", value: 50_000 } }],
      campaigns: [
        {
          name: "Gold welcome",
          status: "active",
          trigger: { type: "tier_up", toTierIds: ["Gold"] },
          audience: { segmentId: "Big spenders" },
          window: {},
          actions: [{ type: "issue_reward", rewardId: "Free coffee" }],
          attributionDays: 30,
        },
      ],
      lifecycle: { newDays: 30 },
      budgets: [{ period: "2026-12", amountMinor: 500_000 }],
      channels: [{ channel: "email", url: "https://hooks.example.com/loyalty/email" }],
    },
  });

export type ProgramConfig = z.infer<typeof ProgramConfigSchema>;

const ConfigChangeSchema = z
  .object({
    kind: z.enum(["settings", "tier", "rule", "reward", "referral", "segment", "campaign", "lifecycle", "budget", "channel"]),
    key: z.string().openapi({ description: "The object's stable key (name, period or channel)" }),
    action: z.enum(["create", "update", "delete"]),
  })
  .openapi("ConfigChange");
type ConfigChange = z.infer<typeof ConfigChangeSchema>;

export const ConfigPlanSchema = z
  .object({
    dryRun: z.boolean(),
    changes: z
      .array(ConfigChangeSchema)
      .openapi({ description: "What applying changes (or would change); empty when the program already matches" }),
    configVersion: z
      .int()
      .openapi({ description: "The configuration version after the apply (unchanged on a dry run or with no changes)" }),
  })
  .openapi("ConfigPlan");

const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, x]) => [k, canonical(x)]),
    );
  return v;
}
const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

type Loaded = Awaited<ReturnType<typeof loadConfig>>;

async function loadConfig(ctx: ServiceContext, programId: string) {
  const [program] = await ctx.db.select().from(programs).where(eq(programs.id, programId)).limit(1);
  if (!program) throw notFound("Program");
  const [tierRows, ruleRows, rewardRows, segmentRows, campaignRows, experimentRows, budgetRows] = await ctx.db.batch([
    ctx.db.select().from(tiers).where(eq(tiers.programId, programId)),
    ctx.db.select().from(earningRules).where(eq(earningRules.programId, programId)),
    ctx.db.select().from(rewards).where(eq(rewards.programId, programId)),
    ctx.db.select().from(segments).where(eq(segments.programId, programId)),
    ctx.db.select().from(campaigns).where(eq(campaigns.programId, programId)),
    ctx.db.select().from(experiments).where(eq(experiments.programId, programId)),
    ctx.db.select().from(budgets).where(eq(budgets.programId, programId)),
  ]);
  return { program, tierRows, ruleRows, rewardRows, segmentRows, campaignRows, experimentRows, budgetRows };
}

type Action = { type: string; rewardId?: string };

/** A campaign definition with its references turned from ids into names or back. */
function mapCampaignRefs(
  def: Record<string, unknown>,
  maps: { segment: (k: string) => string; reward: (k: string) => string; tier: (k: string) => string },
) {
  const d = structuredClone(def) as Record<string, unknown> & {
    audience?: { segmentId?: string };
    actions?: Action[];
    trigger?: { type: string; toTierIds?: string[]; segmentId?: string };
    experiment?: { variants?: { actions?: Action[] }[] };
    journey?: { steps?: { type: string; rewardId?: string }[] };
  };
  if (d.audience?.segmentId) d.audience.segmentId = maps.segment(d.audience.segmentId);
  if (d.trigger?.type === "segment_entry" && d.trigger.segmentId) d.trigger.segmentId = maps.segment(d.trigger.segmentId);
  for (const s of d.journey?.steps ?? []) if (s.type === "award" && s.rewardId) s.rewardId = maps.reward(s.rewardId);
  const actions = [...(d.actions ?? []), ...(d.experiment?.variants ?? []).flatMap((v) => v.actions ?? [])];
  for (const a of actions) if (a.type === "issue_reward" && a.rewardId) a.rewardId = maps.reward(a.rewardId);
  if (d.trigger?.toTierIds) d.trigger.toTierIds = d.trigger.toTierIds.map(maps.tier);
  return d;
}

/** A segment rule with the values of its `tierId` conditions (tier ids, or names) mapped. */
function mapSegmentRuleTiers(rule: unknown, tier: (k: string) => string): unknown {
  if (!rule || typeof rule !== "object") return rule;
  const r = rule as Record<string, unknown>;
  if (Array.isArray(r.and)) return { ...r, and: r.and.map((x) => mapSegmentRuleTiers(x, tier)) };
  if (Array.isArray(r.or)) return { ...r, or: r.or.map((x) => mapSegmentRuleTiers(x, tier)) };
  if ("not" in r) return { ...r, not: mapSegmentRuleTiers(r.not, tier) };
  if (r.field !== "tierId" || !("value" in r)) return r;
  const value = r.value;
  return {
    ...r,
    value: typeof value === "string" ? tier(value) : Array.isArray(value) ? value.map((v) => (typeof v === "string" ? tier(v) : v)) : value,
  };
}

/** An earning rule definition with its tier and segment conditions mapped. */
function mapRuleRefs(def: RuleDefinition, maps: { segment: (k: string) => string; tier: (k: string) => string }): RuleDefinition {
  const { tierIds, segmentIds } = def.conditions;
  if (!tierIds && !segmentIds) return def;
  return {
    ...def,
    conditions: {
      ...def.conditions,
      ...(tierIds && { tierIds: tierIds.map(maps.tier) }),
      ...(segmentIds && { segmentIds: segmentIds.map(maps.segment) }),
    },
  };
}

function documentOf(l: Loaded, settings: Awaited<ReturnType<typeof getProgramSettings>>): ProgramConfig {
  const nameOf = (rows: { id: string; name: string }[]) => (id: string) => rows.find((r) => r.id === id)?.name ?? id;
  const { id: _id, configVersion, createdAt: _c, updatedAt: _u, ...settingFields } = settings;
  const stored = l.program.settings ?? {};
  return {
    version: CONFIG_FORMAT_VERSION,
    configVersion,
    settings: settingFields,
    tiers: l.tierRows.map((r) => tierDefinitionSchema.parse(r.definition)).sort((a, b) => a.rank - b.rank),
    rules: l.ruleRows
      .map((r) => mapRuleRefs(ruleDefinitionSchema.parse(r.definition), { segment: nameOf(l.segmentRows), tier: nameOf(l.tierRows) }))
      .sort(byName),
    rewards: l.rewardRows
      .map((r) => {
        const d = rewardDefinitionOf(r);
        return {
          name: r.name,
          kind: r.kind,
          pointsCost: r.pointsCost,
          costMinor: r.costMinor,
          active: r.active,
          inventory: d.inventoryTotal,
          perMemberLimit: d.perMemberLimit,
          tiers: d.tierIds.map(nameOf(l.tierRows)).sort(),
          startsAt: d.startsAt,
          endsAt: d.endsAt,
          couponValidDays: d.couponValidDays,
          description: d.description,
          value: d.value,
          productSku: d.productSku,
        };
      })
      .sort(byName),
    referral: referralSettings(stored),
    segments: l.segmentRows
      .map((r) => ({ name: r.name, description: r.description, rule: mapSegmentRuleTiers(r.rule, nameOf(l.tierRows)) }))
      .sort(byName),
    campaigns: l.campaignRows
      .map((r) => {
        return mapCampaignRefs(campaignDefinitionOf(r), {
          segment: nameOf(l.segmentRows),
          reward: nameOf(l.rewardRows),
          tier: nameOf(l.tierRows),
        });
      })
      .sort((a, b) => byName(a as { name: string }, b as { name: string })),
    lifecycle: lifecycleThresholdsSchema.safeParse((stored as Record<string, unknown>).lifecycle).data ?? {},
    budgets: l.budgetRows.map((b) => ({ period: b.period, amountMinor: b.amountMinor })).sort((a, b) => (a.period < b.period ? -1 : 1)),
    channels: Object.entries(channelsOf(stored)).map(([channel, e]) => ({ channel: channel as (typeof CHANNELS)[number], url: e!.url })),
  };
}

export async function exportProgramConfig({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }): Promise<ProgramConfig> {
  const loaded = await loadConfig(ctx, input.programId);
  const doc = documentOf(loaded, await getProgramSettings({ ctx, input }));
  // Stored lifecycle thresholds absent: the defaults are what the program runs with.
  if (Object.keys(doc.lifecycle).length === 0) doc.lifecycle = await lifecycleThresholdsOf(ctx.db, input.programId);
  return doc;
}

const invalid = (message: string) => new AppError("invalid_request", message);

/**
 * Plan the changes that make the program match `doc` and, unless `dryRun`, write them in one
 * batch with one audit entry per change, bumping the configuration version once. Objects are
 * matched by name (period, channel); an object absent from the document is deleted, refused
 * (409) when history depends on it as the single-object routes refuse it.
 */
export async function applyProgramConfig({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; document: ProgramConfig; dryRun: boolean };
}): Promise<z.infer<typeof ConfigPlanSchema>> {
  const { programId, document: doc, dryRun } = input;
  const loaded = await loadConfig(ctx, programId);
  const current = documentOf(loaded, await getProgramSettings({ ctx, input: { programId } }));
  const now = nowIso();
  const changes: ConfigChange[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: drizzle batch items of many tables
  const writes: any[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const late: any[] = [];
  const audit = (change: ConfigChange, before: unknown, after: unknown) => {
    changes.push(change);
    writes.push(
      auditStatement(ctx, {
        action: `config.${change.kind}.${change.action}`,
        entityType: change.kind,
        entityId: change.key,
        before,
        after,
      }),
    );
  };

  // Ids of the objects after the apply, by name: existing ones keep theirs, new ones get one now.
  const idsByName = (rows: { id: string; name: string }[], wanted: { name: string }[], prefix: "tier" | "rwd" | "seg") => {
    const m = new Map<string, string>();
    for (const w of wanted) m.set(w.name, rows.find((r) => r.name === w.name)?.id ?? newId(prefix));
    return m;
  };
  const tierIds = idsByName(loaded.tierRows, doc.tiers, "tier");
  const rewardIds = idsByName(loaded.rewardRows, doc.rewards, "rwd");
  const segmentIds = idsByName(loaded.segmentRows, doc.segments, "seg");
  const ref = (m: Map<string, string>, what: string, path: string) => (name: string) => {
    const id = m.get(name);
    if (!id) throw invalid(`${path}: no ${what} named ${JSON.stringify(name)} in the document`);
    return id;
  };

  // Settings.
  const settingsPatch = Object.fromEntries(
    Object.entries(doc.settings).filter(([k, v]) => !same(v, current.settings[k as keyof typeof current.settings])),
  ) as Partial<ProgramConfig["settings"]>;
  if (Object.keys(settingsPatch).length > 0) {
    if (settingsPatch.currency !== undefined) {
      const [{ n }] = await ctx.db.select({ n: count() }).from(members).where(eq(members.programId, programId));
      if (n > 0)
        throw new AppError(
          "currency_locked",
          `The program's currency is ${current.settings.currency} and it has members, so it cannot change`,
        );
    }
    const { expiryPolicy, allowedOrigins, defaultLocale, ...plain } = settingsPatch;
    writes.push(
      ctx.db
        .update(programs)
        .set({
          ...plain,
          ...(expiryPolicy && storedExpiry(expiryPolicy)),
          ...(allowedOrigins && { allowedOrigins: [...new Set(allowedOrigins)] }),
          ...(defaultLocale && { defaultLocale: Intl.getCanonicalLocales(defaultLocale)[0] }),
          updatedAt: now,
        })
        .where(eq(programs.id, programId)),
    );
    audit(
      { kind: "settings", key: "program", action: "update" },
      Object.fromEntries(Object.keys(settingsPatch).map((k) => [k, current.settings[k as keyof typeof current.settings]])),
      settingsPatch,
    );
  }

  // Tiers: ranks are unique per program, so changed ranks move through negative ones first.
  const ladderProblems = doc.tiers.length > 0 ? tierLadderProblems(doc.tiers) : [];
  if (ladderProblems.length) throw invalid(`tiers: ${ladderProblems.join("; ")}`);
  for (const row of loaded.tierRows.filter((r) => !doc.tiers.some((t) => t.name === r.name))) {
    const [{ n }] = await ctx.db.select({ n: count() }).from(members).where(eq(members.tierId, row.id));
    if (n > 0) throw new AppError("conflict", `tiers: ${n} members are on tier ${row.name}; it cannot be deleted`);
    writes.push(ctx.db.delete(tiers).where(eq(tiers.id, row.id)));
    audit({ kind: "tier", key: row.name, action: "delete" }, row.definition, null);
  }
  doc.tiers.forEach((t, i) => {
    const row = loaded.tierRows.find((r) => r.name === t.name);
    if (!row) {
      late.push(
        ctx.db
          .insert(tiers)
          .values({ id: tierIds.get(t.name)!, programId, name: t.name, rank: t.rank, definition: t, createdAt: now, updatedAt: now }),
        tierVersionInsert(ctx.db, { tierId: tierIds.get(t.name)!, programId, version: 1, definition: t, now }),
      );
      audit({ kind: "tier", key: t.name, action: "create" }, null, t);
    } else if (!same(tierDefinitionSchema.parse(row.definition), t)) {
      if (row.rank !== t.rank)
        writes.push(
          ctx.db
            .update(tiers)
            .set({ rank: -1 - i })
            .where(eq(tiers.id, row.id)),
        );
      late.push(
        ctx.db
          .update(tiers)
          .set({ definition: t, rank: t.rank, version: row.version + 1, updatedAt: now })
          .where(eq(tiers.id, row.id)),
        tierVersionInsert(ctx.db, { tierId: row.id, programId, version: row.version + 1, definition: t, now }),
      );
      audit({ kind: "tier", key: t.name, action: "update" }, row.definition, t);
    }
  });
  writes.push(...late.splice(0));

  // Earning rules.
  for (const row of loaded.ruleRows.filter((r) => !doc.rules.some((d) => d.name === r.name))) {
    writes.push(ctx.db.delete(earningRules).where(eq(earningRules.id, row.id)));
    audit({ kind: "rule", key: row.name, action: "delete" }, row.definition, null);
  }
  const segmentRef = (path: string) => ref(segmentIds, "segment", path);
  const tierRef = (path: string) => ref(tierIds, "tier", path);
  doc.rules.forEach((named, i) => {
    const row = loaded.ruleRows.find((r) => r.name === named.name);
    const d = mapRuleRefs(named, {
      segment: segmentRef(`rules.${i}.conditions.segmentIds`),
      tier: tierRef(`rules.${i}.conditions.tierIds`),
    });
    if (!row) {
      writes.push(
        ctx.db
          .insert(earningRules)
          .values({ id: newId("rule"), programId, name: d.name, active: d.active, definition: d, createdAt: now, updatedAt: now }),
      );
      audit({ kind: "rule", key: d.name, action: "create" }, null, d);
    } else if (!same(ruleDefinitionSchema.parse(row.definition), d)) {
      writes.push(ctx.db.update(earningRules).set({ definition: d, active: d.active, updatedAt: now }).where(eq(earningRules.id, row.id)));
      audit({ kind: "rule", key: d.name, action: "update" }, row.definition, d);
    }
  });

  // Rewards.
  const currentRewards = new Map(current.rewards.map((r) => [r.name, r]));
  for (const row of loaded.rewardRows.filter((r) => !doc.rewards.some((d) => d.name === r.name))) {
    const [{ n }] = await ctx.db.select({ n: count() }).from(coupons).where(eq(coupons.rewardId, row.id));
    if (n > 0)
      throw new AppError("conflict", `rewards: ${n} coupons were issued for reward ${row.name}; keep it with "active": false instead`);
    writes.push(ctx.db.delete(rewards).where(eq(rewards.id, row.id)));
    audit({ kind: "reward", key: row.name, action: "delete" }, currentRewards.get(row.name), null);
  }
  doc.rewards.forEach((d, i) => {
    const before = currentRewards.get(d.name);
    const sorted = { ...d, tiers: [...new Set(d.tiers)].sort() };
    if (before && same(before, sorted)) return;
    const reward: RewardInput = {
      ...d,
      tierIds: sorted.tiers.map(ref(tierIds, "tier", `rewards.${i}.tiers`)),
      startsAt: d.startsAt && new Date(d.startsAt).toISOString(),
      endsAt: d.endsAt && new Date(d.endsAt).toISOString(),
    };
    const problems = rewardProblems(reward);
    if (problems.length) throw invalid(`rewards.${i}: ${problems.join("; ")}`);
    const row = loaded.rewardRows.find((r) => r.name === d.name);
    const columns = {
      name: d.name,
      kind: d.kind,
      pointsCost: d.pointsCost,
      costMinor: d.costMinor,
      active: d.active,
      definition: definitionFrom(reward),
    };
    if (!row) {
      writes.push(
        ctx.db
          .insert(rewards)
          .values({ id: rewardIds.get(d.name)!, programId, ...columns, inventoryRemaining: d.inventory, createdAt: now, updatedAt: now }),
      );
      audit({ kind: "reward", key: d.name, action: "create" }, null, sorted);
    } else {
      // Stock moves by the change of the total, as PATCH /v1/rewards does.
      const before = rewardDefinitionOf(row).inventoryTotal;
      const remaining: SQL | number | null =
        d.inventory === null
          ? null
          : before === null
            ? d.inventory
            : sql`MAX(0, COALESCE(${rewards.inventoryRemaining}, 0) + ${d.inventory - before})`;
      writes.push(
        ctx.db
          .update(rewards)
          .set({ ...columns, inventoryRemaining: remaining, updatedAt: now })
          .where(eq(rewards.id, row.id)),
      );
      audit({ kind: "reward", key: d.name, action: "update" }, currentRewards.get(d.name), sorted);
    }
  });

  // Referral program and lifecycle thresholds (keys of programs.settings).
  const settingsJson: { path: string; value: unknown }[] = [];
  if (!same(current.referral, doc.referral)) {
    settingsJson.push({ path: "$.referral", value: doc.referral });
    audit({ kind: "referral", key: "referral", action: "update" }, current.referral, doc.referral);
  }
  const lifecycle = lifecycleThresholdsSchema.parse(doc.lifecycle);
  if (!same(await lifecycleThresholdsOf(ctx.db, programId), lifecycle)) {
    settingsJson.push({ path: "$.lifecycle", value: lifecycle });
    audit({ kind: "lifecycle", key: "lifecycle", action: "update" }, current.lifecycle, lifecycle);
  }

  // Channels: the URL is configuration, the signing secret is not (a new endpoint gets a fresh one).
  const stored = channelsOf(loaded.program.settings);
  for (const ch of CHANNELS) {
    const want = doc.channels.find((c) => c.channel === ch);
    const have = stored[ch];
    if (!want && have) {
      settingsJson.push({ path: `$.channels.${ch}`, value: undefined });
      audit({ kind: "channel", key: ch, action: "delete" }, { url: have.url }, null);
    } else if (want && (!have || have.url !== want.url)) {
      assertTargetUrl(ctx.env, want.url);
      const secret = have ? have.secret : await sealSecret(ctx.env, newSigningSecret(), secretContext.channel(programId, ch));
      settingsJson.push({ path: `$.channels.${ch}`, value: { url: want.url, secret, updatedAt: now } });
      audit({ kind: "channel", key: ch, action: have ? "update" : "create" }, have ? { url: have.url } : null, { url: want.url });
    }
  }
  for (const s of settingsJson) {
    const expr =
      s.value === undefined
        ? sql`json_remove(COALESCE(settings, '{}'), ${s.path})`
        : s.path.startsWith("$.channels.")
          ? sql`json_set(COALESCE(settings, '{}'), '$.channels', json_set(COALESCE(json_extract(settings, '$.channels'), '{}'), ${s.path.replace("$.channels", "$")}, json(${JSON.stringify(s.value)})))`
          : sql`json_set(COALESCE(settings, '{}'), ${s.path}, json(${JSON.stringify(s.value)}))`;
    writes.push(ctx.db.update(programs).set({ settings: expr, updatedAt: now }).where(eq(programs.id, programId)));
  }

  // Segments (membership fills in at the next recompute, as after PATCH of a rule).
  for (const row of loaded.segmentRows.filter((r) => !doc.segments.some((d) => d.name === r.name))) {
    writes.push(ctx.db.delete(segments).where(eq(segments.id, row.id)));
    audit({ kind: "segment", key: row.name, action: "delete" }, { description: row.description, rule: row.rule }, null);
  }
  doc.segments.forEach((d, i) => {
    const row = loaded.segmentRows.find((r) => r.name === d.name);
    const rule = segmentRuleSchema.parse(mapSegmentRuleTiers(d.rule, tierRef(`segments.${i}.rule`)));
    if (!row) {
      writes.push(
        ctx.db.insert(segments).values({
          id: segmentIds.get(d.name)!,
          programId,
          name: d.name,
          description: d.description,
          rule,
          memberCount: 0,
          computedAt: null,
          createdAt: now,
          updatedAt: now,
        }),
      );
      audit({ kind: "segment", key: d.name, action: "create" }, null, d);
    } else if (!same({ description: row.description, rule: row.rule }, { description: d.description, rule })) {
      writes.push(ctx.db.update(segments).set({ description: d.description, rule, updatedAt: now }).where(eq(segments.id, row.id)));
      audit({ kind: "segment", key: d.name, action: "update" }, { description: row.description, rule: row.rule }, d);
    }
  });

  // Campaigns, references resolved to this program's ids.
  const currentCampaigns = new Map(current.campaigns.map((c) => [String(c.name), c]));
  const deletedCampaigns = loaded.campaignRows.filter((r) => !doc.campaigns.some((d) => d.name === r.name));
  if (deletedCampaigns.length) {
    const fired = await ctx.db
      .select({ campaignId: campaignOccurrences.campaignId })
      .from(campaignOccurrences)
      .where(
        inArray(
          campaignOccurrences.campaignId,
          deletedCampaigns.map((r) => r.id),
        ),
      )
      .limit(1);
    if (fired.length) {
      const name = deletedCampaigns.find((r) => r.id === fired[0].campaignId)?.name;
      throw new AppError("conflict", `campaigns: campaign ${name} has fired; set its status to ended instead of deleting it`);
    }
  }
  for (const row of deletedCampaigns) {
    writes.push(ctx.db.delete(experiments).where(eq(experiments.campaignId, row.id)));
    writes.push(ctx.db.delete(campaigns).where(eq(campaigns.id, row.id)));
    audit({ kind: "campaign", key: row.name, action: "delete" }, currentCampaigns.get(row.name), null);
  }
  doc.campaigns.forEach((raw, i) => {
    const before = currentCampaigns.get(String(raw.name));
    const normalised = campaignDefinitionSchema.parse(raw);
    if (before && same(before, normalised)) return;
    const def = campaignDefinitionSchema.parse(
      mapCampaignRefs(normalised, {
        segment: segmentRef(`campaigns.${i}.audience.segmentId`),
        reward: ref(rewardIds, "reward", `campaigns.${i}.actions`),
        tier: tierRef(`campaigns.${i}.trigger.toTierIds`),
      }),
    ) as CampaignDefinition;
    const { status, budgetMinor, ...stored } = def;
    const row = loaded.campaignRows.find((r) => r.name === def.name);
    const experimentRow = row ? loaded.experimentRows.find((e) => e.campaignId === row.id) : undefined;
    const newExperiment = (campaignId: string) =>
      ctx.db.insert(experiments).values({
        id: newId("exp"),
        programId,
        campaignId,
        status: "running",
        definition: def.experiment as Record<string, unknown>,
        startedAt: now,
        createdAt: now,
      });
    const columns = {
      name: def.name,
      status,
      trigger: def.trigger.type,
      budgetMinor: budgetMinor ?? null,
      acquisitionChannel: def.acquisitionChannel ?? null,
    };
    if (!row) {
      const campaignId = newId("cmp");
      writes.push(
        ctx.db
          .insert(campaigns)
          .values({ id: campaignId, programId, ...columns, definition: stored, spentMinor: 0, createdAt: now, updatedAt: now }),
        ...(def.experiment ? [newExperiment(campaignId)] : []),
      );
      audit({ kind: "campaign", key: def.name, action: "create" }, null, normalised);
    } else {
      if (row.status === "ended" && status !== "ended")
        throw new AppError("conflict", `campaigns.${i}: campaign ${row.name} has ended; it cannot restart`);
      // The experiment follows the same rules as PATCH /v1/campaigns: it can be added, changed
      // while it runs, never removed (stop it instead); its results and winner are not configuration.
      if (experimentRow && !def.experiment)
        throw new AppError("conflict", `campaigns.${i}: campaign ${row.name} has an experiment; it cannot be removed, stop it instead`);
      const experimentChanged = !!experimentRow && !same(experimentDefinitionOf(experimentRow), def.experiment);
      if (experimentChanged && experimentRow.status !== "running")
        throw new AppError(
          "conflict",
          `campaigns.${i}: the experiment of campaign ${row.name} has stopped; its definition can no longer change`,
        );
      writes.push(
        ctx.db
          .update(campaigns)
          .set({ ...columns, definition: stored, updatedAt: now })
          .where(eq(campaigns.id, row.id)),
        ...(experimentChanged
          ? [
              ctx.db
                .update(experiments)
                .set({ definition: def.experiment as Record<string, unknown> })
                .where(eq(experiments.id, experimentRow.id)),
            ]
          : []),
        ...(def.experiment && !experimentRow ? [newExperiment(row.id)] : []),
      );
      audit({ kind: "campaign", key: def.name, action: "update" }, before, normalised);
    }
  });

  // Budgets (a budget's spend is kept; a new one starts from nothing spent).
  for (const row of loaded.budgetRows.filter((r) => !doc.budgets.some((b) => b.period === r.period))) {
    writes.push(ctx.db.delete(budgets).where(eq(budgets.id, row.id)));
    audit({ kind: "budget", key: row.period, action: "delete" }, { amountMinor: row.amountMinor }, null);
  }
  for (const b of doc.budgets) {
    const row = loaded.budgetRows.find((r) => r.period === b.period);
    if (!row) {
      writes.push(
        ctx.db
          .insert(budgets)
          .values({ id: newId("bud"), programId, period: b.period, amountMinor: b.amountMinor, spentMinor: 0, createdAt: now }),
      );
      audit({ kind: "budget", key: b.period, action: "create" }, null, b);
    } else if (row.amountMinor !== b.amountMinor) {
      writes.push(ctx.db.update(budgets).set({ amountMinor: b.amountMinor }).where(eq(budgets.id, row.id)));
      audit({ kind: "budget", key: b.period, action: "update" }, { amountMinor: row.amountMinor }, b);
    }
  }

  if (dryRun || changes.length === 0) return { dryRun, changes, configVersion: loaded.program.configVersion };
  // The version read above must still be current, or another change raced this plan: the
  // guarded bump then updates nothing and the final check fails the whole batch.
  const expected = loaded.program.configVersion;
  try {
    await ctx.db.batch([
      ...writes,
      configVersionBump(ctx.db, programId),
      ctx.db.run(
        sql`SELECT CASE WHEN (SELECT config_version FROM programs WHERE id = ${programId}) = ${expected + 1} THEN 1 ELSE json('config changed concurrently') END`,
      ),
    ] as unknown as Parameters<typeof ctx.db.batch>[0]);
  } catch (err) {
    if (/malformed JSON/i.test(errorChainText(err)))
      throw new AppError("conflict", "The configuration changed while this document was being applied; export it again and retry");
    throw err;
  }
  return { dryRun, changes, configVersion: expected + 1 };
}
