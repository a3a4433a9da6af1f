import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { deleteSegment } from "../../services/segments";
import { SegmentIdParam } from "./schemas";

export const route = createRoute({
  method: "delete",
  path: "/v1/segments/{segmentId}",
  tags: ["Segments"],
  summary: "Delete a custom segment and its membership",
  description: "Scopes: admin.",
  security: bearerSecurity,
  request: { params: SegmentIdParam },
  responses: { 204: { description: "Deleted" }, ...errorResponses(404) },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    await deleteSegment({ ctx: c.var.ctx, input: { programId, segmentId: c.req.valid("param").segmentId } });
    return c.body(null, 204);
  });
