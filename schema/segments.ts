import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, id, json, programId, timestamp } from "./columns";

export const segments = sqliteTable(
  "segments",
  {
    id: id(),
    programId: programId(),
    name: text("name").notNull(),
    description: text("description"),
    rule: json<unknown>("rule").notNull(),
    memberCount: integer("member_count").notNull().default(0),
    computedAt: timestamp("computed_at"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [index("segments_program_idx").on(t.programId)],
);

export const segmentMembers = sqliteTable(
  "segment_members",
  {
    segmentId: text("segment_id").notNull(),
    memberId: text("member_id").notNull(),
    programId: programId(),
    addedAt: text("added_at").notNull(),
  },
  (t) => [uniqueIndex("segment_members_uq").on(t.segmentId, t.memberId), index("segment_members_member_idx").on(t.memberId)],
);
