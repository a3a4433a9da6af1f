// The nightly jobs that fan out over the `loyalty-jobs` queue: what each needs fixed before its
// shards run (`prepare`), the work of one shard, and the job that runs when it is complete.
import { currentFit, fitProgramModels, type StoredFit } from "../analytics/fit";
import { lifecycleThresholdsOf, moveLifecycleStages } from "../analytics/lifecycle";
import { type RfmEdgeLists, rfmEdgesOf, scoreRfmWithEdges } from "../analytics/rfm";
import { scoreProgramMembers } from "../analytics/scores";
import type { RowidRange } from "../analytics/sql";
import type { Database } from "../db/client";
import type { LifecycleThresholds } from "../domain/lifecycle/stages";
import type { Tier } from "../domain/tiers/schema";
import { dueCalendarExpiries, expirePeriodLots } from "../services/ledger/lots";
import { recomputeProgramSegments } from "../services/segments/segments";
import { loadTiers } from "../services/tiers/ladder";
import { requalifyProgram } from "../services/tiers/requalify";

type ShardWork = {
  db: Database;
  programId: string;
  asOf: Date;
  params: Record<string, unknown>;
  range: RowidRange;
  batchSize: number;
};

type JobDefinition = {
  /** Split over member ranges, or one message for the whole program (the fit, segments). */
  sharded: boolean;
  /** Fixed once per run and handed to every shard; `null` means nothing to do (the run ends with no shards). */
  prepare: (db: Database, programId: string, asOf: Date) => Promise<Record<string, unknown> | null>;
  /** One shard's work; returns the rows it changed. Must give the same result when run again. */
  run: (work: ShardWork) => Promise<number>;
  /** The job planned when a run of this one completes. */
  next?: string;
};

const limitsOf = (w: ShardWork) => ({ batchSize: w.batchSize, maxPages: Number.MAX_SAFE_INTEGER, range: w.range });

const FANNED_OUT_JOBS = {
  "tiers.requalify": {
    sharded: true,
    // The ladder is read once, so every shard decides against the same tiers.
    prepare: async (db, programId) => {
      const ladder = await loadTiers(db, programId);
      return ladder.length > 0 ? { ladder } : null;
    },
    run: async (w) => {
      const counts = await requalifyProgram(w.db, w.programId, w.params.ladder as Tier[], w.asOf, w.batchSize, w.range);
      return counts.upgrade + counts.downgrade + counts.renew;
    },
  },
  // BG/NBD + Gamma-Gamma cannot be split: one message fits the program (on a bounded sample).
  "analytics.fit": {
    sharded: false,
    prepare: async () => ({}),
    run: async (w) => ((await fitProgramModels(w.db, w.programId, w.asOf)).status === "fitted" ? 1 : 0),
    next: "analytics.scores",
  },
  "analytics.scores": {
    sharded: true,
    // The fit current when the run is split: a refit during the run does not mix models.
    prepare: async (db, programId) => {
      const fit = await currentFit(db, programId);
      return fit ? { fit } : null;
    },
    run: async (w) => {
      const outcome = await scoreProgramMembers(w.db, w.programId, w.params.fit as StoredFit, w.asOf, limitsOf(w));
      return outcome.scored + outcome.cleared;
    },
    next: "analytics.rfm",
  },
  // Quintile edges are program-wide: computed once, then every shard scores against them.
  "analytics.rfm": {
    sharded: true,
    prepare: async (db, programId, asOf) => {
      const { recency } = await lifecycleThresholdsOf(db, programId);
      return { edges: await rfmEdgesOf(db, programId, asOf.toISOString(), recency), recency };
    },
    run: async (w) =>
      (
        await scoreRfmWithEdges(
          w.db,
          w.programId,
          w.params.edges as RfmEdgeLists,
          w.asOf,
          limitsOf(w),
          (w.params.recency as "purchases" | "activities" | undefined) ?? "purchases",
        )
      ).updated,
    next: "analytics.lifecycle",
  },
  "analytics.lifecycle": {
    sharded: true,
    prepare: async (db, programId) => ({ thresholds: await lifecycleThresholdsOf(db, programId) }),
    run: async (w) =>
      (await moveLifecycleStages(w.db, w.programId, w.params.thresholds as LifecycleThresholds, w.asOf, limitsOf(w))).changed,
    next: "analytics.segments",
  },
  "analytics.segments": {
    sharded: false,
    prepare: async () => ({}),
    run: async (w) => (await recomputeProgramSegments(w.db, w.programId, w.asOf)).length,
  },
  // Calendar expiry (end of month / quarter / year): every `period` lot due at the run's instant
  // (`asOf`), per member range. Planned by the 5-minute cron when such an instant has passed.
  "lots.expire-period": {
    sharded: true,
    prepare: async (db, programId, asOf) => ((await dueCalendarExpiries(db, [programId], asOf)).length > 0 ? {} : null),
    run: async (w) =>
      expirePeriodLots(w.db, { programId: w.programId, asOf: w.asOf, range: w.range, batchSize: w.batchSize, now: new Date() }),
  },
} as const satisfies Record<string, JobDefinition & { next?: string }>;

export type FannedOutJob = keyof typeof FANNED_OUT_JOBS;

/** Every fanned-out job, in chain order (the deep health check lists their last finished run). */
export const FANNED_OUT_JOB_NAMES = Object.keys(FANNED_OUT_JOBS) as FannedOutJob[];

/** The jobs the nightly plan starts for every program; the rest follow from their `next` (lots.expire-period is planned on its own). */
export const NIGHTLY_ROOT_JOBS: readonly FannedOutJob[] = ["tiers.requalify", "analytics.fit"];

export const jobDefinition = (job: string): JobDefinition | undefined => (FANNED_OUT_JOBS as Record<string, JobDefinition>)[job];
