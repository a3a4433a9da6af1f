// The analytics pipeline in one invocation (POST /v1/analytics/recompute; the nightly run is
// the same chain fanned out over the loyalty-jobs queue, src/jobs/), per program, in this order (each step reads what the one
// before wrote): purchase summaries → BG/NBD + Gamma-Gamma fit → per-member scores →
// RFM and value segments → lifecycle stages → custom segments. Every step works set-based
// in pages of `batchSize` members and is idempotent: a rerun rewrites the same values and,
// with nothing changed, emits no events.
import type { Database } from "../db/client";
import { type RecomputedSegment, recomputeProgramSegments } from "../services/segments/segments";
import { type FitOutcome, fitProgramModels } from "./fit";
import { type LifecycleOutcome, lifecycleThresholdsOf, moveLifecycleStages } from "./lifecycle";
import { type RfmOutcome, scoreProgramRfm } from "./rfm";
import { type ScoresOutcome, scoreProgramMembers } from "./scores";
import type { PageLimits } from "./sql";

export type ProgramAnalyticsSummary = {
  programId: string;
  now: string;
  fit:
    | { status: "fitted"; fitId: string; purchasers: number; sampleSize: number; converged: boolean }
    | { status: "skipped"; reason: string; currentFitId: string | null };
  scores: ScoresOutcome | { skipped: string };
  rfm: RfmOutcome;
  lifecycle: LifecycleOutcome;
  segments: RecomputedSegment[];
  durationMs: number;
};

function fitSummary(outcome: FitOutcome): ProgramAnalyticsSummary["fit"] {
  if (outcome.status === "fitted") {
    const { fit } = outcome;
    return {
      status: "fitted",
      fitId: fit.id,
      purchasers: fit.diagnostics.purchasers,
      sampleSize: fit.diagnostics.sampleSize,
      converged: fit.diagnostics.bgnbd.converged,
    };
  }
  return { status: "skipped", reason: outcome.reason, currentFitId: outcome.current?.id ?? null };
}

/** Run every analytics step for one program. */
export async function runProgramAnalytics(
  db: Database,
  programId: string,
  now: Date,
  limits: PageLimits,
): Promise<ProgramAnalyticsSummary> {
  const started = Date.now();
  const fitted = await fitProgramModels(db, programId, now);
  const fit = fitted.status === "fitted" ? fitted.fit : fitted.current;
  const scores = fit ? await scoreProgramMembers(db, programId, fit, now, limits) : { skipped: "no model fit yet" };
  const rfm = await scoreProgramRfm(db, programId, now, limits);
  const lifecycle = await moveLifecycleStages(db, programId, await lifecycleThresholdsOf(db, programId), now, limits);
  const segments = await recomputeProgramSegments(db, programId, now);
  return { programId, now: now.toISOString(), fit: fitSummary(fitted), scores, rfm, lifecycle, segments, durationMs: Date.now() - started };
}
