import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { listSegmentMembers } from "../../services/segments";
import { SegmentIdParam, SegmentMemberSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/segments/{segmentId}/members",
  tags: ["Segments"],
  summary: "A page of a segment's members",
  description: "Scopes: admin. Ordered by member id; pass nextCursor back as cursor.",
  security: bearerSecurity,
  request: { params: SegmentIdParam, query: PaginationQuery },
  responses: {
    200: jsonResponse(z.object({ data: z.array(SegmentMemberSchema), nextCursor: z.string().nullable() }), "A page of members"),
    ...errorResponses(404),
  },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    const { segmentId } = c.req.valid("param");
    return c.json(await listSegmentMembers({ ctx: c.var.ctx, input: { ...c.req.valid("query"), programId, segmentId } }), 200);
  });
