import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { bool, createdAt, id, json, programId, timestamp } from "./columns";

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
