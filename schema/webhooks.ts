import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, id, json, programId, timestamp } from "./columns";

/** Outbound webhook subscriptions of a partner. */
export const webhooks = sqliteTable(
  "webhooks",
  {
    id: id(),
    programId: programId(),
    url: text("url").notNull(),
    eventTypes: json<string[]>("event_types").notNull(),
    /** Sealed (src/lib/secret-box.ts), like every stored signing secret. */
    secret: text("secret").notNull(),
    /** The previous secret stays valid for signing until this time after a rotation. */
    previousSecret: text("previous_secret"),
    previousSecretUntil: timestamp("previous_secret_until"),
    /**
     * How deliveries are signed. Rows from before Standard Webhooks keep X-Loyalty-Signature
     * (the column default) until their owner switches them; new subscriptions are created with
     * "standard-webhooks".
     */
    scheme: text("scheme", { enum: ["standard-webhooks", "x-loyalty-signature"] })
      .notNull()
      .default("x-loyalty-signature"),
    /** The API version its payloads are rendered in (the latest when it was created; the first for older rows). */
    apiVersion: text("api_version").notNull().default("2026-06-01"),
    status: text("status", { enum: ["active", "disabled"] }).notNull(),
    disabledReason: text("disabled_reason"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [index("webhooks_program_idx").on(t.programId)],
);

export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: id(),
    programId: programId(),
    webhookId: text("webhook_id").notNull(),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    payload: json<Record<string, unknown>>("payload").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at"),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    deliveredAt: timestamp("delivered_at"),
  },
  (t) => [
    uniqueIndex("deliveries_webhook_event_uq").on(t.webhookId, t.eventId),
    index("deliveries_due_idx").on(t.status, t.nextAttemptAt),
    index("deliveries_webhook_idx").on(t.webhookId, t.id),
  ],
);
