import { and, asc, count, eq } from "drizzle-orm";
import { members, tiers } from "../../../schema";
import { type TierDefinition, tierDefinitionSchema, tierLadderProblems } from "../../domain/tiers/schema";
import type { ServiceContext } from "../../lib/context";
import { AppError, notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { configVersionBump } from "../program/config-version";
import { tierVersionInsert } from "./versions";

type TierRow = typeof tiers.$inferSelect;
const tierView = (r: TierRow) => ({
  id: r.id,
  ...(r.definition as TierDefinition),
  version: r.version,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

async function requireTier(ctx: ServiceContext, programId: string, id: string) {
  const [row] = await ctx.db
    .select()
    .from(tiers)
    .where(and(eq(tiers.programId, programId), eq(tiers.id, id)))
    .limit(1);
  if (!row) throw notFound("Tier");
  return row;
}

type LadderRung = { id: string; name: string; rank: number; inviteOnly?: boolean };

async function assertLadder(ctx: ServiceContext, programId: string, change: (ladder: Array<LadderRung>) => Array<LadderRung>) {
  const rows = (
    await ctx.db
      .select({ id: tiers.id, name: tiers.name, rank: tiers.rank, definition: tiers.definition })
      .from(tiers)
      .where(eq(tiers.programId, programId))
  ).map(({ definition, ...t }) => ({ ...t, inviteOnly: definition.inviteOnly === true }));
  const next = change(rows);
  if (next.length === 0) return; // a program without tiers is allowed
  const problems = tierLadderProblems(next);
  if (problems.length) throw new AppError("invalid_request", `Invalid tier ladder: ${problems.join("; ")}`, { problems });
}

export async function listTiers({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  const rows = await ctx.db.select().from(tiers).where(eq(tiers.programId, input.programId)).orderBy(asc(tiers.rank));
  return rows.map(tierView);
}

export async function getTier({ ctx, input }: { ctx: ServiceContext; input: { programId: string; tierId: string } }) {
  return tierView(await requireTier(ctx, input.programId, input.tierId));
}

export async function createTier({ ctx, input }: { ctx: ServiceContext; input: { programId: string; definition: TierDefinition } }) {
  const now = nowIso();
  const row: TierRow = {
    id: newId("tier"),
    programId: input.programId,
    name: input.definition.name,
    rank: input.definition.rank,
    definition: input.definition,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  await assertLadder(ctx, input.programId, (ladder) => [...ladder, { ...row, inviteOnly: input.definition.inviteOnly }]);
  await ctx.db.batch([
    ctx.db.insert(tiers).values(row),
    tierVersionInsert(ctx.db, { tierId: row.id, programId: input.programId, version: 1, definition: input.definition, now }),
    auditStatement(ctx, { action: "tier.created", entityType: "tier", entityId: row.id, after: row.definition }),
    configVersionBump(ctx.db, input.programId),
  ]);
  return tierView(row);
}

export async function updateTier({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; tierId: string; patch: Record<string, unknown> };
}) {
  const before = await requireTier(ctx, input.programId, input.tierId);
  const definition = tierDefinitionSchema.parse({ ...(before.definition as object), ...input.patch });
  await assertLadder(ctx, input.programId, (ladder) =>
    ladder.map((t) => (t.id === before.id ? { ...t, name: definition.name, rank: definition.rank, inviteOnly: definition.inviteOnly } : t)),
  );
  const now = nowIso();
  // A change of the definition is a new version (orders keep the one they were placed under);
  // a patch that changes nothing keeps the version.
  const changed = JSON.stringify(definition) !== JSON.stringify(tierDefinitionSchema.parse(before.definition));
  const version = changed ? before.version + 1 : before.version;
  await ctx.db.batch([
    ctx.db
      .update(tiers)
      .set({ definition, name: definition.name, rank: definition.rank, version, updatedAt: now })
      .where(and(eq(tiers.id, before.id), eq(tiers.version, before.version))),
    ...(changed ? [tierVersionInsert(ctx.db, { tierId: before.id, programId: input.programId, version, definition, now })] : []),
    auditStatement(ctx, { action: "tier.updated", entityType: "tier", entityId: before.id, before: before.definition, after: definition }),
    configVersionBump(ctx.db, input.programId),
  ]);
  return tierView({ ...before, definition, name: definition.name, rank: definition.rank, version, updatedAt: now });
}

/** A tier with members on it cannot be deleted (move them first by changing thresholds). */
export async function deleteTier({ ctx, input }: { ctx: ServiceContext; input: { programId: string; tierId: string } }) {
  const before = await requireTier(ctx, input.programId, input.tierId);
  const [{ n }] = await ctx.db.select({ n: count() }).from(members).where(eq(members.tierId, before.id));
  if (n > 0) throw new AppError("conflict", `${n} members are on tier ${before.name}; it cannot be deleted`);
  await assertLadder(ctx, input.programId, (ladder) => ladder.filter((t) => t.id !== before.id));
  await ctx.db.batch([
    ctx.db.delete(tiers).where(eq(tiers.id, before.id)),
    auditStatement(ctx, { action: "tier.deleted", entityType: "tier", entityId: before.id, before: before.definition }),
    configVersionBump(ctx.db, input.programId),
  ]);
}
