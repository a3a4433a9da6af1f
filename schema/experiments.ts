import { index, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { createdAt, id, json, programId, timestamp } from "./columns";

export const experiments = sqliteTable(
  "experiments",
  {
    id: id(),
    programId: programId(),
    campaignId: text("campaign_id").notNull(),
    status: text("status", { enum: ["running", "stopped"] }).notNull(),
    definition: json<Record<string, unknown>>("definition").notNull(),
    startedAt: text("started_at").notNull(),
    stoppedAt: timestamp("stopped_at"),
    winner: text("winner"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("experiments_campaign_uq").on(t.campaignId)],
);

/** Sticky assignment and exposure of a member in an experiment. */
export const experimentExposures = sqliteTable(
  "experiment_exposures",
  {
    experimentId: text("experiment_id").notNull(),
    memberId: text("member_id").notNull(),
    programId: programId(),
    variantKey: text("variant_key").notNull(),
    exposedAt: text("exposed_at").notNull(),
  },
  (t) => [uniqueIndex("exposures_uq").on(t.experimentId, t.memberId), index("exposures_variant_idx").on(t.experimentId, t.variantKey)],
);
