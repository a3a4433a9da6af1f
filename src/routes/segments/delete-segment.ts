import { errorResponses } from "../../lib/openapi";
import { deleteSegment } from "../../services/segments/segments";
import { defineRoute } from "../route";
import { SegmentIdParam } from "./schemas";

export const deleteSegmentRoute = defineRoute(
  {
    operationId: "segments.delete",
    principals: { scopes: ["admin"] },
    method: "delete",
    path: "/v1/segments/{segmentId}",
    tags: ["Segments"],
    summary: "Delete a custom segment and its membership",
    request: { params: SegmentIdParam },
    responses: { 204: { description: "Deleted" }, ...errorResponses(404) },
  },
  async (c, { programId }) => {
    await deleteSegment({ ctx: c.var.ctx, input: { programId, segmentId: c.req.valid("param").segmentId } });
    return c.body(null, 204);
  },
);
