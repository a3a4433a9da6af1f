import { z } from "@hono/zod-openapi";

export const ExperimentIdParam = z.object({
  experimentId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "experimentId", in: "path" }, example: "exp_01jd..." }),
});

export const ExperimentSchema = z
  .object({
    id: z.string(),
    campaignId: z.string(),
    campaignName: z.string(),
    campaignStatus: z.string(),
    status: z.enum(["running", "stopped"]),
    winner: z.string().nullable(),
    startedAt: z.string(),
    stoppedAt: z.string().nullable(),
    controlKey: z.string(),
    stop: z.record(z.string(), z.unknown()).nullable(),
  })
  .passthrough()
  .openapi("Experiment");

const Ci = z.array(z.number()).nullable();
export const ResultsSchema = z
  .object({
    experimentId: z.string(),
    campaignId: z.string(),
    status: z.enum(["running", "stopped"]),
    startedAt: z.string(),
    stoppedAt: z.string().nullable(),
    winner: z.string().nullable(),
    controlKey: z.string(),
    conversion: z.record(z.string(), z.unknown()),
    confidence: z.number(),
    decisionAlpha: z.number(),
    groups: z.array(
      z.object({
        key: z.string(),
        isControl: z.boolean(),
        exposures: z.number().int(),
        conversions: z.number().int(),
        rate: z.number().nullable(),
        revenue: z.number(),
        revenuePerMember: z.number().nullable(),
        neededMore: z.number().int().nullable(),
        vsControl: z
          .object({
            rate: z.object({
              rateA: z.number().nullable(),
              rateB: z.number().nullable(),
              absoluteLift: z.number().nullable(),
              relativeLift: z.number().nullable(),
              ci: Ci,
              z: z.number().nullable(),
              pValue: z.number().nullable(),
              significant: z.boolean(),
            }),
            revenue: z.object({
              difference: z.number().nullable(),
              ci: Ci,
              t: z.number().nullable(),
              df: z.number().nullable(),
              pValue: z.number().nullable(),
              significant: z.boolean(),
            }),
          })
          .nullable(),
      }),
    ),
    sampleSize: z.object({
      baselineRate: z.number().nullable(),
      minimumDetectableEffect: z.number(),
      requiredPerGroup: z.number().int().nullable(),
    }),
    stopRule: z.object({ stop: z.boolean(), reason: z.enum(["significant", "max_duration"]).nullable() }),
    recommendation: z.object({ winnerKey: z.string().nullable(), reason: z.string() }),
  })
  .openapi("ExperimentResults");
