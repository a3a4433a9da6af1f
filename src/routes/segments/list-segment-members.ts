import { z } from "@hono/zod-openapi";
import { errorResponses, jsonResponse, PaginationQuery } from "../../lib/openapi";
import { listSegmentMembers } from "../../services/segments/segments";
import { defineRoute } from "../route";
import { SegmentIdParam, SegmentMemberSchema } from "./schemas";

export const listSegmentMembersRoute = defineRoute(
  {
    operationId: "segments.members.list",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/segments/{segmentId}/members",
    tags: ["Segments"],
    summary: "A page of a segment's members",
    description: "Ordered by member id; pass nextCursor back as cursor.",
    request: { params: SegmentIdParam, query: PaginationQuery },
    responses: {
      200: jsonResponse(z.object({ data: z.array(SegmentMemberSchema), nextCursor: z.string().nullable() }), "A page of members"),
      ...errorResponses(404),
    },
  },
  async (c, { programId }) => {
    const { segmentId } = c.req.valid("param");
    return c.json(await listSegmentMembers({ ctx: c.var.ctx, input: { ...c.req.valid("query"), programId, segmentId } }), 200);
  },
);
