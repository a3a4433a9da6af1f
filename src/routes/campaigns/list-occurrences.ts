import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { listOccurrences } from "../../services/campaigns/campaigns";
import { defineRoute } from "../route";
import { CampaignIdParam } from "./schemas";

const OccurrenceSchema = z
  .object({
    id: z.string(),
    memberId: z.string(),
    occurrenceKey: z.string(),
    variantKey: z.string().nullable(),
    outcome: z.string().openapi({
      description: "done (messages only), awarded, pending (award in flight), holdout, budget_exhausted, refused:<code>, cancelled",
    }),
    context: z.record(z.string(), z.unknown()).nullable(),
    createdAt: z.string(),
  })
  .openapi("CampaignOccurrence");

export const listCampaignOccurrencesRoute = defineRoute(
  {
    operationId: "campaigns.occurrences.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/campaigns/{campaignId}/occurrences",
    tags: ["Campaigns"],
    summary: "Who a campaign fired for, and what happened",
    description:
      "One row per (member, occurrence): a trigger fires at most once per occurrence key. Newest first, cursor-paged; outcomes counts all of them.",
    request: {
      params: CampaignIdParam,
      query: PaginationQuery.extend({ outcome: z.string().max(64).optional(), memberId: z.string().max(64).optional() }),
    },
    responses: {
      200: jsonResponse(
        z.object({ outcomes: z.record(z.string(), z.number()), data: z.array(OccurrenceSchema), nextCursor: z.string().nullable() }),
        "A page of occurrences",
      ),
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => {
    const { campaignId } = c.req.valid("param");
    return c.json(await listOccurrences({ ctx: c.var.ctx, input: { programId, campaignId, ...c.req.valid("query") } }), 200);
  },
);
