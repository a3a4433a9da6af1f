import { and, desc, eq } from "drizzle-orm";
import { earningRules } from "../../../schema";
import { type RuleDefinition, ruleDefinitionSchema } from "../../domain/rules/schema";
import type { ServiceContext } from "../../lib/context";
import { notFound } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { configVersionBump } from "../program/config-version";

type RuleRow = typeof earningRules.$inferSelect;
const ruleView = (r: RuleRow) => ({
  id: r.id,
  ...(r.definition as RuleDefinition),
  pointsAwarded: r.pointsAwarded,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

async function requireRule(ctx: ServiceContext, programId: string, id: string) {
  const [row] = await ctx.db
    .select()
    .from(earningRules)
    .where(and(eq(earningRules.programId, programId), eq(earningRules.id, id)))
    .limit(1);
  if (!row) throw notFound("Rule");
  return row;
}

export async function listRules({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  const rows = await ctx.db
    .select()
    .from(earningRules)
    .where(eq(earningRules.programId, input.programId))
    .orderBy(desc(earningRules.createdAt));
  return rows.map(ruleView);
}

export async function getRule({ ctx, input }: { ctx: ServiceContext; input: { programId: string; ruleId: string } }) {
  return ruleView(await requireRule(ctx, input.programId, input.ruleId));
}

export async function createRule({ ctx, input }: { ctx: ServiceContext; input: { programId: string; definition: RuleDefinition } }) {
  const now = nowIso();
  const row: RuleRow = {
    id: newId("rule"),
    programId: input.programId,
    name: input.definition.name,
    active: input.definition.active,
    definition: input.definition,
    pointsAwarded: 0,
    createdAt: now,
    updatedAt: now,
  };
  await ctx.db.batch([
    ctx.db.insert(earningRules).values(row),
    auditStatement(ctx, { action: "rule.created", entityType: "rule", entityId: row.id, after: row.definition }),
    configVersionBump(ctx.db, input.programId),
  ]);
  return ruleView(row);
}

/** A patch merges into the stored definition and is validated as a whole. */
export async function updateRule({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; ruleId: string; patch: Record<string, unknown> };
}) {
  const before = await requireRule(ctx, input.programId, input.ruleId);
  const definition = ruleDefinitionSchema.parse({ ...(before.definition as object), ...input.patch });
  const now = nowIso();
  await ctx.db.batch([
    ctx.db
      .update(earningRules)
      .set({ definition, name: definition.name, active: definition.active, updatedAt: now })
      .where(eq(earningRules.id, before.id)),
    auditStatement(ctx, { action: "rule.updated", entityType: "rule", entityId: before.id, before: before.definition, after: definition }),
    configVersionBump(ctx.db, input.programId),
  ]);
  return ruleView({ ...before, definition, name: definition.name, active: definition.active, updatedAt: now });
}

export async function deleteRule({ ctx, input }: { ctx: ServiceContext; input: { programId: string; ruleId: string } }) {
  const before = await requireRule(ctx, input.programId, input.ruleId);
  await ctx.db.batch([
    ctx.db.delete(earningRules).where(eq(earningRules.id, before.id)),
    auditStatement(ctx, { action: "rule.deleted", entityType: "rule", entityId: before.id, before: before.definition }),
    configVersionBump(ctx.db, input.programId),
  ]);
}
