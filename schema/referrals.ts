import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, id, programId, timestamp } from "./columns";

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
    /** Failed settle attempts (credit or reversal of the referrer), the next due time (null: now) and the last error. */
    settleAttempts: integer("settle_attempts").notNull().default(0),
    settleAfter: timestamp("settle_after"),
    settleError: text("settle_error"),
  },
  (t) => [
    uniqueIndex("referrals_referee_uq").on(t.refereeId),
    index("referrals_referrer_idx").on(t.referrerId, t.createdAt),
    // The settle cron picks up qualified / reversing referrals.
    index("referrals_status_idx").on(t.status, t.id),
  ],
);
