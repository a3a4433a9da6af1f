import { and, count, desc, eq, inArray, lt } from "drizzle-orm";
import { campaignOccurrences, campaigns, experiments, rewards, segments, tiers } from "../../../schema";
import type { Database } from "../../db/client";
import { type CampaignDefinition, campaignDefinitionSchema, controlKeyOf } from "../../domain/campaigns/definition";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { cursorPage } from "../../lib/pagination";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { experimentDefinitionOf } from "../experiments/experiments";
import { configVersionBump } from "../program/config-version";

export type CampaignRow = typeof campaigns.$inferSelect;
export type ExperimentRow = typeof experiments.$inferSelect;
/** A campaign as the engine uses it: the row, its validated definition and its experiment. */
export type LoadedCampaign = { row: CampaignRow; def: CampaignDefinition; experiment: ExperimentRow | null };

/** The stored definition, re-validated (defaults filled) with the row's live status and budget. */
export function definitionOf(row: CampaignRow): CampaignDefinition {
  return campaignDefinitionSchema.parse({ ...row.definition, name: row.name, status: row.status, budgetMinor: row.budgetMinor });
}

function campaignView(row: CampaignRow, experiment: ExperimentRow | null) {
  const def = definitionOf(row);
  return {
    id: row.id,
    ...def,
    budgetMinor: row.budgetMinor,
    spentMinor: row.spentMinor,
    remainingBudgetMinor: row.budgetMinor === null ? null : Math.max(0, row.budgetMinor - row.spentMinor),
    experiment:
      def.experiment && experiment
        ? {
            id: experiment.id,
            status: experiment.status,
            winner: experiment.winner,
            startedAt: experiment.startedAt,
            stoppedAt: experiment.stoppedAt,
            controlKey: controlKeyOf(def.experiment),
            ...def.experiment,
          }
        : null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export async function requireCampaign(db: Database, programId: string, campaignId: string): Promise<CampaignRow> {
  const [row] = await db
    .select()
    .from(campaigns)
    .where(and(eq(campaigns.programId, programId), eq(campaigns.id, campaignId)))
    .limit(1);
  if (!row) throw notFound("Campaign");
  return row;
}

async function experimentOf(db: Database, campaignId: string): Promise<ExperimentRow | null> {
  const [row] = await db.select().from(experiments).where(eq(experiments.campaignId, campaignId)).limit(1);
  return row ?? null;
}

/** Active campaigns of these programs with these trigger types, with their experiments. */
export async function loadActiveCampaigns(db: Database, programIds: string[], triggerTypes: readonly string[]): Promise<LoadedCampaign[]> {
  if (programIds.length === 0) return [];
  const rows = await db
    .select({ campaign: campaigns, experiment: experiments })
    .from(campaigns)
    .leftJoin(experiments, eq(experiments.campaignId, campaigns.id))
    .where(and(inArray(campaigns.programId, programIds), inArray(campaigns.trigger, [...triggerTypes]), eq(campaigns.status, "active")));
  const loaded: LoadedCampaign[] = [];
  for (const r of rows) {
    try {
      loaded.push({ row: r.campaign, def: definitionOf(r.campaign), experiment: r.experiment });
    } catch (err) {
      // A definition that no longer validates must not stop the other campaigns.
      console.error(JSON.stringify({ level: "error", campaignId: r.campaign.id, message: `invalid campaign definition: ${String(err)}` }));
    }
  }
  return loaded;
}

/** References in the definition must exist in the caller's program. */
async function checkReferences(db: Database, programId: string, def: CampaignDefinition) {
  const rewardIds = [
    ...[...def.actions, ...(def.experiment?.variants.flatMap((v) => v.actions ?? []) ?? [])].flatMap((a) =>
      a.type === "issue_reward" ? [a.rewardId] : [],
    ),
    ...(def.journey?.steps.flatMap((s) => (s.type === "award" && s.rewardId ? [s.rewardId] : [])) ?? []),
  ];
  const segmentIds = [def.audience.segmentId, def.trigger.type === "segment_entry" ? def.trigger.segmentId : undefined].filter(
    (x): x is string => x !== undefined,
  );
  const tierIds = def.trigger.type === "tier_up" ? (def.trigger.toTierIds ?? []) : [];
  const [segmentRows, rewardRows, tierRows] = await db.batch([
    db
      .select({ id: segments.id })
      .from(segments)
      .where(and(eq(segments.programId, programId), inArray(segments.id, segmentIds.length ? segmentIds : [""]))),
    db
      .select({ id: rewards.id })
      .from(rewards)
      .where(and(eq(rewards.programId, programId), inArray(rewards.id, rewardIds.length ? rewardIds : [""]))),
    db
      .select({ id: tiers.id })
      .from(tiers)
      .where(and(eq(tiers.programId, programId), inArray(tiers.id, tierIds.length ? tierIds : [""]))),
  ]);
  const problems: string[] = [];
  if (def.audience.segmentId && !segmentRows.some((r) => r.id === def.audience.segmentId))
    problems.push(`audience.segmentId ${def.audience.segmentId} is not a segment of this program`);
  if (def.trigger.type === "segment_entry" && !segmentRows.some((r) => r.id === (def.trigger as { segmentId: string }).segmentId))
    problems.push(`trigger.segmentId ${def.trigger.segmentId} is not a segment of this program`);
  for (const id of rewardIds) if (!rewardRows.some((r) => r.id === id)) problems.push(`reward ${id} is not a reward of this program`);
  for (const id of tierIds) if (!tierRows.some((r) => r.id === id)) problems.push(`tier ${id} is not a tier of this program`);
  if (problems.length) throw new AppError("invalid_request", problems.join("; "), { problems });
}

function storedDefinition(def: CampaignDefinition) {
  // Status and budget live in their own columns (the engine and the budget guard read them there).
  const { status: _s, budgetMinor: _b, ...rest } = def;
  return rest as Record<string, unknown>;
}

export async function createCampaign({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; definition: CampaignDefinition };
}) {
  const def = campaignDefinitionSchema.parse(input.definition);
  await checkReferences(ctx.db, input.programId, def);
  const now = nowIso();
  const row: CampaignRow = {
    id: newId("cmp"),
    programId: input.programId,
    name: def.name,
    status: def.status,
    trigger: def.trigger.type,
    definition: storedDefinition(def),
    budgetMinor: def.budgetMinor ?? null,
    spentMinor: 0,
    acquisitionChannel: def.acquisitionChannel ?? null,
    createdAt: now,
    updatedAt: now,
  };
  const experiment: ExperimentRow | null = def.experiment
    ? {
        id: newId("exp"),
        programId: input.programId,
        campaignId: row.id,
        status: "running",
        definition: def.experiment as Record<string, unknown>,
        startedAt: now,
        stoppedAt: null,
        winner: null,
        createdAt: now,
      }
    : null;
  await ctx.db.batch([
    ctx.db.insert(campaigns).values(row),
    ...(experiment ? [ctx.db.insert(experiments).values(experiment)] : []),
    configVersionBump(ctx.db, input.programId),
    auditStatement(ctx, {
      action: "campaign.created",
      entityType: "campaign",
      entityId: row.id,
      after: { ...def, experimentId: experiment?.id ?? null },
    }),
  ]);
  return campaignView(row, experiment);
}

export async function listCampaigns({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  const rows = await ctx.db
    .select({ campaign: campaigns, experiment: experiments })
    .from(campaigns)
    .leftJoin(experiments, eq(experiments.campaignId, campaigns.id))
    .where(eq(campaigns.programId, input.programId))
    .orderBy(desc(campaigns.id));
  return rows.map((r) => campaignView(r.campaign, r.experiment));
}

export async function getCampaign({ ctx, input }: { ctx: ServiceContext; input: { programId: string; campaignId: string } }) {
  const row = await requireCampaign(ctx.db, input.programId, input.campaignId);
  return campaignView(row, await experimentOf(ctx.db, row.id));
}

/** A patch merges into the definition and is validated as a whole; an ended campaign stays ended. */
export async function updateCampaign({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; campaignId: string; patch: Record<string, unknown> };
}) {
  const before = await requireCampaign(ctx.db, input.programId, input.campaignId);
  const beforeDef = definitionOf(before);
  const def = campaignDefinitionSchema.parse({ ...beforeDef, ...input.patch });
  if (before.status === "ended" && def.status !== "ended")
    throw new AppError("conflict", "An ended campaign cannot be reactivated; create a new one");
  if (def.trigger.type !== beforeDef.trigger.type)
    throw new AppError("conflict", "A campaign's trigger type cannot change; create a new campaign");
  await checkReferences(ctx.db, input.programId, def);
  const existing = await experimentOf(ctx.db, before.id);
  if (existing && !def.experiment) throw new AppError("conflict", "An experiment cannot be removed from its campaign; stop it instead");
  const now = nowIso();
  const after: CampaignRow = {
    ...before,
    name: def.name,
    status: def.status,
    definition: storedDefinition(def),
    budgetMinor: def.budgetMinor ?? null,
    acquisitionChannel: def.acquisitionChannel ?? null,
    updatedAt: now,
  };
  const experimentChanged = existing !== null && JSON.stringify(def.experiment) !== JSON.stringify(experimentDefinitionOf(existing));
  if (experimentChanged && existing.status !== "running")
    throw new AppError("conflict", "The experiment has stopped; its definition can no longer change");
  const experiment: ExperimentRow | null = def.experiment
    ? existing
      ? experimentChanged
        ? { ...existing, definition: def.experiment as Record<string, unknown> }
        : existing
      : {
          id: newId("exp"),
          programId: input.programId,
          campaignId: before.id,
          status: "running",
          definition: def.experiment as Record<string, unknown>,
          startedAt: now,
          stoppedAt: null,
          winner: null,
          createdAt: now,
        }
    : null;
  await ctx.db.batch([
    // spent_minor is not written here: only awards move it, relatively, under the guard.
    ctx.db
      .update(campaigns)
      .set({
        name: after.name,
        status: after.status,
        definition: after.definition,
        budgetMinor: after.budgetMinor,
        acquisitionChannel: after.acquisitionChannel,
        updatedAt: now,
      })
      .where(eq(campaigns.id, before.id)),
    ...(experiment && existing && experimentChanged
      ? [ctx.db.update(experiments).set({ definition: experiment.definition }).where(eq(experiments.id, existing.id))]
      : []),
    ...(experiment && !existing ? [ctx.db.insert(experiments).values(experiment)] : []),
    auditStatement(ctx, { action: "campaign.updated", entityType: "campaign", entityId: before.id, before: beforeDef, after: def }),
    configVersionBump(ctx.db, input.programId),
  ]);
  const [fresh] = await ctx.db.select().from(campaigns).where(eq(campaigns.id, before.id)).limit(1);
  return campaignView(fresh ?? after, experiment);
}

/** Only a campaign that never fired can be deleted; otherwise end it (its history feeds ROI). */
export async function deleteCampaign({ ctx, input }: { ctx: ServiceContext; input: { programId: string; campaignId: string } }) {
  const before = await requireCampaign(ctx.db, input.programId, input.campaignId);
  const [fired] = await ctx.db
    .select({ id: campaignOccurrences.id })
    .from(campaignOccurrences)
    .where(eq(campaignOccurrences.campaignId, before.id))
    .limit(1);
  if (fired) throw new AppError("conflict", "This campaign has fired; set its status to ended instead of deleting it");
  await ctx.db.batch([
    ctx.db.delete(experiments).where(eq(experiments.campaignId, before.id)),
    ctx.db.delete(campaigns).where(eq(campaigns.id, before.id)),
    auditStatement(ctx, { action: "campaign.deleted", entityType: "campaign", entityId: before.id, before: definitionOf(before) }),
    configVersionBump(ctx.db, input.programId),
  ]);
}

/** What the campaign did, per member and occurrence, newest first, with counts per outcome. */
export async function listOccurrences({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; campaignId: string; outcome?: string; memberId?: string; limit: number; cursor?: string };
}) {
  await requireCampaign(ctx.db, input.programId, input.campaignId);
  const rows = await ctx.db
    .select()
    .from(campaignOccurrences)
    .where(
      and(
        eq(campaignOccurrences.programId, input.programId),
        eq(campaignOccurrences.campaignId, input.campaignId),
        input.outcome ? eq(campaignOccurrences.outcome, input.outcome) : undefined,
        input.memberId ? eq(campaignOccurrences.memberId, input.memberId) : undefined,
        input.cursor ? lt(campaignOccurrences.id, input.cursor) : undefined,
      ),
    )
    .orderBy(desc(campaignOccurrences.id))
    .limit(input.limit + 1);
  const outcomes = await ctx.db
    .select({ outcome: campaignOccurrences.outcome, n: count() })
    .from(campaignOccurrences)
    .where(and(eq(campaignOccurrences.programId, input.programId), eq(campaignOccurrences.campaignId, input.campaignId)))
    .groupBy(campaignOccurrences.outcome);
  return {
    outcomes: Object.fromEntries(outcomes.map((o) => [o.outcome, Number(o.n)])),
    ...cursorPage(
      rows,
      input.limit,
      (o) => o.id,
      (o) => ({
        id: o.id,
        memberId: o.memberId,
        occurrenceKey: o.occurrenceKey,
        variantKey: o.variantKey,
        outcome: o.outcome,
        context: o.context,
        createdAt: o.createdAt,
      }),
    ),
  };
}
