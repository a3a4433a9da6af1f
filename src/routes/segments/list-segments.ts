import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { listSegments } from "../../services/segments/segments";
import { defineRoute } from "../route";
import { SegmentSchema } from "./schemas";

export const listSegmentsRoute = defineRoute(
  {
    operationId: "segments.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/segments",
    tags: ["Segments"],
    summary: "List custom segments",
    description: "Cursor pagination: pass nextCursor back as cursor.",
    request: { query: PaginationQuery },
    responses: {
      200: jsonResponse(z.object({ data: z.array(SegmentSchema), nextCursor: z.string().nullable() }), "A page of segments"),
      ...errorResponses(),
    },
  },
  async (c, { programId }) => {
    return c.json(await listSegments({ ctx: c.var.ctx, input: { ...c.req.valid("query"), programId } }), 200);
  },
);
