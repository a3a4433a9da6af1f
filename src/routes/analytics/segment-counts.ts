import { errorResponses, jsonResponse } from "../../lib/openapi";
import { segmentCounts } from "../../services/analytics/reports";
import { defineRoute } from "../route";
import { SegmentCountsSchema } from "./schemas";

export const getSegmentCountsRoute = defineRoute(
  {
    operationId: "analytics.segments.get",
    principals: { scopes: ["admin"] },
    method: "get",
    path: "/v1/analytics/segments",
    tags: ["Analytics"],
    summary: "Members per value segment, lifecycle stage and custom segment",
    description: "Erased members are not counted; `none` = members without a purchase (no value segment).",
    responses: { 200: jsonResponse(SegmentCountsSchema, "Counts"), ...errorResponses() },
  },
  async (c, { programId }) => {
    return c.json(await segmentCounts({ ctx: c.var.ctx, input: { programId } }), 200);
  },
);
