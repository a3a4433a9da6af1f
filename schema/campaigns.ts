import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
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
    status: text("status", {
      enum: ["pending", "delivered", "failed", "skipped_no_consent", "skipped_no_endpoint", "skipped_suppressed", "skipped_contact_policy"],
    }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    deliveredAt: timestamp("delivered_at"),
    /** The journey run and step that sent it (null for a one-shot campaign's message). */
    journeyRunId: text("journey_run_id"),
    stepId: text("step_id"),
    /** The campaign's priority when the contact policy must choose between messages (higher first). */
    priority: integer("priority").notNull().default(0),
  },
  (t) => [
    index("messages_due_idx").on(t.status, t.nextAttemptAt),
    index("messages_journey_run_idx").on(t.journeyRunId),
    // The contact policy counts a member's recent deliveries.
    index("messages_member_delivered_idx").on(t.memberId, t.deliveredAt),
    index("messages_campaign_idx").on(t.campaignId, t.id),
    // Erasure redacts a member's messages.
    index("messages_member_idx").on(t.memberId),
  ],
);

/**
 * A member's way through a journey campaign: one run per (campaign, member, occurrence), at
 * `stepId`, due at `nextRunAt` (the minute cron advances due runs, leasing them by moving
 * `nextRunAt` forward while it works).
 */
export const journeyRuns = sqliteTable(
  "journey_runs",
  {
    id: id(),
    programId: programId(),
    campaignId: text("campaign_id").notNull(),
    memberId: text("member_id").notNull(),
    occurrenceKey: text("occurrence_key").notNull(),
    variantKey: text("variant_key"),
    status: text("status", { enum: ["active", "completed", "exited"] }).notNull(),
    /** The step to run next (null once the run is over). */
    stepId: text("step_id"),
    nextRunAt: timestamp("next_run_at"),
    exitReason: text("exit_reason"),
    /** Trigger facts for templates, as for one-shot campaigns. */
    context: json<Record<string, unknown>>("context"),
    enteredAt: text("entered_at").notNull(),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("journey_runs_occurrence_uq").on(t.campaignId, t.memberId, t.occurrenceKey),
    index("journey_runs_due_idx").on(t.status, t.nextRunAt),
    index("journey_runs_campaign_idx").on(t.campaignId, t.status),
  ],
);

/** Each step a run executed, once: the primary key is what makes a step idempotent per (run, step). */
export const journeyStepRuns = sqliteTable(
  "journey_step_runs",
  {
    id: id(),
    runId: text("run_id").notNull(),
    programId: programId(),
    campaignId: text("campaign_id").notNull(),
    memberId: text("member_id").notNull(),
    stepId: text("step_id").notNull(),
    /** sent, skipped, waited, then, else, awarded, refused, exited. */
    outcome: text("outcome").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("journey_step_runs_uq").on(t.runId, t.stepId), index("journey_step_runs_campaign_idx").on(t.campaignId, t.stepId)],
);

/** What a channel provider reported about a message (delivered, opened, clicked, bounced, complained, unsubscribed). */
export const messageEvents = sqliteTable(
  "message_events",
  {
    id: id(),
    programId: programId(),
    messageId: text("message_id").notNull(),
    campaignId: text("campaign_id"),
    memberId: text("member_id").notNull(),
    channel: text("channel").notNull(),
    type: text("type").notNull(),
    /** The provider's id for the event: a resend of the same event is recorded once. */
    providerEventId: text("provider_event_id").notNull(),
    occurredAt: text("occurred_at").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("message_events_provider_uq").on(t.programId, t.channel, t.providerEventId),
    index("message_events_message_idx").on(t.messageId, t.type),
    index("message_events_campaign_idx").on(t.campaignId, t.type),
    index("message_events_member_idx").on(t.memberId, t.type, t.occurredAt),
  ],
);

/** Channels stopped for a member after a hard bounce or a complaint: nothing more is sent there. */
export const channelSuppressions = sqliteTable(
  "channel_suppressions",
  {
    programId: programId(),
    memberId: text("member_id").notNull(),
    channel: text("channel").notNull(),
    reason: text("reason").notNull(),
    messageId: text("message_id"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.memberId, t.channel] })],
);
