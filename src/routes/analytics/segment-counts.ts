import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { segmentCounts } from "../../services/analytics";
import { SegmentCountsSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/analytics/segments",
  tags: ["Analytics"],
  summary: "Members per value segment, lifecycle stage and custom segment",
  description: "Scopes: admin. Erased members are not counted; `none` = members without a purchase (no value segment).",
  security: bearerSecurity,
  responses: { 200: jsonResponse(SegmentCountsSchema, "Counts"), ...errorResponses() },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await segmentCounts({ ctx: c.var.ctx, input: { programId } }), 200);
  });
