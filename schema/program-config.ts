import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { bool, createdAt, id, json, programId, timestamp } from "./columns";

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

/** Earning rules: definition is validated JSON (trigger, conditions, effect, caps). */
export const earningRules = sqliteTable(
  "earning_rules",
  {
    id: id(),
    programId: programId(),
    name: text("name").notNull(),
    active: bool("active").notNull().default(true),
    definition: json<Record<string, unknown>>("definition").notNull(),
    /** Points this rule has awarded in total, checked against its budget. */
    pointsAwarded: integer("points_awarded").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [
    index("rules_program_idx").on(t.programId, t.active),
    // A rule's total budget holds even when many members' ledgers award concurrently.
    check(
      "rules_budget_ck",
      sql`json_extract(definition, '$.budgetPoints') IS NULL OR points_awarded <= json_extract(definition, '$.budgetPoints')`,
    ),
  ],
);

/** Points a rule has awarded a member, for per-member caps. */
export const ruleMemberUsage = sqliteTable(
  "rule_member_usage",
  {
    ruleId: text("rule_id").notNull(),
    memberId: text("member_id").notNull(),
    points: integer("points").notNull().default(0),
  },
  (t) => [uniqueIndex("rule_usage_uq").on(t.ruleId, t.memberId)],
);

export const rewards = sqliteTable(
  "rewards",
  {
    id: id(),
    programId: programId(),
    name: text("name").notNull(),
    kind: text("kind", { enum: ["coupon_percent", "fixed_discount", "free_product", "experience"] }).notNull(),
    pointsCost: integer("points_cost").notNull(),
    /** What one issue costs the program, in minor units. */
    costMinor: integer("cost_minor").notNull().default(0),
    definition: json<Record<string, unknown>>("definition").notNull(),
    /** null = unlimited. Decremented with a guarded UPDATE so it never oversells. */
    inventoryRemaining: integer("inventory_remaining"),
    active: bool("active").notNull().default(true),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [
    index("rewards_program_idx").on(t.programId),
    // Second line behind the redemption planner's stock check: concurrent redemptions by
    // different members (different Durable Objects) can never take stock below zero.
    check("rewards_inventory_ck", sql`inventory_remaining IS NULL OR inventory_remaining >= 0`),
  ],
);

export const coupons = sqliteTable(
  "coupons",
  {
    id: id(),
    programId: programId(),
    code: text("code").notNull(),
    rewardId: text("reward_id").notNull(),
    memberId: text("member_id").notNull(),
    status: text("status", { enum: ["issued", "consumed", "cancelled", "expired"] }).notNull(),
    pointsCost: integer("points_cost").notNull(),
    requestKey: text("request_key").notNull(),
    issuedAt: text("issued_at").notNull(),
    expiresAt: timestamp("expires_at"),
    consumedAt: timestamp("consumed_at"),
    orderId: text("order_id"),
    cancelledAt: timestamp("cancelled_at"),
  },
  (t) => [
    uniqueIndex("coupons_code_uq").on(t.programId, t.code),
    index("coupons_member_reward_idx").on(t.memberId, t.rewardId),
    // The nightly sweep that marks unused coupons past their expiry.
    index("coupons_expiry_idx").on(t.status, t.expiresAt),
  ],
);

/** Referral: one row per referee, rewarded when their first qualifying purchase lands. */
export const referrals = sqliteTable(
  "referrals",
  {
    id: id(),
    programId: programId(),
    referrerId: text("referrer_id").notNull(),
    refereeId: text("referee_id").notNull(),
    /**
     * pending → qualified (referee rewarded in their purchase's batch; referrer owed) →
     * rewarded (referrer credited by the settle cron). A refund of the qualifying order moves
     * qualified/rewarded → reversing (referee reversed in-batch) → reversed (referrer too).
     */
    status: text("status", { enum: ["pending", "qualified", "rewarded", "reversing", "reversed", "rejected"] }).notNull(),
    orderId: text("order_id"),
    referrerPoints: integer("referrer_points").notNull().default(0),
    refereePoints: integer("referee_points").notNull().default(0),
    createdAt: createdAt(),
    rewardedAt: timestamp("rewarded_at"),
  },
  (t) => [
    uniqueIndex("referrals_referee_uq").on(t.refereeId),
    index("referrals_referrer_idx").on(t.referrerId, t.createdAt),
    // The settle cron picks up qualified / reversing referrals.
    index("referrals_status_idx").on(t.status, t.id),
  ],
);

export const segments = sqliteTable(
  "segments",
  {
    id: id(),
    programId: programId(),
    name: text("name").notNull(),
    description: text("description"),
    rule: json<unknown>("rule").notNull(),
    memberCount: integer("member_count").notNull().default(0),
    computedAt: timestamp("computed_at"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [index("segments_program_idx").on(t.programId)],
);

export const segmentMembers = sqliteTable(
  "segment_members",
  {
    segmentId: text("segment_id").notNull(),
    memberId: text("member_id").notNull(),
    programId: programId(),
    addedAt: text("added_at").notNull(),
  },
  (t) => [uniqueIndex("segment_members_uq").on(t.segmentId, t.memberId), index("segment_members_member_idx").on(t.memberId)],
);

/** Fitted BG/NBD + Gamma-Gamma parameters per program, newest first. */
export const modelFits = sqliteTable(
  "model_fits",
  {
    id: id(),
    programId: programId(),
    params: json<Record<string, unknown>>("params").notNull(),
    diagnostics: json<Record<string, unknown>>("diagnostics").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("model_fits_program_idx").on(t.programId, t.createdAt)],
);

/** Daily KPI snapshot per program. */
export const kpiSnapshots = sqliteTable(
  "kpi_snapshots",
  {
    programId: programId(),
    day: text("day").notNull(),
    figures: json<Record<string, unknown>>("figures").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("kpi_program_day_uq").on(t.programId, t.day)],
);
