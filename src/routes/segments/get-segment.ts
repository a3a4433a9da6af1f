import { errorResponses, jsonResponse } from "../../lib/openapi";
import { getSegment } from "../../services/segments/segments";
import { defineRoute } from "../route";
import { SegmentIdParam, SegmentSchema } from "./schemas";

export const getSegmentRoute = defineRoute(
  {
    operationId: "segments.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/segments/{segmentId}",
    tags: ["Segments"],
    summary: "Get a custom segment",
    request: { params: SegmentIdParam },
    responses: { 200: jsonResponse(SegmentSchema, "The segment"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    return c.json(await getSegment({ ctx: c.var.ctx, input: { programId, segmentId: c.req.valid("param").segmentId } }), 200);
  },
);
