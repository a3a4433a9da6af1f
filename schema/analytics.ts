import { index, sqliteTable } from "drizzle-orm/sqlite-core";
import { createdAt, id, json, programId } from "./columns";

/** Fitted BG/NBD + Gamma-Gamma parameters per program, newest first. */
export const modelFits = sqliteTable(
  "model_fits",
  {
    id: id(),
    programId: programId(),
    params: json<Record<string, unknown>>("params").notNull(),
    diagnostics: json<Record<string, unknown>>("diagnostics").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("model_fits_program_idx").on(t.programId, t.createdAt)],
);
