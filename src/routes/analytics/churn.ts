import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { churnHistogram } from "../../services/analytics";
import { ChurnHistogramSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/analytics/churn",
  tags: ["Analytics"],
  summary: "Histogram of churn probability",
  description: "Scopes: admin. Equal-width buckets over [0, 1] of scored members' churn probability (1 − P(alive)).",
  security: bearerSecurity,
  request: { query: z.object({ buckets: z.coerce.number().int().min(2).max(100).default(10) }) },
  responses: { 200: jsonResponse(ChurnHistogramSchema, "The histogram"), ...errorResponses() },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await churnHistogram({ ctx: c.var.ctx, input: { programId, buckets: c.req.valid("query").buckets } }), 200);
  });
