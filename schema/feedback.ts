import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, id, json, programId } from "./columns";

/** Member feedback (NPS, surveys, reviews). */
export const feedback = sqliteTable(
  "feedback",
  {
    id: id(),
    programId: programId(),
    memberId: text("member_id").notNull(),
    kind: text("kind", { enum: ["nps", "survey", "review"] }).notNull(),
    score: integer("score"),
    text: text("text"),
    tags: json<string[]>("tags").notNull().default([]),
    /** The POST's Idempotency-Key and the hash of its body: a retry replays this row (null on rows from before keys were required). */
    requestKey: text("request_key"),
    requestHash: text("request_hash"),
    createdAt: createdAt(),
  },
  (t) => [
    index("feedback_program_created_idx").on(t.programId, t.createdAt),
    index("feedback_member_idx").on(t.memberId),
    // One row per key: a concurrent or retried duplicate fails the insert and reads this row.
    uniqueIndex("feedback_program_request_key_uq").on(t.programId, t.requestKey),
  ],
);
