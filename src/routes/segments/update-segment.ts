import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { updateSegment } from "../../services/segments";
import { SegmentIdParam, SegmentSchema, UpdateSegmentBody } from "./schemas";

export const route = createRoute({
  method: "patch",
  path: "/v1/segments/{segmentId}",
  tags: ["Segments"],
  summary: "Change a segment's name, description or rule",
  description: "Scopes: admin. A new rule is validated and membership recomputed in the same write.",
  security: bearerSecurity,
  request: { params: SegmentIdParam, body: jsonBody(UpdateSegmentBody) },
  responses: { 200: jsonResponse(SegmentSchema, "The updated segment"), ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    const { segmentId } = c.req.valid("param");
    return c.json(await updateSegment({ ctx: c.var.ctx, input: { programId, segmentId, patch: c.req.valid("json") } }), 200);
  });
