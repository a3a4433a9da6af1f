import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { recomputeSegment } from "../../services/segments";
import { SegmentIdParam, SegmentSchema } from "./schemas";

export const route = createRoute({
  method: "post",
  path: "/v1/segments/{segmentId}/recompute",
  tags: ["Segments"],
  summary: "Recompute a segment's membership now",
  description: "Scopes: admin. Set-based: members who no longer match leave, new matches join (existing members keep their addedAt).",
  security: bearerSecurity,
  request: { params: SegmentIdParam },
  responses: { 200: jsonResponse(SegmentSchema, "The segment with its new member count"), ...errorResponses(404, 409) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await recomputeSegment({ ctx: c.var.ctx, input: { programId, segmentId: c.req.valid("param").segmentId } }), 200);
  });
