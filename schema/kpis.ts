import { sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, json, programId } from "./columns";

/** Daily KPI snapshot per program. */
export const kpiSnapshots = sqliteTable(
  "kpi_snapshots",
  {
    programId: programId(),
    day: text("day").notNull(),
    figures: json<Record<string, unknown>>("figures").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("kpi_program_day_uq").on(t.programId, t.day)],
);
