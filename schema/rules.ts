import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { bool, createdAt, id, json, programId, timestamp } from "./columns";

/** Earning rules: definition is validated JSON (trigger, conditions, effect, caps). */
export const earningRules = sqliteTable(
  "earning_rules",
  {
    id: id(),
    programId: programId(),
    name: text("name").notNull(),
    active: bool("active").notNull().default(true),
    definition: json<Record<string, unknown>>("definition").notNull(),
    /** Points this rule has awarded in total, checked against its budget. */
    pointsAwarded: integer("points_awarded").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [
    index("rules_program_idx").on(t.programId, t.active),
    // A rule's total budget holds even when many members' ledgers award concurrently.
    check(
      "rules_budget_ck",
      sql`json_extract(definition, '$.budgetPoints') IS NULL OR points_awarded <= json_extract(definition, '$.budgetPoints')`,
    ),
  ],
);

/** Points a rule has awarded a member, for per-member caps. */
export const ruleMemberUsage = sqliteTable(
  "rule_member_usage",
  {
    ruleId: text("rule_id").notNull(),
    memberId: text("member_id").notNull(),
    points: integer("points").notNull().default(0),
  },
  (t) => [uniqueIndex("rule_usage_uq").on(t.ruleId, t.memberId)],
);
