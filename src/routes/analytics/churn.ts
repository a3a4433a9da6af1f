import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { churnHistogram } from "../../services/analytics/reports";
import { defineRoute } from "../route";
import { ChurnHistogramSchema } from "./schemas";

export const getChurnHistogramRoute = defineRoute(
  {
    operationId: "analytics.churn.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/analytics/churn",
    tags: ["Analytics"],
    summary: "Histogram of churn probability",
    description: "Equal-width buckets over [0, 1] of scored members' churn probability (1 − P(alive)).",
    request: { query: z.object({ buckets: z.coerce.number().int().min(2).max(100).default(10) }) },
    responses: { 200: jsonResponse(ChurnHistogramSchema, "The histogram"), ...errorResponses() },
  },
  async (c, { programId }) => {
    return c.json(await churnHistogram({ ctx: c.var.ctx, input: { programId, buckets: c.req.valid("query").buckets } }), 200);
  },
);
