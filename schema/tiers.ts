import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
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
    /** Bumped by every change of the definition; each version is kept in tier_versions. */
    version: integer("version").notNull().default(1),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [uniqueIndex("tiers_program_rank_uq").on(t.programId, t.rank)],
);

/**
 * Every version of a tier's definition (benefits, thresholds), append-only: an order records the
 * tier version its checkout used (orders.tier_version), and this says what that version granted.
 */
export const tierVersions = sqliteTable(
  "tier_versions",
  {
    tierId: text("tier_id").notNull(),
    version: integer("version").notNull(),
    programId: programId(),
    definition: json<Record<string, unknown>>("definition").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tierId, t.version] })],
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
  (t) => [
    index("tier_history_member_idx").on(t.memberId, t.createdAt),
    // Per-tier KPIs count a day's upgrades and downgrades per program.
    index("tier_history_program_created_idx").on(t.programId, t.createdAt),
  ],
);

/**
 * Per member and UTC day, the figures tier qualification counts, kept by triggers on `orders`
 * and `ledger_entries` (migration 0020) in the same transaction as the write that changes them:
 * requalification sums a member's days in the window instead of reading every order and ledger
 * entry. Derived data: rebuildable from those two tables.
 */
export const memberDailyFigures = sqliteTable(
  "member_daily_figures",
  {
    memberId: text("member_id").notNull(),
    /** YYYY-MM-DD (UTC): the order's occurred_at day, the ledger entry's created_at day. */
    day: text("day").notNull(),
    programId: text("program_id").notNull(),
    /** Σ (amount − refunded_amount) of the day's orders. */
    spend: integer("spend").notNull().default(0),
    /** Orders not fully refunded. */
    orders: integer("orders").notNull().default(0),
    /** Every order placed (an active day has at least one). */
    placed: integer("placed").notNull().default(0),
    /** Σ points of the day's earn and reverse entries. */
    points: integer("points").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.memberId, t.day] })],
);
