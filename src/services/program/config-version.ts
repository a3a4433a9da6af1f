import { eq, sql } from "drizzle-orm";
import { programs } from "../../../schema";
import type { Database } from "../../db/client";

/**
 * The statement that bumps a program's configuration version. Every write to a configuration
 * table (program settings, rules, tiers, rewards, referral program, segments, campaigns and
 * their channels, lifecycle settings, budgets, experiments) puts it in the same batch as the
 * change, so a cache keyed on the version can never pair a new version with old configuration.
 */
export function configVersionBump(db: Database, programId: string) {
  return db
    .update(programs)
    .set({ configVersion: sql`${programs.configVersion} + 1` })
    .where(eq(programs.id, programId));
}
