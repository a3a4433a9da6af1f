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
