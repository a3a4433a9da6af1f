import { z } from "@hono/zod-openapi";

const Rate = z.number().nullable();
export const KpiFiguresSchema = z
  .object({
    members: z.object({
      total: z.number().int(),
      new: z.number().int(),
      new30d: z.number().int(),
      active30d: z.number().int().openapi({ description: "Members who bought in the 30 days" }),
      engaged30d: z.number().int().optional().openapi({ description: "Members who bought or reported an activity in the 30 days" }),
    }),
    activeRate: Rate.openapi({ description: "Active members / members, by `activeDefinition`" }),
    activeDefinition: z.enum(["purchases", "activities"]).optional().openapi({
      description:
        "What active means here (the program's lifecycle setting `recency`): purchases = bought in the 30 days (members.active30d); activities = bought or reported an activity such as a review, visit or app login (members.engaged30d)",
    }),
    retentionRate30d: Rate,
    repurchaseRate: Rate,
    conversionRate: Rate,
    revenue30d: z.number(),
    orders30d: z.number().int(),
    arpu30d: Rate,
    aov30d: Rate,
    points: z.object({
      issued: z.number().int(),
      redeemed: z.number().int(),
      expired: z.number().int(),
      outstanding: z.number().int(),
      debt: z.number().int().openapi({ description: "Points members owe after clawbacks found them spent" }),
    }),
    redemptionRate: Rate,
    breakageRate: Rate,
    pointsLiability: z
      .object({ points: z.number().int(), minor: z.number().int() })
      .openapi({ description: "Points outstanding net of members' points debt, and their cost" }),
    tierDistribution: z.record(z.string(), z.number().int()),
    stageDistribution: z.record(z.string(), z.number().int()),
    churnRate30d: Rate,
    averageClv12m: Rate,
    nps: z.object({
      score: z.number().nullable(),
      responses: z.number().int(),
      promoters: z.number().int(),
      passives: z.number().int(),
      detractors: z.number().int(),
    }),
  })
  .openapi("KpiFigures", {
    description: "Definitions: src/domain/kpis/definitions.ts. Rates are null when their denominator is 0; money in minor units.",
  });
