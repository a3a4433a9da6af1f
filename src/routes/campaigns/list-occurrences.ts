import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { listOccurrences } from "../../services/campaigns";
import { CampaignIdParam } from "./schemas";

const OccurrenceSchema = z
  .object({
    id: z.string(),
    memberId: z.string(),
    occurrenceKey: z.string(),
    variantKey: z.string().nullable(),
    outcome: z
      .string()
      .openapi({
        description: "done (messages only), awarded, pending (award in flight), holdout, budget_exhausted, refused:<code>, cancelled",
      }),
    context: z.record(z.string(), z.unknown()).nullable(),
    createdAt: z.string(),
  })
  .openapi("CampaignOccurrence");

export const route = createRoute({
  method: "get",
  path: "/v1/campaigns/{campaignId}/occurrences",
  tags: ["Campaigns"],
  summary: "Who a campaign fired for, and what happened",
  description:
    "Scope: admin. One row per (member, occurrence): a trigger fires at most once per occurrence key. Newest first, cursor-paged; outcomes counts all of them.",
  security: bearerSecurity,
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
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    const { campaignId } = c.req.valid("param");
    return c.json(await listOccurrences({ ctx: c.var.ctx, input: { programId, campaignId, ...c.req.valid("query") } }), 200);
  });
