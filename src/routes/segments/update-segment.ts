import { errorResponses, jsonBody, jsonResponse } from "../../lib/openapi";
import { updateSegment } from "../../services/segments/segments";
import { defineRoute } from "../route";
import { SegmentIdParam, SegmentSchema, UpdateSegmentBody } from "./schemas";

export const updateSegmentRoute = defineRoute(
  {
    operationId: "segments.update",
    principals: { scopes: ["admin"] },
    method: "patch",
    path: "/v1/segments/{segmentId}",
    tags: ["Segments"],
    summary: "Change a segment's name, description or rule",
    description: "A new rule is validated and membership recomputed in the same write.",
    request: { params: SegmentIdParam, body: jsonBody(UpdateSegmentBody) },
    responses: { 200: jsonResponse(SegmentSchema, "The updated segment"), ...errorResponses(404) },
  },
  async (c, { programId }) => {
    const { segmentId } = c.req.valid("param");
    return c.json(await updateSegment({ ctx: c.var.ctx, input: { programId, segmentId, patch: c.req.valid("json") } }), 200);
  },
);
