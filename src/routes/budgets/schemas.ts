import { z } from "@hono/zod-openapi";

export const Period = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, "period must be a month, YYYY-MM")
  .openapi({ example: "2026-11" });
export const PeriodParam = z.object({ period: Period.openapi({ param: { name: "period", in: "path" } }) });
export const Money = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const BudgetSchema = z
  .object({
    period: z.string(),
    amountMinor: z.number().int(),
    campaignSpentMinor: z.number().int().openapi({
      description:
        "What campaigns awarded in the period (points at cost + rewards at cost), tracked live in the award batch; capped by amountMinor",
    }),
    remainingMinor: z.number().int(),
    utilisation: z.number().nullable(),
    programCost: z
      .object({
        pointsIssued: z.number().int(),
        campaignPointsIssued: z.number().int(),
        pointsCostMinor: z.number().int(),
        rewardsIssued: z.number().int(),
        rewardsCostMinor: z.number().int(),
        totalMinor: z.number().int(),
      })
      .openapi({
        description:
          "The whole program's cost in the period from the books: every point credited at the cost per point, every reward issued at its cost",
      }),
    createdAt: z.string(),
  })
  .openapi("Budget");
