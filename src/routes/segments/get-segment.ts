import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { getSegment } from "../../services/segments";
import { SegmentIdParam, SegmentSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/segments/{segmentId}",
  tags: ["Segments"],
  summary: "Get a custom segment",
  description: "Scopes: admin.",
  security: bearerSecurity,
  request: { params: SegmentIdParam },
  responses: { 200: jsonResponse(SegmentSchema, "The segment"), ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await getSegment({ ctx: c.var.ctx, input: { programId, segmentId: c.req.valid("param").segmentId } }), 200);
  });
