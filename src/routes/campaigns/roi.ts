import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { campaignRoi } from "../../services/campaigns/roi";
import { defineRoute } from "../route";
import { CampaignIdParam } from "./schemas";

const RoiSchema = z
  .object({
    campaignId: z.string(),
    costMinor: z.number().int(),
    budgetMinor: z.number().int().nullable(),
    attribution: z.object({
      windowDays: z.number().int(),
      treatedMembers: z.number().int(),
      convertedMembers: z.number().int(),
      orders: z.number().int(),
      revenue: z.number(),
      roi: z.number().nullable(),
    }),
    incremental: z
      .object({
        windowDays: z.number().int(),
        treatedMembers: z.number().int(),
        holdoutMembers: z.number().int(),
        revenuePerTreatedMember: z.number().nullable(),
        revenuePerHoldoutMember: z.number().nullable(),
        incrementalRevenue: z.number().nullable(),
        incrementalRevenueCi: z.array(z.number()).nullable(),
        pValue: z.number().nullable(),
        roi: z.number().nullable(),
      })
      .nullable(),
    note: z.string().optional(),
  })
  .openapi("CampaignRoi");

export const getCampaignRoiRoute = defineRoute(
  {
    operationId: "campaigns.roi.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/campaigns/{campaignId}/roi",
    tags: ["Campaigns"],
    summary: "Campaign cost, attributed and incremental revenue, ROI",
    description:
      "Cost = points awarded at the program's cost per point + rewards at their cost. Attributed revenue = treated members' net orders within attributionDays of their first treatment. Incremental revenue (needs an experiment with a holdout) = (revenue per treated member − per held-out member) × treated members, with a 95 % CI. ROI = (revenue − cost) / cost.",
    request: { params: CampaignIdParam },
    responses: { 200: jsonResponse(RoiSchema, "ROI"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    return c.json((await campaignRoi({ ctx: c.var.ctx, input: { programId, campaignId: c.req.valid("param").campaignId } })) as never, 200);
  },
);
