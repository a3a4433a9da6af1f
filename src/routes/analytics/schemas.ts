import { z } from "@hono/zod-openapi";
import { LIFECYCLE_STAGES } from "../../domain/lifecycle/stages";
import { VALUE_SEGMENTS } from "../../domain/segments/value-segments";

const ModelDiagnostics = z.object({ n: z.number().int(), logLikelihood: z.number(), iterations: z.number().int(), converged: z.boolean() });

const ModelFitSchema = z
  .object({
    id: z.string(),
    fittedAt: z.string(),
    params: z.object({
      unit: z.literal("days").openapi({ description: "Time unit of x, t_x, T and α" }),
      bgnbd: z.object({ r: z.number(), alpha: z.number(), a: z.number(), b: z.number() }),
      gammaGamma: z.object({ p: z.number(), q: z.number(), gamma: z.number().openapi({ description: "Minor units" }) }).nullable(),
    }),
    diagnostics: z.object({
      purchasers: z.number().int(),
      sampleSize: z.number().int(),
      sampled: z.boolean(),
      durationMs: z.number(),
      bgnbd: ModelDiagnostics,
      gammaGamma: z.union([ModelDiagnostics, z.object({ skipped: z.string() })]),
      warnings: z.array(z.string()).optional(),
    }),
  })
  .openapi("ModelFit");

export const ModelsResponse = z.object({ current: ModelFitSchema.nullable(), history: z.array(ModelFitSchema) }).openapi("ModelFits");

const Sweep = { pages: z.number().int(), members: z.number().int(), complete: z.boolean() };

export const RecomputeSummarySchema = z
  .object({
    programId: z.string(),
    now: z.string(),
    fit: z.union([
      z.object({
        status: z.literal("fitted"),
        fitId: z.string(),
        purchasers: z.number().int(),
        sampleSize: z.number().int(),
        converged: z.boolean(),
      }),
      z.object({ status: z.literal("skipped"), reason: z.string(), currentFitId: z.string().nullable() }),
    ]),
    scores: z.union([z.object({ ...Sweep, scored: z.number().int(), cleared: z.number().int() }), z.object({ skipped: z.string() })]),
    rfm: z.object({
      ...Sweep,
      updated: z.number().int(),
      edges: z.object({ recency: z.array(z.number()), frequency: z.array(z.number()), monetary: z.array(z.number()) }),
    }),
    lifecycle: z.object({ ...Sweep, changed: z.number().int() }),
    segments: z.array(
      z.union([
        z.object({ id: z.string(), memberCount: z.number().int(), computedAt: z.string() }),
        z.object({ id: z.string(), error: z.string() }),
      ]),
    ),
    durationMs: z.number(),
  })
  .openapi("AnalyticsRecompute");

const countsOf = (keys: readonly string[]) => z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])));

export const SegmentCountsSchema = z
  .object({
    valueSegments: countsOf([...VALUE_SEGMENTS, "none"]),
    stages: countsOf(LIFECYCLE_STAGES),
    custom: z.array(z.object({ id: z.string(), name: z.string(), memberCount: z.number().int(), computedAt: z.string().nullable() })),
  })
  .openapi("SegmentCounts");

export const ChurnHistogramSchema = z
  .object({
    buckets: z.array(z.object({ from: z.number(), to: z.number(), count: z.number().int() })),
    scored: z.number().int(),
    unscored: z.number().int(),
    meanChurnProbability: z.number().nullable(),
  })
  .openapi("ChurnHistogram");

export const TopClvSchema = z
  .object({
    data: z.array(
      z.object({
        memberId: z.string(),
        externalId: z.string(),
        name: z.string().nullable(),
        clv12m: z.number().int(),
        expectedOrderValue: z.number().int().nullable(),
        expectedPurchases90d: z.number().nullable(),
        churnProbability: z.number().nullable(),
        stage: z.string(),
        valueSegment: z.string().nullable(),
      }),
    ),
  })
  .openapi("TopClv");

const days = z.number().int().min(0).max(36_500);
const probability = z.number().min(0).max(1);

export const LifecycleSettingsSchema = z
  .object({
    newDays: days,
    activeWithinDays: days,
    dormantAfterDays: days,
    atRiskAfterDays: days,
    churnedAfterDays: days,
    churnProbabilityAtRisk: probability,
    churnProbabilityChurned: probability,
    recency: z.enum(["purchases", "activities"]).openapi({
      description:
        "What recency counts for lifecycle stages, RFM's R and the KPI active rate: purchases only (default), or reported activities too (reviews, visits, app logins)",
    }),
  })
  .openapi("LifecycleSettings");

// Loose on purpose: unknown keys and cross-field rules are checked by the domain schema, whose messages we return.
export const LifecycleSettingsBody = LifecycleSettingsSchema.partial()
  .loose()
  .openapi("LifecycleSettingsInput", {
    example: {
      newDays: 30,
      dormantAfterDays: 60,
      atRiskAfterDays: 120,
      churnedAfterDays: 365,
      churnProbabilityAtRisk: 0.5,
      churnProbabilityChurned: 0.8,
    },
  });
