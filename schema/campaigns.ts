import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, id, json, programId, timestamp } from "./columns";

export const campaigns = sqliteTable(
  "campaigns",
  {
    id: id(),
    programId: programId(),
    name: text("name").notNull(),
    status: text("status", { enum: ["draft", "active", "paused", "ended"] }).notNull(),
    trigger: text("trigger").notNull(),
    definition: json<Record<string, unknown>>("definition").notNull(),
    /** Budget in minor units (null = none) and live spend, updated with each award. */
    budgetMinor: integer("budget_minor"),
    spentMinor: integer("spent_minor").notNull().default(0),
    acquisitionChannel: text("acquisition_channel"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [index("campaigns_program_trigger_idx").on(t.programId, t.trigger, t.status)],
);

/** One row per (campaign, member, occurrence): the guard that nothing fires twice. */
export const campaignOccurrences = sqliteTable(
  "campaign_occurrences",
  {
    id: id(),
    programId: programId(),
    campaignId: text("campaign_id").notNull(),
    memberId: text("member_id").notNull(),
    occurrenceKey: text("occurrence_key").notNull(),
    variantKey: text("variant_key"),
    outcome: text("outcome").notNull(),
    /** Trigger facts for the actions (e.g. expiring points), kept so a retried award renders the same message. */
    context: json<Record<string, unknown>>("context"),
    /** Failed award retries, and when the next may run (null: as soon as the retry sweep sees it). */
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("campaign_occ_uq").on(t.campaignId, t.memberId, t.occurrenceKey),
    index("campaign_occ_member_idx").on(t.campaignId, t.memberId, t.createdAt),
  ],
);

/** Outbound messages (email, sms, push, line, wechat) delivered to channel webhooks. */
export const messages = sqliteTable(
  "messages",
  {
    id: id(),
    programId: programId(),
    campaignId: text("campaign_id"),
    memberId: text("member_id").notNull(),
    channel: text("channel").notNull(),
    body: text("body").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed", "skipped_no_consent", "skipped_no_endpoint"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    deliveredAt: timestamp("delivered_at"),
  },
  (t) => [
    index("messages_due_idx").on(t.status, t.nextAttemptAt),
    index("messages_campaign_idx").on(t.campaignId, t.id),
    // Erasure redacts a member's messages.
    index("messages_member_idx").on(t.memberId),
  ],
);
