import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, id, json, programId, timestamp } from "./columns";

/** Tiers: definition (qualification, benefits, grace) is validated JSON; rank orders them. */
export const tiers = sqliteTable(
  "tiers",
  {
    id: id(),
    programId: programId(),
    name: text("name").notNull(),
    rank: integer("rank").notNull(),
    definition: json<Record<string, unknown>>("definition").notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [uniqueIndex("tiers_program_rank_uq").on(t.programId, t.rank)],
);

/** Tier changes, append-only. */
export const tierHistory = sqliteTable(
  "tier_history",
  {
    id: id(),
    programId: programId(),
    memberId: text("member_id").notNull(),
    fromTierId: text("from_tier_id"),
    toTierId: text("to_tier_id"),
    change: text("change").notNull(),
    reason: text("reason").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("tier_history_member_idx").on(t.memberId, t.createdAt)],
);
