import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { bool, createdAt, id, json, programId, timestamp } from "./columns";

/** A program is a tenant: every other row belongs to exactly one. */
export const programs = sqliteTable("programs", {
  id: id(),
  name: text("name").notNull(),
  currency: text("currency").notNull(),
  /** Base earn: `basePointsPerUnit` points per `unitMinor` minor units spent (e.g. 1 per 100 = 1 point per 1.00). */
  basePointsPerUnit: integer("base_points_per_unit").notNull(),
  unitMinor: integer("unit_minor").notNull().default(100),
  /** What one point costs the program, in minor units per 1000 points (10 = 1 point costs 0.01 minor unit). */
  pointCostPer1000: integer("point_cost_per_1000").notNull(),
  allowNegativeBalance: bool("allow_negative_balance").notNull().default(false),
  holdDays: integer("hold_days").notNull().default(0),
  /** Days after earning points expire (the `afterEarning` policy); null = never, unless `expiryPolicy` is set. */
  expiryDays: integer("expiry_days"),
  /**
   * The calendar (`endOfPeriod`) and `inactivity` expiry policies (src/domain/points/expiry.ts);
   * null = the `expiry_days` policy. Read through `expiryPolicyOf`, never directly.
   */
  expiryPolicy: json<Record<string, unknown>>("expiry_policy"),
  /** How far back a storefront or partner may date a purchase or activity (`occurredAt`); admin keys and imports may go further. */
  backdateDays: integer("backdate_days").notNull().default(30),
  /** IANA zone every calendar notion of the program uses (days, weeks, months, midnight). */
  timeZone: text("time_zone").notNull().default("UTC"),
  /** BCP 47 tag for member-facing text when the member has none. */
  defaultLocale: text("default_locale").notNull().default("en-US"),
  /** Browser origins (scheme://host[:port]) allowed to read the API's answers (CORS: the widget with a member token). */
  allowedOrigins: json<string[]>("allowed_origins").notNull().default([]),
  /** Bumped in the same batch as every write to a configuration table (src/services/program/config-version.ts). */
  configVersion: integer("config_version").notNull().default(1),
  settings: json<Record<string, unknown>>("settings").notNull().default({}),
  /**
   * Set by the operator (POST /v1/operator/programs/{id}/suspend): every key and member token of
   * the program is refused with 403 program_suspended and the scheduled jobs skip it. Null: active.
   */
  suspendedAt: timestamp("suspended_at"),
  suspendedReason: text("suspended_reason"),
  createdAt: createdAt(),
  updatedAt: timestamp("updated_at").notNull(),
});

/**
 * The last local date (in the program's zone) each once-a-day job ran for a program. The jobs
 * run hourly and act for a program once its local date passes this one, so each program's
 * midnight is hit whatever its offset, and a failed run is retried the next hour.
 */
export const localDayRuns = sqliteTable(
  "local_day_runs",
  {
    programId: programId(),
    job: text("job").notNull(),
    day: text("day").notNull(),
    ranAt: timestamp("ran_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.job] })],
);

/**
 * Per-program usage for billing, per UTC day: requests answered with one of the program's
 * credentials, writes among them (non-GET requests answered 2xx) and rows written to libSQL on
 * their behalf (by the Worker and by members' Durable Objects). Aggregated per isolate and added
 * here in a background flush (src/services/tenants/usage.ts), never on the request's path.
 */
export const programUsageDaily = sqliteTable(
  "program_usage_daily",
  {
    programId: programId(),
    day: text("day").notNull(),
    requests: integer("requests").notNull().default(0),
    writes: integer("writes").notNull().default(0),
    rowsWritten: integer("rows_written").notNull().default(0),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.day] })],
);
