import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse } from "../../lib/openapi";
import { topClv } from "../../services/analytics/reports";
import { defineRoute } from "../route";
import { TopClvSchema } from "./schemas";

export const listTopClvMembersRoute = defineRoute(
  {
    operationId: "analytics.topClv.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/analytics/top-clv",
    tags: ["Analytics"],
    summary: "Members with the highest 12-month CLV",
    description: "CLV is discounted (1 % a month) expected revenue over 12 months, in minor units.",
    request: { query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }) },
    responses: { 200: jsonResponse(TopClvSchema, "Top members by CLV"), ...errorResponses() },
  },
  async (c, { programId }) => {
    return c.json(await topClv({ ctx: c.var.ctx, input: { programId, limit: c.req.valid("query").limit } }), 200);
  },
);
