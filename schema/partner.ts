import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, json, programId } from "./columns";

/** Inbound partner events, idempotent by the partner's own event id. */
export const partnerEvents = sqliteTable(
  "partner_events",
  {
    programId: programId(),
    eventId: text("event_id").notNull(),
    type: text("type").notNull(),
    /** The member the event applied to (null when none): erasure scrubs that member's stored results. */
    memberId: text("member_id"),
    status: integer("status").notNull(),
    result: json<unknown>("result").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("partner_events_uq").on(t.programId, t.eventId), index("partner_events_member_idx").on(t.memberId)],
);

/**
 * Which members each partner has touched (a sale, refund, activity or member event, or an API
 * write with its key): a partner key with `touched` member access reads only these members.
 * Written in the same batch as the write that touched the member; no personal data.
 */
export const partnerMembers = sqliteTable(
  "partner_members",
  {
    programId: programId(),
    partner: text("partner").notNull(),
    memberId: text("member_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("partner_members_uq").on(t.programId, t.partner, t.memberId), index("partner_members_member_idx").on(t.memberId)],
);
