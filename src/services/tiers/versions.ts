import { and, desc, eq } from "drizzle-orm";
import { tierVersions } from "../../../schema";
import type { Database } from "../../db/client";
import type { TierDefinition } from "../../domain/tiers/schema";
import type { ServiceContext } from "../../lib/context";

/**
 * The row that keeps one version of a tier's definition. Every path that writes a tier's
 * definition (the tier routes, config:apply) adds one in the same batch, with the tier's new
 * `version`, so an order's recorded (tier, version) always names a stored definition.
 */
export const tierVersionInsert = (
  db: Database,
  row: { tierId: string; programId: string; version: number; definition: TierDefinition | Record<string, unknown>; now: string },
) =>
  db
    .insert(tierVersions)
    .values({ tierId: row.tierId, programId: row.programId, version: row.version, definition: row.definition, createdAt: row.now })
    .onConflictDoNothing();

/** A tier's versions, newest first. */
export async function listTierVersions({ ctx, input }: { ctx: ServiceContext; input: { programId: string; tierId: string } }) {
  const rows = await ctx.db
    .select()
    .from(tierVersions)
    .where(and(eq(tierVersions.programId, input.programId), eq(tierVersions.tierId, input.tierId)))
    .orderBy(desc(tierVersions.version));
  return rows.map((r) => ({ tierId: r.tierId, version: r.version, definition: r.definition, createdAt: r.createdAt }));
}
