import { integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, id, programId } from "./columns";

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
