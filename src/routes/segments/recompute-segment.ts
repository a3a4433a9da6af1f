import { errorResponses, jsonResponse } from "../../lib/openapi";
import { recomputeSegment } from "../../services/segments/segments";
import { defineRoute } from "../route";
import { SegmentIdParam, SegmentSchema } from "./schemas";

export const recomputeSegmentRoute = defineRoute(
  {
    operationId: "segments.recompute",
    principals: { scopes: ["admin"] },
    method: "post",
    path: "/v1/segments/{segmentId}/recompute",
    tags: ["Segments"],
    summary: "Recompute a segment's membership now",
    description: "Set-based: members who no longer match leave, new matches join (existing members keep their addedAt).",
    request: { params: SegmentIdParam },
    responses: { 200: jsonResponse(SegmentSchema, "The segment with its new member count"), ...errorResponses(404, 409) },
  },
  async (c, { programId }) => {
    return c.json(await recomputeSegment({ ctx: c.var.ctx, input: { programId, segmentId: c.req.valid("param").segmentId } }), 200);
  },
);
