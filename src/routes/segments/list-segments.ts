import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../lib/context";
import { bearerSecurity, errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { authorize } from "../../middleware/auth";
import { listSegments } from "../../services/segments";
import { SegmentSchema } from "./schemas";

export const route = createRoute({
  method: "get",
  path: "/v1/segments",
  tags: ["Segments"],
  summary: "List custom segments",
  description: "Scopes: admin. Cursor pagination: pass nextCursor back as cursor.",
  security: bearerSecurity,
  request: { query: PaginationQuery },
  responses: {
    200: jsonResponse(z.object({ data: z.array(SegmentSchema), nextCursor: z.string().nullable() }), "A page of segments"),
    ...errorResponses(),
  },
});

export const register = (app: App) =>
  app.openapi(route, async (c) => {
    const { programId } = await authorize(c, ["admin"]);
    return c.json(await listSegments({ ctx: c.var.ctx, input: { ...c.req.valid("query"), programId } }), 200);
  });
