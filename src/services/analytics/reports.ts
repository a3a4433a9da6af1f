import { and, desc, eq, isNotNull, ne, sql } from "drizzle-orm";
import { members, programs, segments } from "../../../schema";
import { recentFits, type StoredFit } from "../../analytics/fit";
import { lifecycleThresholdsOf } from "../../analytics/lifecycle";
import { type ProgramAnalyticsSummary, runProgramAnalytics } from "../../analytics/pipeline";
import { LIFECYCLE_STAGES, type LifecycleThresholds, lifecycleThresholdsSchema } from "../../domain/lifecycle/stages";
import { VALUE_SEGMENTS } from "../../domain/segments/value-segments";
import { settingsOf } from "../../env";
import type { ServiceContext } from "../../lib/context";
import { AppError } from "../../lib/errors";
import { nowIso } from "../../lib/time";
import { auditStatement } from "../access/audit";
import { configVersionBump } from "../program/config-version";

/** On-demand recompute stays within one request: at most this many pages per step. */
const RECOMPUTE_MAX_PAGES = 200;

/** The program's current model fit and the few before it. */
export async function modelFitsOf({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; history: number };
}): Promise<{ current: StoredFit | null; history: StoredFit[] }> {
  const fits = await recentFits(ctx.db, input.programId, input.history + 1);
  return { current: fits[0] ?? null, history: fits.slice(1) };
}

/** Run the nightly analytics for the caller's program now (admin), bounded per step. */
export async function recomputeAnalytics({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; asOf?: string };
}): Promise<ProgramAnalyticsSummary> {
  const { CRON_BATCH_SIZE } = settingsOf(ctx.env);
  // asOf: compute as of an instant in the past (e.g. the end of an imported history's
  // calibration period); purchases after it are ignored.
  const now = input.asOf ? new Date(input.asOf) : new Date();
  const summary = await runProgramAnalytics(ctx.db, input.programId, now, { batchSize: CRON_BATCH_SIZE, maxPages: RECOMPUTE_MAX_PAGES });
  await auditStatement(ctx, {
    action: "analytics.recompute",
    entityType: "program",
    entityId: input.programId,
    after: { fit: summary.fit },
  });
  return summary;
}

/** Members per value segment, per lifecycle stage, and per custom segment (erased members excluded). */
export async function segmentCounts({ ctx, input }: { ctx: ServiceContext; input: { programId: string } }) {
  const live = and(eq(members.programId, input.programId), ne(members.status, "erased"));
  const [byValue, byStage, custom] = await ctx.db.batch([
    ctx.db.select({ key: members.valueSegment, n: sql<number>`COUNT(*)` }).from(members).where(live).groupBy(members.valueSegment),
    ctx.db.select({ key: members.stage, n: sql<number>`COUNT(*)` }).from(members).where(live).groupBy(members.stage),
    ctx.db
      .select({ id: segments.id, name: segments.name, memberCount: segments.memberCount, computedAt: segments.computedAt })
      .from(segments)
      .where(eq(segments.programId, input.programId))
      .orderBy(segments.id),
  ]);
  const tally = <K extends string>(keys: readonly K[], rows: Array<{ key: string | null; n: number }>) =>
    Object.fromEntries(keys.map((k) => [k, Number(rows.find((r) => r.key === k)?.n ?? 0)])) as Record<K, number>;
  return {
    valueSegments: { ...tally(VALUE_SEGMENTS, byValue), none: Number(byValue.find((r) => r.key === null)?.n ?? 0) },
    stages: tally(LIFECYCLE_STAGES, byStage),
    custom,
  };
}

/** Histogram of churn probability over scored members, in `buckets` equal-width bins of [0, 1]. */
export async function churnHistogram({ ctx, input }: { ctx: ServiceContext; input: { programId: string; buckets: number } }) {
  const n = input.buckets;
  const bin = sql<number>`MIN(CAST(${members.churnProbability} * ${n} AS INTEGER), ${n - 1})`;
  const live = and(eq(members.programId, input.programId), ne(members.status, "erased"));
  const [bins, totals] = await ctx.db.batch([
    ctx.db
      .select({ bin, n: sql<number>`COUNT(*)` })
      .from(members)
      .where(and(live, isNotNull(members.churnProbability)))
      .groupBy(bin),
    ctx.db
      .select({
        scored: sql<number>`COUNT(${members.churnProbability})`,
        all: sql<number>`COUNT(*)`,
        mean: sql<number | null>`AVG(${members.churnProbability})`,
      })
      .from(members)
      .where(live),
  ]);
  const counts = new Map(bins.map((b) => [Number(b.bin), Number(b.n)]));
  const scored = Number(totals[0]?.scored ?? 0);
  return {
    buckets: Array.from({ length: n }, (_, i) => ({ from: i / n, to: (i + 1) / n, count: counts.get(i) ?? 0 })),
    scored,
    unscored: Number(totals[0]?.all ?? 0) - scored,
    meanChurnProbability: totals[0]?.mean == null ? null : Number(totals[0].mean),
  };
}

/** Members with the highest 12-month CLV. */
export async function topClv({ ctx, input }: { ctx: ServiceContext; input: { programId: string; limit: number } }) {
  const data = await ctx.db
    .select({
      memberId: members.id,
      externalId: members.externalId,
      name: members.name,
      clv12m: sql<number>`${members.clv12m}`,
      expectedOrderValue: members.expectedOrderValue,
      expectedPurchases90d: members.expectedPurchases90d,
      churnProbability: members.churnProbability,
      stage: members.stage,
      valueSegment: members.valueSegment,
    })
    .from(members)
    .where(and(eq(members.programId, input.programId), ne(members.status, "erased"), isNotNull(members.clv12m)))
    .orderBy(desc(members.clv12m), members.id)
    .limit(input.limit);
  return { data };
}

export async function getLifecycleSettings({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string };
}): Promise<LifecycleThresholds> {
  return lifecycleThresholdsOf(ctx.db, input.programId);
}

/**
 * Replace the program's lifecycle thresholds (omitted fields take their defaults). Written
 * with json_set so other keys of `programs.settings` are untouched; audited in the same batch.
 */
export async function putLifecycleSettings({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { programId: string; thresholds: unknown };
}): Promise<LifecycleThresholds> {
  const parsed = lifecycleThresholdsSchema.safeParse(input.thresholds);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
    throw new AppError(
      "invalid_request",
      `Invalid lifecycle settings: ${fields.map((f) => `${f.path || "(root)"}: ${f.message}`).join("; ")}`,
      { fields },
    );
  }
  const before = await lifecycleThresholdsOf(ctx.db, input.programId);
  const now = nowIso();
  await ctx.db.batch([
    ctx.db
      .update(programs)
      .set({ settings: sql`json_set(${programs.settings}, '$.lifecycle', json(${JSON.stringify(parsed.data)}))`, updatedAt: now })
      .where(eq(programs.id, input.programId)),
    configVersionBump(ctx.db, input.programId),
    auditStatement(ctx, {
      action: "lifecycle_settings.update",
      entityType: "program",
      entityId: input.programId,
      before,
      after: parsed.data,
    }),
  ]);
  return parsed.data;
}
