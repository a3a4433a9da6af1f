import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, id, json, programId, timestamp } from "./columns";

/**
 * `debt`: new points paying back a points debt (see `ledgerEntries.debt`). `return`: redeemed
 * points going back to the lots they came from (a released or voided reserve, a reversed
 * redemption, a cancelled coupon), recorded as negative lot_allocations rows. `merge`: a member's
 * balance and debt moved out of a member merged away (−, taking all its lots) and into the member
 * it was merged into (+, copies of those lots with their dates).
 */
export const entryTypes = ["earn", "redeem", "expire", "adjust", "reverse", "debt", "return", "merge"] as const;

/** Immutable ledger: a member's balance is always the sum of their entries. */
export const ledgerEntries = sqliteTable(
  "ledger_entries",
  {
    id: id(),
    programId: programId(),
    memberId: text("member_id").notNull(),
    type: text("type", { enum: entryTypes }).notNull(),
    points: integer("points").notNull(),
    reason: text("reason").notNull(),
    /** What caused it: order, activity, campaign, reward, referral, admin, system. */
    sourceType: text("source_type").notNull(),
    sourceId: text("source_id"),
    ruleId: text("rule_id"),
    /**
     * Change in the member's points debt: points a clawback (a refund after the points were spent)
     * could not take from the balance are owed (+), and new points pay them back first (−). The
     * member's `points_debt` is the sum of this column, as `points_balance` is the sum of `points`.
     */
    debt: integer("debt").notNull().default(0),
    /** The write request this entry belongs to (several entries may share one). */
    requestKey: text("request_key").notNull(),
    /** Why this many points: the rule lines that fired, the tier multiplier, lots consumed. */
    metadata: json<Record<string, unknown>>("metadata"),
    createdAt: createdAt(),
  },
  (t) => [
    // Member history, newest first, with an id cursor.
    index("ledger_member_created_idx").on(t.memberId, t.id),
    index("ledger_program_created_idx").on(t.programId, t.createdAt),
    index("ledger_source_idx").on(t.programId, t.sourceType, t.sourceId),
  ],
);

/**
 * How a lot expires: `date` at its `expires_at` (none when null), `period` at its `expires_at`
 * too but through the fanned-out calendar job (millions of lots share one instant), and
 * `inactivity` with its member's `inactivity_expires_at` (its own `expires_at` stays null).
 */
export const lotExpiryKinds = ["date", "period", "inactivity"] as const;

/**
 * Earned points are lots: pending until `availableAt`, then spendable until `expiresAt`.
 * `remaining` only decreases (redemption, expiry, reversal) and never below zero: the
 * CHECK is the database's second line against a double spend.
 */
export const pointLots = sqliteTable(
  "point_lots",
  {
    id: id(),
    programId: programId(),
    memberId: text("member_id").notNull(),
    entryId: text("entry_id").notNull(),
    orderId: text("order_id"),
    points: integer("points").notNull(),
    remaining: integer("remaining").notNull(),
    availableAt: text("available_at").notNull(),
    /** 1 once the hold has passed and the release cron moved it out of pending. */
    released: integer("released").notNull().default(0),
    expiresAt: text("expires_at"),
    expiryKind: text("expiry_kind", { enum: lotExpiryKinds }).notNull().default("date"),
    createdAt: createdAt(),
  },
  (t) => [
    check("point_lots_remaining_ck", sql`${t.remaining} >= 0 AND ${t.remaining} <= ${t.points}`),
    // First-to-expire-first consumption per member.
    index("lots_member_expiry_idx").on(t.memberId, t.expiresAt),
    // Release and expiry sweeps.
    index("lots_release_idx").on(t.released, t.availableAt),
    // Lots still holding points (spent ones are left out): the sweep seeks `date` lots due, the
    // calendar planner each program's latest `period` instant due.
    index("lots_due_idx").on(t.expiryKind, t.expiresAt).where(sql`remaining > 0`),
    index("lots_period_due_idx").on(t.programId, t.expiresAt).where(sql`remaining > 0 AND expiry_kind = 'period'`),
    index("lots_order_idx").on(t.programId, t.orderId),
  ],
);

/**
 * Which lots each debit used: one row per (debit entry, lot) with the points it took. Every
 * entry that takes points from lots (redemption, refund reversal, expiry, debit adjustment,
 * referral take-back, debt repayment) writes its rows in the same batch, and a return to a lot
 * (a reversed redemption) is a row with negative points, so for every lot
 * `points − remaining = Σ allocations`. The record of what a debit took (for reversals back to
 * the original lots); no personal data, so erasure never touches it.
 */
export const lotAllocations = sqliteTable(
  "lot_allocations",
  {
    programId: programId(),
    memberId: text("member_id").notNull(),
    entryId: text("entry_id").notNull(),
    lotId: text("lot_id").notNull(),
    points: integer("points").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("lot_allocations_entry_lot_uq").on(t.entryId, t.lotId),
    index("lot_allocations_lot_idx").on(t.lotId),
    index("lot_allocations_member_idx").on(t.memberId),
  ],
);

export const redemptionStatuses = ["reserved", "captured", "voided", "expired"] as const;

/**
 * A redemption of points at checkout. `capture: false` reserves: the points are debited from
 * their lots at once (a `redeem` entry, so they leave `available`) and counted in the member's
 * `points_reserved` until captured (all or part; the rest returns to its lots), voided or
 * expired (the member's Durable Object sets an alarm for `expiresAt`). A captured redemption can
 * be reversed, in parts, up to what was captured: the points return to the lots they came from,
 * with their original expiry.
 */
