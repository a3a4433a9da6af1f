import { primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, json, programId } from "./columns";

/** Daily KPI snapshot per program: `day` is a local date in `timeZone`, the zone it was taken in (kept if the program's zone changes later). */
export const kpiSnapshots = sqliteTable(
  "kpi_snapshots",
  {
    programId: programId(),
    day: text("day").notNull(),
    timeZone: text("time_zone").notNull().default("UTC"),
    /** The day's UTC bounds [startsAt, endsAt): 24 hours, or 23 / 25 on a DST change. */
    startsAt: text("starts_at"),
    endsAt: text("ends_at"),
    figures: json<Record<string, unknown>>("figures").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("kpi_program_day_uq").on(t.programId, t.day)],
);

/**
 * Per-tier KPIs of a daily snapshot (src/domain/kpis/tier-figures.ts): one row per program, local
 * day and tier, taken with the program's snapshot (same day, same zone, same bounds).
 */
export const tierKpiSnapshots = sqliteTable(
  "tier_kpi_snapshots",
  {
    programId: programId(),
    day: text("day").notNull(),
    tierId: text("tier_id").notNull(),
    tierName: text("tier_name").notNull(),
    figures: json<Record<string, unknown>>("figures").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.day, t.tierId] })],
);
