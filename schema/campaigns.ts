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

export const experiments = sqliteTable(
  "experiments",
  {
    id: id(),
    programId: programId(),
    campaignId: text("campaign_id").notNull(),
    status: text("status", { enum: ["running", "stopped"] }).notNull(),
    definition: json<Record<string, unknown>>("definition").notNull(),
    startedAt: text("started_at").notNull(),
    stoppedAt: timestamp("stopped_at"),
    winner: text("winner"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("experiments_campaign_uq").on(t.campaignId)],
);

/** Sticky assignment and exposure of a member in an experiment. */
export const experimentExposures = sqliteTable(
  "experiment_exposures",
  {
    experimentId: text("experiment_id").notNull(),
    memberId: text("member_id").notNull(),
    programId: programId(),
    variantKey: text("variant_key").notNull(),
    exposedAt: text("exposed_at").notNull(),
  },
  (t) => [uniqueIndex("exposures_uq").on(t.experimentId, t.memberId), index("exposures_variant_idx").on(t.experimentId, t.variantKey)],
);

/** Budgets per program period (campaign budgets live on the campaign). */
export const budgets = sqliteTable(
  "budgets",
  {
    id: id(),
    programId: programId(),
    period: text("period").notNull(),
    amountMinor: integer("amount_minor").notNull(),
    spentMinor: integer("spent_minor").notNull().default(0),
    acquisitionSpendMinor: integer("acquisition_spend_minor").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("budgets_program_period_uq").on(t.programId, t.period)],
);

export const acquisitionSpend = sqliteTable(
  "acquisition_spend",
  {
    id: id(),
    programId: programId(),
    channel: text("channel").notNull(),
    period: text("period").notNull(),
    amountMinor: integer("amount_minor").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("acq_spend_uq").on(t.programId, t.channel, t.period)],
);
