import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, id, json, programId, timestamp } from "./columns";

export type Consent = { email: boolean; sms: boolean; push: boolean; line: boolean; wechat: boolean };

/**
 * The member row is the read model for storefront lookups: profile, tier, balance and
 * scores in one indexed read. Balances are denormalised sums of the ledger, changed only
 * by relative updates inside the same batch as the ledger entries.
 */
export const members = sqliteTable(
  "members",
  {
    id: id(),
    programId: programId(),
    externalId: text("external_id").notNull(),
    /** `merged`: a tombstone left by a merge; `mergedInto` says where the member went. */
    status: text("status", { enum: ["active", "blocked", "erased", "merged"] })
      .notNull()
      .default("active"),
    email: text("email"),
    phone: text("phone"),
    /** `phone` normalised to E.164 (libphonenumber-js), for the POS lookup by phone; null when it does not parse. */
    phoneE164: text("phone_e164"),
    /**
     * A short number per program that a rotating member code carries (see src/services/members/member-codes.ts);
     * assigned on the first code, never reused.
     */
    memberNumber: integer("member_number"),
    /** The member this one was merged into (status `merged`). */
    mergedInto: text("merged_into"),
    name: text("name"),
    birthday: text("birthday"),
    attributes: json<Record<string, unknown>>("attributes").notNull().default({}),
    tags: json<string[]>("tags").notNull().default([]),
    consent: json<Consent>("consent").notNull(),
    referralCode: text("referral_code").notNull(),
    referredBy: text("referred_by"),
    acquisitionChannel: text("acquisition_channel"),
    // Points: balance = Σ ledger entries = available + pending.
    pointsBalance: integer("points_balance").notNull().default(0),
    pointsPending: integer("points_pending").notNull().default(0),
    /** Points owed after a clawback found them spent (Σ ledger_entries.debt); repaid first from new points. */
    pointsDebt: integer("points_debt").notNull().default(0),
    /** Points reserved by uncaptured checkout holds (already debited from the lots and the balance). */
    pointsReserved: integer("points_reserved").notNull().default(0),
    lifetimeEarned: integer("lifetime_earned").notNull().default(0),
    lifetimeRedeemed: integer("lifetime_redeemed").notNull().default(0),
    // Purchases, maintained with each accrual/refund.
    lifetimeSpend: integer("lifetime_spend").notNull().default(0),
    ordersCount: integer("orders_count").notNull().default(0),
    firstPurchaseAt: timestamp("first_purchase_at"),
    lastPurchaseAt: timestamp("last_purchase_at"),
    lastActivityAt: timestamp("last_activity_at"),
    /**
     * When the member's `inactivity` lots expire: N days after their last purchase, moved by every
     * purchase (never by a rewrite of the lots). Null until such a lot is earned.
     */
    inactivityExpiresAt: timestamp("inactivity_expires_at"),
    // Tier.
    tierId: text("tier_id"),
    tierSince: timestamp("tier_since"),
    tierSecuredUntil: timestamp("tier_secured_until"),
    /** A tier an admin assigned (status match, invite-only, goodwill): the member is not moved below it before `assignedTierUntil`. */
    assignedTierId: text("assigned_tier_id"),
    assignedTierUntil: timestamp("assigned_tier_until"),
    // Analytics written by cron.
    stage: text("stage").notNull().default("new"),
    stageSince: timestamp("stage_since"),
    rfmR: integer("rfm_r"),
    rfmF: integer("rfm_f"),
    rfmM: integer("rfm_m"),
    valueSegment: text("value_segment"),
    churnProbability: real("churn_probability"),
    expectedPurchases90d: real("expected_purchases_90d"),
    expectedOrderValue: integer("expected_order_value"),
    clv12m: integer("clv_12m"),
    scoredAt: timestamp("scored_at"),
    lastNps: integer("last_nps"),
    feedbackTags: json<string[]>("feedback_tags").notNull().default([]),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull(),
    erasedAt: timestamp("erased_at"),
  },
  (t) => [
    // Idempotent registration and lookup by the storefront's own customer id.
    uniqueIndex("members_program_external_uq").on(t.programId, t.externalId),
    uniqueIndex("members_program_referral_uq").on(t.programId, t.referralCode),
    // Members of a program in id order (listing, cursors by id).
    index("members_program_id_idx").on(t.programId, t.id),
    // Nightly sweeps walk a program's members in storage (rowid) order: an index on program_id
    // alone carries the rowid, so `program_id = ? AND rowid > ? ORDER BY rowid` is a range scan.
    index("members_program_idx").on(t.programId),
    // The expiry sweep finds members whose inactivity deadline has passed.
    index("members_inactivity_expiry_idx").on(t.inactivityExpiresAt),
    index("members_program_email_idx").on(t.programId, t.email),
    index("members_program_phone_idx").on(t.programId, t.phoneE164),
    uniqueIndex("members_program_number_uq").on(t.programId, t.memberNumber),
    // Staff member search (GET /v1/members/search): case-insensitive email, phone by its digits, name by prefix.
    index("members_search_email_idx").on(t.programId, sql`lower(${t.email})`, t.id),
    index("members_search_phone_idx").on(
      t.programId,
      sql`replace(replace(replace(replace(replace(${t.phone}, ' ', ''), '-', ''), '(', ''), ')', ''), '+', '')`,
      t.id,
    ),
    index("members_search_name_idx").on(t.programId, sql`lower(${t.name})`, t.id),
    // Incremental exports (`updatedSince`) page through a program's members by last change.
    index("members_program_updated_idx").on(t.programId, t.updatedAt, t.id),
  ],
);

/**
 * Erased members, without personal data: what an erasure re-applies after a restore brings an
 * erased member's row back (export these rows before restoring, import them as erasures after).
 */
export const erasedMembers = sqliteTable(
  "erased_members",
  {
    programId: programId(),
    memberId: text("member_id").notNull(),
    erasedAt: text("erased_at").notNull(),
  },
  (t) => [uniqueIndex("erased_members_uq").on(t.programId, t.memberId)],
);

export const mergeStatuses = ["debiting", "crediting", "completed"] as const;

/**
 * A merge of one member (`sourceId`) into another (`targetId`), as a record of steps so a merge
 * interrupted half way resumes where it stopped: `debiting` (both members locked, the source's
 * points not yet moved out), `crediting` (moved out of the source, into its tombstone; not yet
 * into the target), `completed` (`result` is the answer every later request for it gets).
 * A member is merged away at most once (unique source).
 */
export const memberMerges = sqliteTable(
  "member_merges",
  {
    id: id(),
    programId: programId(),
    targetId: text("target_id").notNull(),
    sourceId: text("source_id").notNull(),
    status: text("status", { enum: mergeStatuses }).notNull(),
    /** The admin request's Idempotency-Key, if it sent one. */
    idempotencyKey: text("idempotency_key"),
    result: json<Record<string, unknown>>("result"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("member_merges_source_uq").on(t.programId, t.sourceId),
    uniqueIndex("member_merges_key_uq").on(t.programId, t.idempotencyKey),
    index("member_merges_target_idx").on(t.targetId),
  ],
);