export const redemptions = sqliteTable(
  "redemptions",
  {
    id: id(),
    programId: programId(),
    memberId: text("member_id").notNull(),
    status: text("status", { enum: redemptionStatuses }).notNull(),
    /** Points debited when the redemption was made (reserved or captured at once). */
    points: integer("points").notNull(),
    capturedPoints: integer("captured_points").notNull().default(0),
    reversedPoints: integer("reversed_points").notNull().default(0),
    reason: text("reason").notNull(),
    /** The `redeem` entry that debited the lots (lot_allocations say which). */
    entryId: text("entry_id").notNull(),
    /** When an uncaptured reserve lapses. */
    expiresAt: text("expires_at"),
    /** The partner whose key made the redemption (null: the storefront, an admin or the member): the settlement report's "redeemed at". */
    sourcePartner: text("source_partner"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [
    check("redemptions_points_ck", sql`${t.capturedPoints} <= ${t.points} AND ${t.reversedPoints} <= ${t.capturedPoints}`),
    index("redemptions_member_idx").on(t.memberId, t.status),
    index("redemptions_program_idx").on(t.programId, t.id),
    // The settlement report: a program's redemptions at partners, by when they were made.
    index("redemptions_partner_idx").on(t.programId, t.sourcePartner, t.createdAt),
  ],
);

/** Who chose an idempotency key: a client (its Idempotency-Key header) or the system (src/ledger/system-keys.ts). */
export const keyOrigins = ["client", "system"] as const;

/**
 * One row per idempotent write: the key, a hash of its body, and the original response. Client
 * and system keys live in separate namespaces (`origin` is part of the unique key), so no
 * Idempotency-Key a client sends can ever take a key the system derives for its own writes.
 */
export const ledgerRequests = sqliteTable(
  "ledger_requests",
  {
    programId: programId(),
    origin: text("origin", { enum: keyOrigins }).notNull().default("client"),
    idempotencyKey: text("idempotency_key").notNull(),
    memberId: text("member_id").notNull(),
    operation: text("operation").notNull(),
    requestHash: text("request_hash").notNull(),
    status: integer("status").notNull(),
    response: json<unknown>("response").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("ledger_requests_key_uq").on(t.programId, t.origin, t.idempotencyKey),
    // Erasure redacts a member's stored answers.
    index("ledger_requests_member_idx").on(t.memberId),
  ],
);

/** Orders that earned points: what refunds reverse and what analytics summarise. */
export const orders = sqliteTable(
  "orders",
  {
    id: id(),
    programId: programId(),
    memberId: text("member_id").notNull(),
    orderId: text("order_id").notNull(),
    amount: integer("amount").notNull(),
    currency: text("currency").notNull(),
    refundedAmount: integer("refunded_amount").notNull().default(0),
    pointsEarned: integer("points_earned").notNull().default(0),
    pointsReversed: integer("points_reversed").notNull().default(0),
    channel: text("channel"),
    storeId: text("store_id"),
    items: json<unknown[]>("items"),
    occurredAt: text("occurred_at").notNull(),
    /**
     * Who created the order: the key's scope (or `system`), the key and, for partner keys, the
     * partner. A partner or storefront key refunds only orders of its own source. Null on orders
     * older than these columns.
     */
    sourceScope: text("source_scope"),
    sourceKeyId: text("source_key_id"),
    sourcePartner: text("source_partner"),
    /** The member's tier and its version when the order was placed: the benefits it was sold under. */
    tierId: text("tier_id"),
    tierVersion: integer("tier_version"),
    createdAt: createdAt(),
  },
  (t) => [
    check("orders_refund_ck", sql`${t.refundedAmount} <= ${t.amount} AND ${t.pointsReversed} <= ${t.pointsEarned}`),
    uniqueIndex("orders_program_order_uq").on(t.programId, t.orderId),
    // Summaries (recency/frequency/monetary, tier windows) per member over time.
    index("orders_member_occurred_idx").on(t.memberId, t.occurredAt),
    index("orders_program_occurred_idx").on(t.programId, t.occurredAt),
    // Exports page through a program's orders in the order they were recorded.
    index("orders_program_created_idx").on(t.programId, t.createdAt, t.id),
  ],
);

/**
 * Transactional outbox: every change that others react to (webhooks, campaigns) writes an
 * event here in the same batch. Consumers keep their own cursors/markers.
 */
export const outboxEvents = sqliteTable(
  "outbox_events",
  {
    id: id(),
    programId: programId(),
    memberId: text("member_id"),
    type: text("type").notNull(),
    payload: json<Record<string, unknown>>("payload").notNull(),
    createdAt: createdAt(),
    /** Set when the dispatcher has fanned it out to webhooks and campaign triggers. */
    dispatchedAt: timestamp("dispatched_at"),
    /** Campaign-trigger runs that failed on this event; past a limit it is skipped (and alerted) so it cannot hold the queue. */
    dispatchAttempts: integer("dispatch_attempts").notNull().default(0),
  },
  (t) => [
    index("outbox_undispatched_idx").on(t.dispatchedAt, t.id),
    index("outbox_program_type_idx").on(t.programId, t.type, t.id),
    // Erasure scrubs a member's events (and the deliveries made from them).
    index("outbox_member_idx").on(t.memberId),
  ],
);

/**
 * Where each outbox consumer has read up to, so consumers (webhook dispatch, campaign
 * triggers) never contend over `dispatched_at`. The webhook dispatcher stores the last
 * `outbox_events` rowid it processed (rowids follow commit order; ids need not).
 */
export const outboxCursors = sqliteTable("outbox_cursors", {
  consumer: text("consumer").primaryKey(),
  position: text("position").notNull(),
  updatedAt: timestamp("updated_at").notNull(),
});
