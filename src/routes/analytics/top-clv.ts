import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { topClv } from "../../services/analytics";
import { TopClvSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/analytics/top-clv",
  tags: ["Analytics"],
  summary: "Members with the highest 12-month CLV",
  description: "Scopes: admin. CLV is discounted (1 % a month) expected revenue over 12 months, in minor units.",
  security: bearerSecurity,
  request: { query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }) },
  responses: { 200: jsonResponse(TopClvSchema, "Top members by CLV"), ...errorResponses() },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await topClv({ ctx: c.var.ctx, input: { programId, limit: c.req.valid("query").limit } }), 200);
  });
