import { desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { modelFits } from "../../schema";
import type { Database } from "../db/client";
import { fitBgNbd, fitGammaGamma } from "../domain/models";
import { newId } from "../lib/ids";
import { expectationsComputable } from "./scores";
import { retryOnce } from "./sql";
import { purchasersSql, purchaseSummariesSql, type RawSummary, toSummary } from "./summaries";

/** Fit on a random sample of at most this many purchasers: the parameters settle long before. */
const FIT_SAMPLE_SIZE = 20_000;
/** Below this many purchasers a fit is noise: keep the previous one. */
const MIN_PURCHASERS_FOR_FIT = 50;
/** Gamma-Gamma needs repeat buyers with spend; below this it is left out of the fit. */
const MIN_REPEAT_BUYERS_FOR_SPEND = 10;

const positive = z.number().positive().finite();
const fitParamsSchema = z.object({
  unit: z.literal("days"),
  bgnbd: z.object({ r: positive, alpha: positive, a: positive, b: positive }),
  gammaGamma: z.object({ p: positive, q: positive, gamma: positive }).nullable(),
});
type FitParams = z.infer<typeof fitParamsSchema>;

type ModelDiagnostics = { n: number; logLikelihood: number; iterations: number; converged: boolean };
type FitDiagnostics = {
  /** Day, purchasers and purchase totals the fit was made from (a same-day refit of the same data is skipped). */
  fingerprint?: string;
  purchasers: number;
  sampleSize: number;
  sampled: boolean;
  durationMs: number;
  bgnbd: ModelDiagnostics;
  gammaGamma: ModelDiagnostics | { skipped: string };
  /** Problems that leave some scores empty, e.g. a near-degenerate BG/NBD fit. */
  warnings: string[];
};
export type StoredFit = { id: string; fittedAt: string; params: FitParams; diagnostics: FitDiagnostics };

export type FitOutcome =
  | { status: "fitted"; fit: StoredFit }
  | { status: "skipped"; reason: string; purchasers: number; current: StoredFit | null };

/** The program's newest fit, or null (a row whose params no longer parse counts as none). */
export async function currentFit(db: Database, programId: string): Promise<StoredFit | null> {
  const [row] = await db
    .select()
    .from(modelFits)
    .where(eq(modelFits.programId, programId))
    .orderBy(desc(modelFits.createdAt), desc(modelFits.id))
    .limit(1);
  return row ? storedFit(row) : null;
}

function storedFit(row: typeof modelFits.$inferSelect): StoredFit | null {
  const params = fitParamsSchema.safeParse(row.params);
  return params.success
    ? { id: row.id, fittedAt: row.createdAt, params: params.data, diagnostics: row.diagnostics as FitDiagnostics }
    : null;
}

/**
 * Fit BG/NBD (purchase/dropout) and Gamma-Gamma (spend) to the program's purchase summaries
 * and store the parameters with their diagnostics. Too few purchasers, no repeat buyers or a
 * fit that does not produce finite parameters → skipped, and the previous fit stays current.
 */
export async function fitProgramModels(db: Database, programId: string, now: Date): Promise<FitOutcome> {
  const at = now.toISOString();
  // Workers advance the clock only across I/O, so this measures the read + fit as the runtime sees it.
  const started = Date.now();
  const sample = sql`${purchasersSql(programId, at)} ORDER BY random() LIMIT ${FIT_SAMPLE_SIZE}`;
  const [counted, raw] = await retryOnce(() =>
    db.batch([
      db.all<{ n: number }>(sql`SELECT COUNT(*) AS n FROM (${purchasersSql(programId, at)})`),
      db.all<RawSummary>(purchaseSummariesSql(programId, at, sample)),
    ]),
  );
  const purchasers = Number(counted[0]?.n ?? 0);
  const skip = async (reason: string): Promise<FitOutcome> => ({
    status: "skipped",
    reason,
    purchasers,
    current: await currentFit(db, programId),
  });
  if (purchasers < MIN_PURCHASERS_FOR_FIT) return skip(`${purchasers} purchasers; at least ${MIN_PURCHASERS_FOR_FIT} are needed to fit`);

  const rows = raw.map(toSummary);
  // Refitting the same purchases on the same day would only add a duplicate row: skip it.
  const fingerprint = `${at.slice(0, 10)}|${purchasers}|${rows.reduce((s, r) => s + r.x, 0)}|${Math.round(rows.reduce((s, r) => s + r.mBar * r.x, 0))}`;
  const previous = await currentFit(db, programId);
  if (previous && previous.diagnostics.fingerprint === fingerprint)
    return { status: "skipped", reason: "purchases unchanged since today's fit", purchasers, current: previous };
  let bgnbd: ReturnType<typeof fitBgNbd>;
  try {
    bgnbd = fitBgNbd(rows);
  } catch (err) {
    return skip(`BG/NBD fit failed: ${(err as Error).message}`);
  }
  const bgnbdParams = { r: bgnbd.r, alpha: bgnbd.alpha, a: bgnbd.a, b: bgnbd.b };
  if (!Object.values(bgnbdParams).every((v) => Number.isFinite(v) && v > 0)) return skip("BG/NBD fit produced non-finite parameters");

  const repeatBuyers = rows.filter((r) => r.x > 0 && r.mBar > 0).length;
  let gammaGamma: FitParams["gammaGamma"] = null;
  let gammaGammaDiagnostics: FitDiagnostics["gammaGamma"];
  if (repeatBuyers < MIN_REPEAT_BUYERS_FOR_SPEND) {
    gammaGammaDiagnostics = { skipped: `${repeatBuyers} repeat buyers; at least ${MIN_REPEAT_BUYERS_FOR_SPEND} are needed` };
  } else {
    try {
      const gg = fitGammaGamma(rows);
      const params = { p: gg.p, q: gg.q, gamma: gg.gamma };
      if (Object.values(params).every((v) => Number.isFinite(v) && v > 0)) {
        gammaGamma = params;
        gammaGammaDiagnostics = { n: gg.n, logLikelihood: gg.logLikelihood, iterations: gg.iterations, converged: gg.converged };
      } else gammaGammaDiagnostics = { skipped: "Gamma-Gamma fit produced non-finite parameters" };
    } catch (err) {
      gammaGammaDiagnostics = { skipped: `Gamma-Gamma fit failed: ${(err as Error).message}` };
    }
  }

  const params: FitParams = { unit: "days", bgnbd: bgnbdParams, gammaGamma };
  const warnings = expectationsComputable(bgnbdParams)
    ? []
    : [
        "Expected purchases are not computable with these parameters (a and b very large: dropout is nearly the same for everyone); churn probabilities are scored, expected purchases and CLV are left empty",
      ];
  const diagnostics: FitDiagnostics = {
    fingerprint,
    purchasers,
    sampleSize: rows.length,
    sampled: purchasers > rows.length,
    durationMs: Date.now() - started,
    bgnbd: { n: rows.length, logLikelihood: bgnbd.logLikelihood, iterations: bgnbd.iterations, converged: bgnbd.converged },
    gammaGamma: gammaGammaDiagnostics,
    warnings,
  };
  const fit: StoredFit = { id: newId("fit", now.getTime()), fittedAt: at, params, diagnostics };
  // Idempotent on the id, so the retry after a dropped connection cannot store the fit twice.
  await retryOnce(() => db.insert(modelFits).values({ id: fit.id, programId, params, diagnostics, createdAt: at }).onConflictDoNothing());
  return { status: "fitted", fit };
}

/** The newest fits of a program, newest first. */
export async function recentFits(db: Database, programId: string, limit: number): Promise<StoredFit[]> {
  const rows = await db
    .select()
    .from(modelFits)
    .where(eq(modelFits.programId, programId))
    .orderBy(desc(modelFits.createdAt), desc(modelFits.id))
    .limit(limit);
  return rows.map(storedFit).filter((f): f is StoredFit => f !== null);
}
